"""Reading topics and payloads, pure: field paths, topic filters, timestamps, the broker URL."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest

from mes.machinedata import payloads
from mes.machinedata.payloads import (
    DEFAULT,
    FieldMap,
    Rejected,
    Router,
    get_path,
    topic_matches,
)
from mes.machinedata.worker import parse_url

NOW = dt.datetime(2026, 6, 1, 8, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def test_field_paths():
    data = {"a": {"b": [10, {"c": "x"}]}, "v": 0}
    assert get_path(data, "a.b.0") == 10
    assert get_path(data, "a.b.1.c") == "x"
    assert get_path(data, "a.b.-1.c") == "x"
    assert get_path(data, "v") == 0
    assert get_path(data, "a.b.5") is payloads._MISSING
    assert get_path(data, "a.x") is payloads._MISSING


@pytest.mark.parametrize("pattern, topic, match", [
    ("a/+/c", "a/b/c", True), ("a/+/c", "a/b/d", False), ("a/#", "a/b/c/d", True), ("a/#", "a", True),
    ("a/b", "a/b/c", False), ("+/+", "a/b", True), ("a/+", "a/b/c", False),
])
def test_topic_filters(pattern, topic, match):
    assert topic_matches(pattern, topic) is match


def test_timestamps():
    assert payloads.parse_ts("2026-06-01T10:00:00+02:00", NOW, HOUR) == NOW
    assert payloads.parse_ts("2026-06-01T08:00:00Z", NOW, HOUR) == NOW
    assert payloads.parse_ts("2026-06-01T08:00:00", NOW, HOUR) == NOW  # no zone: UTC
    assert payloads.parse_ts(int(NOW.timestamp() * 1000), NOW, HOUR) == NOW
    for bad in ("soon", True, None, [], -5, float("nan"), "1970-01-01T00:00:00Z"):
        with pytest.raises(Rejected) as e:
            payloads.parse_ts(bad, NOW, HOUR)
        assert e.value.reason == payloads.BAD_TIMESTAMP
    with pytest.raises(Rejected) as e:
        payloads.parse_ts((NOW + 2 * HOUR).isoformat(), NOW, HOUR)
    assert e.value.reason == payloads.FUTURE_TIMESTAMP


def test_states_counts_and_alarms():
    mapping = FieldMap(state_path="s", state_map={"1": "running", "true": "idle"})
    assert payloads.parse_state(b'{"ts": "2026-06-01T08:00:00Z", "s": 1}', mapping, NOW, HOUR).state == "running"
    assert payloads.parse_state(b'{"ts": "2026-06-01T08:00:00Z", "s": true}', mapping, NOW, HOUR).state == "idle"
    assert payloads.parse_state(b'{"ts": "2026-06-01T08:00:00Z", "s": "DOWN"}', mapping, NOW, HOUR).state == "down"
    count = payloads.parse_count(b'{"ts": "2026-06-01T08:00:00Z", "good": "12"}', DEFAULT, NOW, HOUR)
    assert (count.good, count.scrap) == (12, 0)
    alarm = payloads.parse_alarm(b'{"ts": "2026-06-01T08:00:00Z", "code": 7, "active": 0}', DEFAULT, NOW, HOUR)
    assert (alarm.code, alarm.active, alarm.text) == ("7", False, None)
    with pytest.raises(Rejected):
        payloads.parse_alarm(b'{"ts": "2026-06-01T08:00:00Z", "code": 7, "active": "maybe"}', DEFAULT, NOW, HOUR)


def test_router():
    custom = FieldMap(state_path="st")
    router = Router({"L-1": 1, "M/2": 2}, [("plant/+/press/status", 3, "state", custom)], {1: custom})
    assert router.route("plant/x/press/status").machine_id == 3
    route = router.route("mes/site/L-1/count")
    assert (route.machine_id, route.kind, route.mapping) == (1, "count", custom)
    with pytest.raises(Rejected) as e:
        router.route("mes/site/NOPE/state")
    assert e.value.reason == payloads.UNKNOWN_MACHINE
    with pytest.raises(Rejected) as e:
        router.route("other/topic")
    assert e.value.reason == payloads.UNKNOWN_TOPIC
    assert router.subscriptions() == ["mes/+/+/+", "plant/+/press/status"]


def test_broker_urls():
    b = parse_url("mqtt://mes:s%40cret@broker.local:1884")
    assert (b.host, b.port, b.username, b.password, b.tls) == ("broker.local", 1884, "mes", "s@cret", False)
    b = parse_url("mqtts://broker.local")
    assert (b.port, b.tls) == (8883, True)
    for bad in ("http://x", "broker:1883", "mqtt://"):
        with pytest.raises(ValueError):
            parse_url(bad)


def test_the_worker_command_needs_a_broker(tmp_path):
    env = {**os.environ, "MES_INSTANCE_PATH": str(tmp_path), "MES_SECRET_KEY": "t"}
    env.pop("MES_MQTT_URL", None)
    done = subprocess.run([sys.executable, "-m", "mes.cli", "mqtt"], env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode != 0 and "MES_MQTT_URL" in done.stderr
