"""From an MQTT topic and payload to a state, count or alarm of a machine, by the default topics
(``mes/<site>/<machine code>/state|count|alarm``) or a machine's own mapping (topic patterns,
JSON field paths, a state value map). Pure: whatever cannot be read raises :class:`Rejected`
with a reason the dead-letter list shows."""
from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

STATES = ("running", "idle", "setup", "down", "off")
KINDS = ("state", "count", "alarm")
#: Payloads larger than this are refused unread.
MAX_PAYLOAD = 16 * 1024
#: The largest counter value taken (a signed 64-bit column).
MAX_COUNTER = 2**63 - 1

# Dead-letter reasons (the page shows each in words).
NOT_JSON = "not_json"
MISSING_FIELD = "missing_field"
WRONG_TYPE = "wrong_type"
UNKNOWN_STATE = "unknown_state"
BAD_TIMESTAMP = "bad_timestamp"
FUTURE_TIMESTAMP = "future_timestamp"
UNKNOWN_MACHINE = "unknown_machine"
UNKNOWN_TOPIC = "unknown_topic"
IMPLAUSIBLE_JUMP = "implausible_jump"
TOO_LARGE = "too_large"
FAILED = "failed"
REASONS = (NOT_JSON, MISSING_FIELD, WRONG_TYPE, UNKNOWN_STATE, BAD_TIMESTAMP, FUTURE_TIMESTAMP, UNKNOWN_MACHINE,
           UNKNOWN_TOPIC, IMPLAUSIBLE_JUMP, TOO_LARGE, FAILED)


