"""The ingestion worker against a real Mosquitto: default topics and a machine's own mapping,
counter resets and rollovers, duplicates and late messages counted once, bad messages to the
dead-letter list (the worker carries on), a broker restart, and two workers sharing the load."""
from __future__ import annotations

import datetime as dt
import json
import random
import time

import pytest
from sqlalchemy import func, select

from mes.core.db import session, transaction
from mes.machinedata.models import (
    CounterReading,
    DeadLetter,
    MachineAlarm,
    MachineLive,
    StateEvent,
    TopicMapping,
)
from tests.machinedata.broker import Publisher
from tests.machinedata.conftest import wait_for

BASE = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=2)


def ts(seconds: float) -> str:
    return (BASE + dt.timedelta(seconds=seconds)).isoformat()


def ms(seconds: float) -> int:
    return int((BASE + dt.timedelta(seconds=seconds)).timestamp() * 1000)


def fresh():  # type: ignore[no-untyped-def]
    session().rollback()
    return session()


def totals(machine_id: int) -> tuple[int, int]:
    s = fresh()
    good, scrap = s.execute(select(func.coalesce(func.sum(CounterReading.good_delta), 0),
                                   func.coalesce(func.sum(CounterReading.scrap_delta), 0))
                            .where(CounterReading.machine_id == machine_id)).one()
    return int(good), int(scrap)


def readings(machine_id: int) -> int:
    return fresh().scalar(select(func.count()).select_from(CounterReading).where(CounterReading.machine_id == machine_id))


def dead_reasons() -> list[str]:
    return list(fresh().scalars(select(DeadLetter.reason).order_by(DeadLetter.id)))


def test_default_topics_state_count_alarm(plant, publisher, start_worker):
    start_worker()
    topic = "mes/plant1/L-NEW"
    publisher.send(f"{topic}/state", {"ts": ts(0), "state": "running"})
    publisher.send(f"{topic}/count", {"ts": ts(1), "good": 1000, "scrap": 10})
    publisher.send(f"{topic}/count", {"ts": ms(61), "good": 1012, "scrap": 11})
    publisher.send(f"{topic}/state", {"ts": ts(90), "state": "down", "reason": "E-STOP"})
    publisher.send(f"{topic}/alarm", {"ts": ts(90), "code": "E42", "text": "Spindle overload", "active": True})
    wait_for(lambda: fresh().scalar(select(func.count()).select_from(MachineAlarm)) == 1)
    assert totals(plant.new) == (12, 1)  # the first reading is the baseline
    states = fresh().execute(select(StateEvent.state, StateEvent.reason).where(StateEvent.machine_id == plant.new)
                             .order_by(StateEvent.ts)).all()
    assert [(s.value, r) for s, r in states] == [("running", None), ("down", "E-STOP")]
    live = fresh().get(MachineLive, plant.new)
    assert live.state.value == "down" and live.state_since == BASE + dt.timedelta(seconds=90)
    assert live.good == 1012 and live.clock_offset_seconds < -3600  # two hours behind: flagged
    alarm = fresh().scalar(select(MachineAlarm))
    assert (alarm.code, alarm.text, alarm.active) == ("E42", "Spindle overload", True)
    assert dead_reasons() == []


def test_a_machines_own_topics_and_fields(plant, publisher, start_worker):
    with transaction() as s:
        s.add(TopicMapping(machine_id=plant.m1, state_topic="factory/+/mill7/status", count_topic="factory/line1/mill7/pcs",
                           ts_path="time", state_path="data.st", state_map=json.dumps({"1": "running", "0": "idle",
                                                                                       "9": "down"}),
                           good_path="data.counters.0", scrap_path="data.counters.1", counter_max=65535))
    start_worker()
    publisher.send("factory/line1/mill7/status", {"time": ms(0), "data": {"st": 1}})
    publisher.send("factory/line1/mill7/pcs", {"time": ms(0), "data": {"counters": [65530, 3]}})
    publisher.send("factory/line1/mill7/pcs", {"time": ms(60), "data": {"counters": [4, 3]}})  # wrapped
    publisher.send("factory/line1/mill7/status", {"time": ms(61), "data": {"st": 7}})  # not in the map
    publisher.send("factory/line1/mill7/status", {"time": ms(62), "data": {"st": 9}})
    wait_for(lambda: fresh().scalar(select(func.count()).select_from(StateEvent)) == 2)
    assert totals(plant.m1) == (10, 0)
    assert fresh().scalar(select(CounterReading.event).order_by(CounterReading.ts.desc()).limit(1)) == "rollover"
    assert [s.value for s in fresh().scalars(select(StateEvent.state).order_by(StateEvent.ts))] == ["running", "down"]
    assert dead_reasons() == ["unknown_state"]


