"""Machine data: states and part counts over MQTT, the state timeline, and OEE for every machine."""
