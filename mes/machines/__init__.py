"""Work centers, machines, their shift calendars and downtime; later their MQTT data and OEE."""
