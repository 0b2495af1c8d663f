"""The ingestion worker (``mes mqtt``): subscribes to the machines' topics with QoS 1 on a
persistent MQTT 5 session, writes what arrives in batches through :mod:`mes.machinedata.ingest`,
and acknowledges each message only after the batch's commit, so a crash or a broker restart
redelivers instead of losing. Several workers share the load through a shared subscription
(``$share/<group>/...``); the database, not a worker's memory, makes redeliveries count once.

paho runs the network on its own thread: ``on_message`` only queues; the main thread writes and
acknowledges. Acknowledgements go out in the order the messages came, as MQTT requires, and only
on the connection that delivered them (a message from a lost connection is redelivered anyway)."""
from __future__ import annotations

import logging
import queue
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from mes.core.db import utcnow
from mes.machinedata import facts, ingest
from mes.machinedata.payloads import Router

log = logging.getLogger("mes.mqtt")
#: How often the worker looks for machines down too long.
LONG_STOP_CHECK_SECONDS = 30


@dataclass(frozen=True)
class Broker:
    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool


def parse_url(url: str) -> Broker:
    """``mqtt://user:pass@host:port`` (``mqtts://`` for TLS; ports default to 1883 and 8883)."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl") or not parts.hostname:
        raise ValueError(f"MES_MQTT_URL must look like mqtt://user:password@host:1883, not {url!r}")
    tls = parts.scheme in ("mqtts", "ssl")
    return Broker(host=parts.hostname, port=parts.port or (8883 if tls else 1883),
                  username=unquote(parts.username) if parts.username else None,
                  password=unquote(parts.password) if parts.password else None, tls=tls)


@dataclass(frozen=True)
class Settings:
    url: str
    client_id: str = f"mes-ingest-{socket.gethostname()}"
    shared_group: str | None = None
    batch_size: int = 500
    batch_wait: float = 0.05  # seconds a batch waits to fill
    session_expiry: int = 7 * 24 * 3600  # the broker keeps our queue this long while we are away
    keepalive: int = 30
    receive_maximum: int = 1000  # unacknowledged messages the broker may send us at once
    router_refresh: float = 10.0  # seconds between re-reading machines and mappings
    ca_file: str | None = None
    protocol: int = 5  # 5: MQTT 5; 4: MQTT 3.1.1 (a persistent session, no shared subscriptions)


@dataclass
class Stats:
    received: int = 0
    committed: int = 0
    acked: int = 0
    duplicates: int = 0
    dead: int = 0
    pieces: int = 0
    batches: int = 0
    connects: int = 0
    lag_seconds: float = 0.0  # receipt to commit, the last batch's oldest message


class Worker:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.broker = parse_url(settings.url)
        self.stats = Stats()
        self._queue: queue.Queue[tuple[int, int, int, ingest.Message]] = queue.Queue()
        self._generation = 0
        self._connected = threading.Event()
        self._subscribed: set[str] = set()
        self._router: Router | None = None
        self._router_at = 0.0
        if settings.protocol == 4:
            client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=settings.client_id, protocol=mqtt.MQTTv311,
                                 clean_session=False, manual_ack=True)
        else:
            client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=settings.client_id, protocol=mqtt.MQTTv5,
                                 manual_ack=True)
        if self.broker.username:
            client.username_pw_set(self.broker.username, self.broker.password)
        if self.broker.tls:
            client.tls_set(ca_certs=settings.ca_file, tls_version=ssl.PROTOCOL_TLS_CLIENT)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        self.client = client

    # --- the network thread ---

    def _filters(self) -> list[str]:
        router = self._router or ingest.load_router()
        group = self.settings.shared_group
        return [f"$share/{group}/{f}" if group else f for f in router.subscriptions()]

    def _on_connect(self, client: mqtt.Client, _userdata: Any, flags: Any, reason_code: Any, _props: Any) -> None:
        if reason_code.is_failure:
            log.warning("broker refused the connection: %s", reason_code)
            return
        self._generation += 1
        self.stats.connects += 1
        filters = self._filter_cache
        client.subscribe([(f, 1) for f in filters])
        self._subscribed = set(filters)
        log.info("connected to %s:%s (session present: %s), subscribed to %s", self.broker.host, self.broker.port,
                 flags.session_present, ", ".join(filters))

    def _on_subscribe(self, _client: mqtt.Client, _userdata: Any, _mid: int, reason_codes: Any, _props: Any) -> None:
        failed = [str(code) for code in reason_codes if code.is_failure]
        if failed:
            log.error("broker refused a subscription: %s", ", ".join(failed))
        self._connected.set()  # connected and listening

    def _on_disconnect(self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason_code: Any, _props: Any) -> None:
        self._connected.clear()
        log.warning("disconnected (%s); reconnecting with back-off", reason_code)

    def _on_message(self, _client: mqtt.Client, _userdata: Any, msg: mqtt.MQTTMessage) -> None:
        self._queue.put((self._generation, msg.mid, msg.qos, ingest.Message(msg.topic, msg.payload, utcnow())))

    # --- the main thread ---

    def start(self) -> None:
        self._router = ingest.load_router()
        self._router_at = time.monotonic()
        self._filter_cache = self._filters()
        if self.settings.protocol == 4:
            self.client.connect_async(self.broker.host, self.broker.port, keepalive=self.settings.keepalive)
        else:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = self.settings.session_expiry
            props.ReceiveMaximum = self.settings.receive_maximum
            self.client.connect_async(self.broker.host, self.broker.port, keepalive=self.settings.keepalive,
                                      clean_start=False, properties=props)
        self.client.loop_start()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def run(self, stop: threading.Event) -> None:
        """Write and acknowledge until ``stop`` is set."""
        self.start()
        try:
            checked = 0.0
            while not stop.is_set():
                self.step(timeout=0.2)
                self._refresh_router()
                if time.monotonic() - checked > LONG_STOP_CHECK_SECONDS:
                    checked = time.monotonic()
                    self._mark_long_stops()
        finally:
            self.stop()

    def _mark_long_stops(self) -> None:
        try:
            for machine_id in facts.mark_long_stops():
                log.warning("machine %s down too long: marked unavailable for planning", machine_id)
        except Exception:
            log.exception("could not check long stops")

    def _refresh_router(self) -> None:
        if time.monotonic() - self._router_at < self.settings.router_refresh:
            return
        self._router = ingest.load_router()
        self._router_at = time.monotonic()
        self._filter_cache = self._filters()
        new = [f for f in self._filter_cache if f not in self._subscribed]
        if new and self._connected.is_set():
            self.client.subscribe([(f, 1) for f in new])
            self._subscribed.update(new)

    def _drain(self, timeout: float) -> list[tuple[int, int, int, ingest.Message]]:
        try:
            first = self._queue.get(timeout=timeout)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + self.settings.batch_wait
        while len(batch) < self.settings.batch_size:
            remaining = deadline - time.monotonic()
            try:
                batch.append(self._queue.get(timeout=max(remaining, 0)) if remaining > 0 else self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def step(self, timeout: float = 0.2) -> int:
        """Write one batch (waiting up to ``timeout`` for its first message) and acknowledge it."""
        batch = self._drain(timeout)
        if not batch:
            return 0
        self.stats.received += len(batch)
        messages = [m for _g, _mid, _qos, m in batch]
        delay = 0.5
        while True:
            try:
                outcome = ingest.ingest_safely(messages, self._router or ingest.load_router())
                break
            except Exception:
                log.exception("database unavailable; retrying in %.1f s", delay)
                time.sleep(delay)
                delay = min(delay * 2, 30)
        now = utcnow()
        self.stats.lag_seconds = (now - messages[0].received_at).total_seconds()
        self.stats.batches += 1
        self.stats.committed += len(batch)
        self.stats.duplicates += outcome.duplicates
        self.stats.dead += outcome.dead
        self.stats.pieces += outcome.pieces
        current = self._generation
        for generation, mid, qos, _m in batch:
            if qos > 0 and generation == current:
                self.client.ack(mid, qos)
                self.stats.acked += 1
        return len(batch)


def settings_from_config(config: Any, **overrides: Any) -> Settings:
    values = {
        "url": config.get("MQTT_URL") or "",
        "protocol": 4 if str(config.get("MQTT_PROTOCOL", "5")) in ("4", "3.1.1") else 5,
        "shared_group": config.get("MQTT_SHARED_GROUP") or None,
        "ca_file": config.get("MQTT_CA_FILE") or None,
    }
    if config.get("MQTT_CLIENT_ID"):
        values["client_id"] = config["MQTT_CLIENT_ID"]
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**values)