def test_reset_duplicates_and_late_messages_count_once(plant, publisher, start_worker):
    start_worker()
    # The gateway's story: counts up, is reset at t=300, counts on. 75 good, 6 scrap made.
    story = [(0, 100, 5), (60, 120, 6), (120, 140, 6), (180, 150, 8), (240, 165, 9),
             (300, 3, 0), (360, 20, 1), (420, 40, 2), (480, 60, 3)]
    made_good = 20 + 20 + 10 + 15 + 3 + 17 + 20 + 20
    made_scrap = 1 + 0 + 2 + 1 + 0 + 1 + 1 + 1
    rnd = random.Random(7)
    first, rest = story[0], story[1:]
    sent = [first] + rnd.sample(rest, len(rest)) + rnd.sample(story, 4)  # out of order, and again
    for t, good, scrap in sent:
        publisher.send("mes/p/L-NEW/count", {"ts": ts(t), "good": good, "scrap": scrap})
    wait_for(lambda: readings(plant.new) == len(story))
    wait_for(lambda: fresh().get(MachineLive, plant.new).counter_ts == BASE + dt.timedelta(seconds=480))
    time.sleep(0.5)  # the duplicates, after the last new reading, must change nothing
    assert totals(plant.new) == (made_good, made_scrap)
    assert fresh().scalar(select(func.count()).select_from(CounterReading).where(CounterReading.event == "reset")) == 1
    assert dead_reasons() == []


@pytest.mark.parametrize("payload, reason", [
    (b"not json at all", "not_json"),
    (b"\xff\xfe", "not_json"),
    (json.dumps({"good": 5}).encode(), "missing_field"),
    (json.dumps({"ts": "yesterday", "good": 5}).encode(), "bad_timestamp"),
    (json.dumps({"ts": True, "good": 5}).encode(), "bad_timestamp"),
    (json.dumps({"ts": "2099-01-01T00:00:00Z", "good": 5}).encode(), "future_timestamp"),
    (json.dumps({"ts": "2026-06-01T08:00:00Z", "good": "many"}).encode(), "wrong_type"),
    (json.dumps({"ts": "2026-06-01T08:00:00Z", "good": -3}).encode(), "wrong_type"),
    (json.dumps({"ts": "2026-06-01T08:00:00Z", "good": 1.5}).encode(), "wrong_type"),
    (json.dumps([1, 2, 3]).encode(), "missing_field"),
    (b"x" * 20000, "too_large"),
])
def test_malformed_payloads_go_to_dead_letters(plant, publisher, start_worker, payload, reason):
    start_worker()
    publisher.send("mes/p/L-NEW/count", payload)
    publisher.send("mes/p/L-NEW/count", {"ts": ts(0), "good": 1, "scrap": 0})  # the worker carries on
    wait_for(lambda: readings(plant.new) == 1)
    letter = fresh().scalar(select(DeadLetter))
    assert (letter.reason, letter.topic) == (reason, "mes/p/L-NEW/count")
    assert letter.payload  # kept for the administrator (cut when long)
    assert totals(plant.new) == (0, 0)


