"""Shared parts of the MQTT benchmarks: a Mosquitto with persistence on a free port, a migrated
database with connected machines, `mes mqtt` worker processes, and a QoS 1 publisher."""
from __future__ import annotations

import getpass
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
MES = str(Path(sys.executable).with_name("mes"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mosquitto:
    """Mosquitto as production should run it: persistence on, queues large enough for an outage."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        folder.mkdir(parents=True, exist_ok=True)
        self.conf = folder / "mosquitto.conf"
        self.conf.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
                             f"persistence_location {folder}/\nautosave_interval 1\nmax_queued_messages 1000000\n"
                             f"max_inflight_messages 1000\nuser {getpass.getuser()}\n")
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(["/usr/sbin/mosquitto", "-c", str(self.conf)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(20)
            self.process = None


def database(kind: str, folder: Path) -> tuple[str, object]:
    """A migrated database (sqlite in ``folder``, or a new PostgreSQL database) and a cleanup."""
    if kind == "sqlite":
        url = f"sqlite:///{folder / 'mes.db'}"
        cleanup = None
    else:
        name = f"mes_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(make_url(kind).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(kind).set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)

        def cleanup() -> None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    env = dict(os.environ, MES_DATABASE_URL=url, MES_INSTANCE_PATH=str(folder), MES_SECRET_KEY="bench")
    subprocess.run([MES, "db", "upgrade"], env=env, check=True, capture_output=True)
    return url, cleanup


def seed_machines(url: str, count: int) -> list[str]:
    """``count`` connected machines in one work center; their codes."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    codes = [f"B{i:03d}" for i in range(count)]
    with engine.begin() as conn:
        wc = conn.execute(text("INSERT INTO work_center (code, name, default_changeover_minutes, active, version) "
                               "VALUES ('BENCH', 'Bench', 0, true, 1) RETURNING id")).scalar()
        for code in codes:
            conn.execute(text("INSERT INTO machine (code, name, work_center_id, has_data_connection, status, speed_factor,"
                              " created_at, version) VALUES (:c, :c, :wc, true, 'available', 1, CURRENT_TIMESTAMP, 1)"),
                         {"c": code, "wc": wc})
    engine.dispose()
    return codes


def totals(url: str) -> tuple[int, int]:
    """(readings, good pieces counted) in the database."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        row = conn.execute(text("SELECT count(*), coalesce(sum(good_delta), 0) FROM machine_counter_reading")).one()
    engine.dispose()
    return int(row[0]), int(row[1])


class WorkerProcess:
    def __init__(self, url: str, broker_url: str, folder: Path, client_id: str, group: str | None = None) -> None:
        self.env = dict(os.environ, MES_DATABASE_URL=url, MES_INSTANCE_PATH=str(folder), MES_SECRET_KEY="bench",
                        MES_MQTT_URL=broker_url, MES_MQTT_CLIENT_ID=client_id)
        if group:
            self.env["MES_MQTT_SHARED_GROUP"] = group
        self.log = folder / f"{client_id}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def _subscriptions(self) -> int:
        return self.log.read_text(errors="replace").count("subscribed to") if self.log.exists() else 0

    def start(self) -> None:
        self._mark = self._subscriptions()
        self.process = subprocess.Popen([MES, "mqtt"], env=self.env, stdout=self.log.open("ab"),
                                        stderr=subprocess.STDOUT)

    def wait_subscribed(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while self._subscriptions() <= self._mark:
            if time.monotonic() > deadline:
                raise RuntimeError(f"worker did not subscribe: {self.log.read_text()[-2000:]}")
            time.sleep(0.05)
        time.sleep(0.3)  # the SUBACK follows

    def kill(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(20)
            self.process = None


class Publisher:
    """A gateway with a persistent session: QoS 1 messages published while the broker is away are
    kept and sent when it is back."""

    def __init__(self, port: int, client_id: str = "bench-gateway") -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311,
                                  clean_session=False)
        self.client.max_inflight_messages_set(1000)
        self.client.max_queued_messages_set(0)
        self.client.reconnect_delay_set(1, 2)
        self.acked: set[int] = set()
        # Messages published while the broker is away are queued (their info says "not connected")
        # and sent on reconnection; the broker's PUBACK is what counts.
        self.client.on_publish = lambda _c, _u, mid, _rc, _p: self.acked.add(mid)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.infos: list[mqtt.MQTTMessageInfo] = []

    def send(self, topic: str, payload: dict) -> None:
        self.infos.append(self.client.publish(topic, json.dumps(payload), qos=1))

    def wait_all(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        for info in self.infos:
            while info.mid not in self.acked:
                if time.monotonic() > deadline:
                    raise RuntimeError("publisher: messages not acknowledged by the broker in time")
                time.sleep(0.01)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
