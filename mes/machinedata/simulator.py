"""``mes simulate``: machines that publish like real gateways, for the demo and for trying a
deployment. Each connected machine runs cycles as long as its routings say (the run minutes of
the operations it is eligible for, sped up by ``speed``), stops now and then for a micro-stop, a
breakdown or a setup, and its gateway misbehaves as real ones do: the counter is reset once in a
while, a message is sent twice, another arrives late."""
from __future__ import annotations

import datetime as dt
import json
import logging
import random
import threading
from dataclasses import dataclass, field
from statistics import mean

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import select

from mes.core.db import get_db, utcnow
from mes.machinedata.worker import parse_url
from mes.machines.models import Machine, MachineStatus
from mes.orders.models import OperationMachine

log = logging.getLogger("mes.simulate")


@dataclass
class SimMachine:
    code: str
    cycle_seconds: float  # real seconds per piece at the chosen speed
    state: str = "off"
    until: float = 0.0  # simulated seconds when the current state ends
    good: int = 0
    scrap: int = 0
    next_piece: float = 0.0
    late: list[tuple[dt.datetime, int, int]] = field(default_factory=list)
    made: int = 0  # pieces made since the start (what the counters should add up to)


def machines_to_simulate(speed: float) -> list[SimMachine]:
    """The connected machines, each with a cycle from the run minutes of its operations."""
    with get_db().read_session() as s:
        rows = s.scalars(select(Machine).where(Machine.has_data_connection, Machine.status != MachineStatus.RETIRED)
                         .order_by(Machine.code)).all()
        out = []
        for m in rows:
            minutes = [float(x) for x in s.scalars(select(OperationMachine.run_minutes)
                                                   .where(OperationMachine.machine_id == m.id)) if x]
            per_piece = mean(minutes) if minutes else 1.0
            out.append(SimMachine(code=m.code, cycle_seconds=max(per_piece * 60 / speed, 0.05)))
    return out


class Simulator:
    def __init__(self, url: str, site: str = "demo", speed: float = 20.0, seed: int | None = None,
                 protocol: int = mqtt.MQTTv5) -> None:
        broker = parse_url(url)
        self.site, self.speed = site, speed
        self.rng = random.Random(seed)
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"mes-simulator-{self.rng.randrange(10**6)}",
                                  protocol=protocol)
        if broker.username:
            self.client.username_pw_set(broker.username, broker.password)
        if broker.tls:
            self.client.tls_set()
        self.client.reconnect_delay_set(1, 10)
        self.client.connect_async(broker.host, broker.port)
        self.sent = 0
        self.machines: list[SimMachine] = []

    def publish(self, machine: SimMachine, kind: str, payload: dict) -> None:
        self.client.publish(f"mes/{self.site}/{machine.code}/{kind}", json.dumps(payload), qos=1)
        self.sent += 1

    def _state(self, m: SimMachine, state: str, now: dt.datetime, sim: float, seconds: float,
               reason: str | None = None) -> None:
        m.state, m.until = state, sim + seconds
        payload = {"ts": now.isoformat(), "state": state}
        if reason:
            payload["reason"] = reason
        self.publish(m, "state", payload)

    def _count(self, m: SimMachine, now: dt.datetime) -> None:
        payload = {"ts": int(now.timestamp() * 1000), "good": m.good, "scrap": m.scrap}
        if self.rng.random() < 0.03:  # a late message: held back, sent a few ticks later
            m.late.append((now, m.good, m.scrap))
            return
        self.publish(m, "count", payload)
        if self.rng.random() < 0.03:  # a redelivery
            self.publish(m, "count", payload)

    def tick(self, machines: list[SimMachine], sim: float) -> None:
        """Advance every machine to simulated second ``sim``."""
        now = utcnow()
        r = self.rng.random
        for m in machines:
            if m.late and r() < 0.3:
                ts, good, scrap = m.late.pop(0)
                self.publish(m, "count", {"ts": int(ts.timestamp() * 1000), "good": good, "scrap": scrap})
            if m.state != "running" and sim >= m.until:
                self._state(m, "running", now, sim, self.rng.uniform(600, 3600))
                m.next_piece = sim
            elif m.state == "running":
                if sim >= m.until:  # a planned change: setup for the next job
                    self._state(m, "setup", now, sim, self.rng.uniform(120, 900))
                    continue
                if r() < 0.004:
                    self._state(m, "down", now, sim, self.rng.uniform(300, 1800), reason=self.rng.choice(
                        ["E-STOP", "TOOL-BREAK", "HYDRAULIC-PRESSURE", "DOOR-OPEN"]))
                    self.publish(m, "alarm", {"ts": now.isoformat(), "code": "A100", "text": "Machine fault", "active": True})
                    continue
                if r() < 0.02:
                    self._state(m, "idle", now, sim, self.rng.uniform(20, 240), reason="micro-stop")
                    continue
                made = False
                while sim >= m.next_piece:
                    m.next_piece += m.cycle_seconds * self.speed * self.rng.uniform(0.9, 1.3)
                    if r() < 0.02:
                        m.scrap += 1
                    else:
                        m.good += 1
                    m.made += 1
                    made = True
                if made:
                    if r() < 0.002:  # someone pressed the counter's reset
                        m.good, m.scrap = 0, 0
                    self._count(m, now)

    def run(self, stop: threading.Event, tick_seconds: float = 1.0) -> None:
        machines = machines_to_simulate(self.speed)
        self.machines = machines
        log.info("simulating %s machines at %sx", len(machines), self.speed)
        self.client.loop_start()
        start = utcnow()
        for m in machines:
            m.until = 0
            m.good = self.rng.randrange(0, 50000)
        try:
            while not stop.wait(tick_seconds):
                sim = (utcnow() - start).total_seconds() * self.speed
                self.tick(machines, sim)
        finally:
            self.client.disconnect()
            self.client.loop_stop()