class Rejected(Exception):
    def __init__(self, reason: str, detail: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class FieldMap:
    """Where a gateway puts the fields (dotted paths; a number indexes a list)."""

    ts_path: str = "ts"
    state_path: str = "state"
    reason_path: str = "reason"
    good_path: str = "good"
    scrap_path: str = "scrap"
    code_path: str = "code"
    text_path: str = "text"
    active_path: str = "active"
    state_map: Mapping[str, str] = field(default_factory=dict)
    counter_max: int | None = None  # the value after which the counters wrap to 0
    max_rate_per_minute: int = 600  # more pieces per minute than this is a glitch, not parts


DEFAULT = FieldMap()


@dataclass(frozen=True)
class StateMessage:
    ts: dt.datetime
    state: str
    reason: str | None


@dataclass(frozen=True)
class CountMessage:
    ts: dt.datetime
    good: int
    scrap: int


@dataclass(frozen=True)
class AlarmMessage:
    ts: dt.datetime
    code: str
    text: str | None
    active: bool


# --- topics --------------------------------------------------------------------------------------


def topic_matches(pattern: str, topic: str) -> bool:
    """MQTT topic filter matching (``+`` one level, ``#`` the rest)."""
    p, t = pattern.split("/"), topic.split("/")
    for i, part in enumerate(p):
        if part == "#":
            return True
        if i >= len(t) or (part != "+" and part != t[i]):
            return False
    return len(p) == len(t)


def default_topic(topic: str) -> tuple[str, str] | None:
    """(machine code, kind) of a default topic ``mes/<site>/<code>/<kind>``, else None."""
    parts = topic.split("/")
    if len(parts) == 4 and parts[0] == "mes" and parts[3] in KINDS and parts[2]:
        return parts[2], parts[3]
    return None


@dataclass(frozen=True)
class Route:
    machine_id: int
    kind: str
    mapping: FieldMap


class Router:
    """Which machine and message kind a topic is: a machine's own topic patterns first, then the
    default topics by machine code."""

    def __init__(self, by_code: Mapping[str, int], patterns: Iterable[tuple[str, int, str, FieldMap]],
                 mappings: Mapping[int, FieldMap]) -> None:
        self.by_code = dict(by_code)
        self.patterns = list(patterns)
        self.mappings = dict(mappings)

    def route(self, topic: str) -> Route:
        for pattern, machine_id, kind, mapping in self.patterns:
            if topic_matches(pattern, topic):
                return Route(machine_id, kind, mapping)
        found = default_topic(topic)
        if found is None:
            raise Rejected(UNKNOWN_TOPIC)
        code, kind = found
        machine_id = self.by_code.get(code)
        if machine_id is None:
            raise Rejected(UNKNOWN_MACHINE, code[:100])
        return Route(machine_id, kind, self.mappings.get(machine_id, DEFAULT))

    def subscriptions(self) -> list[str]:
        """The topic filters a worker subscribes to."""
        return ["mes/+/+/+", *sorted({p for p, _m, _k, _map in self.patterns if not default_topic(p)})]


# --- payloads ------------------------------------------------------------------------------------


def _load(payload: bytes) -> Any:
    if len(payload) > MAX_PAYLOAD:
        raise Rejected(TOO_LARGE, f"{len(payload)} bytes")
    try:
        return json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise Rejected(NOT_JSON, str(e)[:200]) from None


_MISSING = object()


def get_path(data: Any, path: str) -> Any:
    """The value at a dotted ``path`` in ``data`` (``values.0.v``), or a missing marker."""
    node = data
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.lstrip("-").isdigit() and -len(node) <= int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
    return node


def _required(data: Any, path: str) -> Any:
    value = get_path(data, path)
    if value is _MISSING or value is None:
        raise Rejected(MISSING_FIELD, path)
    return value


def _optional(data: Any, path: str) -> Any:
    value = get_path(data, path)
    return None if value is _MISSING else value


def parse_ts(value: Any, now: dt.datetime, max_future: dt.timedelta) -> dt.datetime:
    """ISO-8601 (a time without zone is UTC) or epoch milliseconds, to an aware UTC datetime."""
    if isinstance(value, bool):
        raise Rejected(BAD_TIMESTAMP, repr(value)[:60])
    if isinstance(value, (int, float)):
        if not math.isfinite(value) or not 0 < value < 10**14:
            raise Rejected(BAD_TIMESTAMP, repr(value)[:60])
        moment = dt.datetime.fromtimestamp(value / 1000, dt.UTC)
    elif isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise Rejected(BAD_TIMESTAMP, value[:60]) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        moment = moment.astimezone(dt.UTC)
    else:
        raise Rejected(BAD_TIMESTAMP, repr(value)[:60])
    if moment.year < 2000:
        raise Rejected(BAD_TIMESTAMP, moment.isoformat())
    if moment > now + max_future:
        raise Rejected(FUTURE_TIMESTAMP, moment.isoformat())
    return moment


def _text(value: Any, path: str, length: int) -> str | None:
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        raise Rejected(WRONG_TYPE, path)
    return str(value)[:length]


def _counter(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        else:
            raise Rejected(WRONG_TYPE, path)
    if isinstance(value, float):
        if not value.is_integer():
            raise Rejected(WRONG_TYPE, path)
        value = int(value)
    if not 0 <= value <= MAX_COUNTER:
        raise Rejected(WRONG_TYPE, path)
    return value


def parse_state(payload: bytes, mapping: FieldMap, now: dt.datetime, max_future: dt.timedelta) -> StateMessage:
    data = _load(payload)
    ts = parse_ts(_required(data, mapping.ts_path), now, max_future)
    raw = _required(data, mapping.state_path)
    if isinstance(raw, (dict, list)):
        raise Rejected(WRONG_TYPE, mapping.state_path)
    key = str(raw).lower() if isinstance(raw, bool) else str(raw)
    state = mapping.state_map.get(key, key.strip().lower())
    if state not in STATES:
        raise Rejected(UNKNOWN_STATE, key[:60])
    return StateMessage(ts, state, _text(_optional(data, mapping.reason_path), mapping.reason_path, 120))


def parse_count(payload: bytes, mapping: FieldMap, now: dt.datetime, max_future: dt.timedelta) -> CountMessage:
    data = _load(payload)
    ts = parse_ts(_required(data, mapping.ts_path), now, max_future)
    good = _counter(_required(data, mapping.good_path), mapping.good_path)
    scrap_raw = _optional(data, mapping.scrap_path)
    scrap = 0 if scrap_raw is None else _counter(scrap_raw, mapping.scrap_path)
    return CountMessage(ts, good, scrap)


def parse_alarm(payload: bytes, mapping: FieldMap, now: dt.datetime, max_future: dt.timedelta) -> AlarmMessage:
    data = _load(payload)
    ts = parse_ts(_required(data, mapping.ts_path), now, max_future)
    code = _text(_required(data, mapping.code_path), mapping.code_path, 64)
    active = _optional(data, mapping.active_path)
    if active is None:
        active = True
    if not isinstance(active, bool):
        if active in (0, 1, "0", "1", "true", "false"):
            active = active in (1, "1", "true")
        else:
            raise Rejected(WRONG_TYPE, mapping.active_path)
    return AlarmMessage(ts, code or "", _text(_optional(data, mapping.text_path), mapping.text_path, 500), active)


PARSERS = {"state": parse_state, "count": parse_count, "alarm": parse_alarm}


def parse_state_map(text: str | None) -> dict[str, str]:
    """A mapping's state value map (JSON object) checked: every value a known state."""
    if not text or not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        raise Rejected(NOT_JSON) from None
    if not isinstance(data, dict) or not all(isinstance(v, str) and v in STATES for v in data.values()):
        raise Rejected(UNKNOWN_STATE)
    return {str(k): v for k, v in data.items()}