def test_unknown_machines_topics_and_jumps(plant, publisher, start_worker):
    start_worker()
    publisher.send("mes/p/NO-SUCH/state", {"ts": ts(0), "state": "running"})
    publisher.send("mes/p/L-NEW/bogus", {"ts": ts(0)})
    publisher.send("mes/p/L-NEW/count", {"ts": ts(0), "good": 10, "scrap": 0})
    publisher.send("mes/p/L-NEW/count", {"ts": ts(30), "good": 10 + 5000, "scrap": 0})  # not in 30 s
    publisher.send("mes/p/L-NEW/count", {"ts": ts(60), "good": 30, "scrap": 0})
    wait_for(lambda: len(dead_reasons()) == 3 and readings(plant.new) == 2)
    assert sorted(dead_reasons()) == ["implausible_jump", "unknown_machine", "unknown_topic"]
    assert totals(plant.new) == (20, 0)


def test_nothing_lost_over_a_broker_restart_and_a_worker_outage(plant, broker, start_worker):
    worker = start_worker(client_id="mes-restart")
    pub = Publisher(broker.port, "gw-1")
    pub.send("mes/p/L-NEW/count", {"ts": ts(0), "good": 0, "scrap": 0})
    wait_for(lambda: readings(plant.new) == 1)
    pub.close()
    broker.restart()
    wait_for(lambda: worker.worker._connected.is_set(), timeout=40)
    pub = Publisher(broker.port, "gw-2")
    for i in range(1, 21):
        pub.send("mes/p/L-NEW/count", {"ts": ts(i), "good": i, "scrap": 0})
    wait_for(lambda: readings(plant.new) == 21)
    assert worker.worker.stats.connects >= 2
    # The worker goes away; its persistent session queues what comes meanwhile, through a restart.
    worker.stop()
    for i in range(21, 61):
        pub.send("mes/p/L-NEW/count", {"ts": ts(i), "good": i, "scrap": 0})
    pub.close()
    broker.restart()
    start_worker(client_id="mes-restart")
    wait_for(lambda: readings(plant.new) == 61, timeout=30)
    assert totals(plant.new) == (60, 0)


def test_two_workers_share_a_subscription(plant, publisher, start_worker):
    a = start_worker(client_id="mes-a", shared_group="mes")
    b = start_worker(client_id="mes-b", shared_group="mes")
    for i in range(300):
        machine = ("L-NEW", "L-OLD", "M-1")[i % 3]
        publisher.send(f"mes/p/{machine}/count", {"ts": ts(i // 3), "good": 2 * (i // 3), "scrap": 0})
    for i in range(0, 300, 7):  # redeliveries of some
        machine = ("L-NEW", "L-OLD", "M-1")[i % 3]
        publisher.send(f"mes/p/{machine}/count", {"ts": ts(i // 3), "good": 2 * (i // 3), "scrap": 0})
    wait_for(lambda: sum(readings(m) for m in (plant.new, plant.old, plant.m1)) == 300, timeout=30)
    wait_for(lambda: a.worker.stats.committed + b.worker.stats.committed >= 300 + 43)
    assert a.worker.stats.received > 0 and b.worker.stats.received > 0
    for machine in (plant.new, plant.old, plant.m1):
        assert totals(machine) == (2 * 99, 0)


def test_tls_with_the_plants_own_ca(plant, tmp_path, app):
    """mqtts:// with MES_MQTT_CA_FILE: the worker checks the broker's certificate."""
    from mes.machinedata import worker as ingest_worker
    from tests.machinedata.broker import Mosquitto, make_certificates
    from tests.machinedata.conftest import RunningWorker

    ca, cert, key = make_certificates(tmp_path / "certs")
    server = Mosquitto(tmp_path / "tls-broker", tls=(ca, cert, key))
    server.start()
    try:
        running = RunningWorker(app, ingest_worker.Settings(url=server.url, client_id="mes-tls", ca_file=str(ca))).start()
        pub = Publisher(server.port, "gw-tls", ca=ca)
        pub.send("mes/p/L-NEW/count", {"ts": ts(0), "good": 5, "scrap": 0})
        pub.send("mes/p/L-NEW/count", {"ts": ts(60), "good": 9, "scrap": 0})
        wait_for(lambda: readings(plant.new) == 2)
        assert totals(plant.new) == (4, 0)
        pub.close()
        running.stop()
    finally:
        server.stop(kill=True)
