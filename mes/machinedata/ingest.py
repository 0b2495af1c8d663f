"""Taking a batch of MQTT messages into the database in one transaction: parse each (a message
that cannot be read becomes a dead letter), lock the machines' live rows, and add state events,
counter readings (pieces by timestamp, so redeliveries and late messages count once) and alarms.
The worker acknowledges the batch only after this commits."""
from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from mes.core.db import get_db, transaction
from mes.machinedata import counters, facts, payloads
from mes.machinedata.models import (
    CounterReading,
    DeadLetter,
    MachineAlarm,
    MachineLive,
    MachineState,
    StateEvent,
    TopicMapping,
)
from mes.machinedata.payloads import FieldMap, Rejected, Router
from mes.machines.models import Machine, MachineStatus
from mes.orders.models import Operation, OperationStatus

#: Kept of a dead letter's payload (the rest is cut).
PAYLOAD_KEPT = 4000


@dataclass(frozen=True)
class Message:
    topic: str
    payload: bytes
    received_at: dt.datetime


@dataclass
class Outcome:
    """What a batch did."""

    taken: int = 0
    duplicates: int = 0
    dead: int = 0
    pieces: int = 0
    state_changes: list[tuple[int, str | None, str, dt.datetime]] = field(default_factory=list)


@dataclass(frozen=True)
class Limits:
    max_future: dt.timedelta = dt.timedelta(hours=1)


def limits() -> Limits:
    return Limits(max_future=dt.timedelta(seconds=current_app.config.get("MQTT_MAX_FUTURE_SECONDS", 3600)))


def field_map(row: TopicMapping | None) -> FieldMap:
    if row is None:
        return payloads.DEFAULT
    return FieldMap(ts_path=row.ts_path, state_path=row.state_path, reason_path=row.reason_path,
                    good_path=row.good_path, scrap_path=row.scrap_path, code_path=row.code_path,
                    text_path=row.text_path, active_path=row.active_path,
                    state_map=_state_map(row.state_map), counter_max=row.counter_max,
                    max_rate_per_minute=row.max_rate_per_minute)


def _state_map(text: str | None) -> dict[str, str]:
    try:
        return payloads.parse_state_map(text)
    except Rejected:
        return {}


def load_router() -> Router:
    """Who publishes where: every machine not retired by code, and the machines' own mappings."""
    with get_db().read_session() as s:
        by_code = dict(s.execute(select(Machine.code, Machine.id).where(Machine.status != MachineStatus.RETIRED)).all())
        patterns, maps = [], {}
        for row in s.scalars(select(TopicMapping)):
            fm = field_map(row)
            maps[row.machine_id] = fm
            for kind, topic in (("state", row.state_topic), ("count", row.count_topic), ("alarm", row.alarm_topic)):
                if topic:
                    patterns.append((topic, row.machine_id, kind, fm))
    return Router(by_code, patterns, maps)


def dead_letter(s: Session, message: Message, reason: str, detail: str | None = None,
                machine_id: int | None = None) -> None:
    s.add(DeadLetter(received_at=message.received_at, topic=message.topic[:400],
                     payload=message.payload.decode("utf-8", errors="replace")[:PAYLOAD_KEPT],
                     reason=reason, detail=(detail or "")[:400] or None, machine_id=machine_id))


def ingest(messages: Iterable[Message], router: Router, limit: Limits | None = None) -> Outcome:
    """Take ``messages`` in one transaction (all or nothing)."""
    limit = limit or limits()
    outcome = Outcome()
    parsed: dict[int, list[tuple[Message, Any, FieldMap]]] = defaultdict(list)
    rejected: list[tuple[Message, Rejected, int | None]] = []
    for message in messages:
        machine_id = None
        try:
            route = router.route(message.topic)
            machine_id = route.machine_id
            item = payloads.PARSERS[route.kind](message.payload, route.mapping, message.received_at, limit.max_future)
            parsed[route.machine_id].append((message, item, route.mapping))
        except Rejected as e:
            rejected.append((message, e, machine_id))
    with transaction() as s:
        for message, e, machine_id in rejected:
            dead_letter(s, message, e.reason, e.detail, machine_id)
            outcome.dead += 1
        if parsed:
            lives = _lock_live(s, sorted(parsed))
            for machine_id in sorted(parsed):
                live = lives[machine_id]
                work = _Work(s, live, outcome)
                # Oldest first: in-order messages take the fast path.
                for message, item, mapping in sorted(parsed[machine_id], key=lambda x: x[1].ts):
                    work.take(message, item, mapping)
                if work.counted and current_app.config.get("MACHINE_COUNTS_POST_DIRECTLY"):
                    s.flush()
                    facts.post_counts_directly(s, work.counted)
    return outcome


def _lock_live(s: Session, machine_ids: list[int]) -> dict[int, MachineLive]:
    """The machines' live rows, created when missing and locked in id order (two workers on one
    machine wait for each other; the order rules out deadlocks)."""
    insert = postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert
    known = set(s.scalars(select(MachineLive.machine_id).where(MachineLive.machine_id.in_(machine_ids))))
    missing = [m for m in machine_ids if m not in known]
    if missing:
        s.execute(insert(MachineLive).values([{"machine_id": m} for m in missing]).on_conflict_do_nothing())
    rows = s.scalars(select(MachineLive).where(MachineLive.machine_id.in_(machine_ids))
                     .order_by(MachineLive.machine_id).with_for_update()).all()
    return {row.machine_id: row for row in rows}


class _Work:
    def __init__(self, s: Session, live: MachineLive, outcome: Outcome) -> None:
        self.s, self.live, self.outcome = s, live, outcome
        self._operation: int | None | bool = False
        self.counted: list[CounterReading] = []

    def take(self, message: Message, item: Any, mapping: FieldMap) -> None:
        live = self.live
        if live.last_message_at is None or message.received_at > live.last_message_at:
            live.last_message_at = message.received_at
            live.clock_offset_seconds = int((item.ts - message.received_at).total_seconds())
        if isinstance(item, payloads.StateMessage):
            self._state(item)
        elif isinstance(item, payloads.CountMessage):
            self._count(message, item, mapping)
        else:
            self._alarm(item)

    def _state(self, item: payloads.StateMessage) -> None:
        live, s = self.live, self.s
        late = live.state_ts is not None and item.ts <= live.state_ts
        if late and s.scalar(select(StateEvent.id).where(StateEvent.machine_id == live.machine_id,
                                                         StateEvent.ts == item.ts)):
            self.outcome.duplicates += 1
            return
        event = StateEvent(machine_id=live.machine_id, ts=item.ts, state=MachineState(item.state), reason=item.reason)
        s.add(event)
        self.outcome.taken += 1
        if late:
            return
        live.state_ts = item.ts
        previous = str(live.state) if live.state is not None else None
        live.reason = item.reason
        if previous != item.state:
            live.state, live.state_since = MachineState(item.state), item.ts
            self.outcome.state_changes.append((live.machine_id, previous, item.state, item.ts))
            facts.on_state_change(s, live, previous, event)

    def _running_operation(self) -> int | None:
        if self._operation is False:
            self._operation = self.s.scalar(
                select(Operation.id).where(Operation.machine_id == self.live.machine_id,
                                           Operation.status == OperationStatus.IN_PROGRESS)
                .order_by(Operation.started_at.desc()).limit(1))
        return self._operation  # type: ignore[return-value]

    def _count(self, message: Message, item: payloads.CountMessage, mapping: FieldMap) -> None:
        live, s = self.live, self.s
        cur = counters.Reading(item.ts, item.good, item.scrap)
        after: CounterReading | None = None
        if live.counter_ts is None or item.ts > live.counter_ts:
            prev = counters.Reading(live.counter_ts, live.good or 0, live.scrap or 0) if live.counter_ts else None
        else:
            mid = live.machine_id
            if s.scalar(select(CounterReading.id).where(CounterReading.machine_id == mid, CounterReading.ts == item.ts)):
                self.outcome.duplicates += 1
                return
            before = s.scalar(select(CounterReading).where(CounterReading.machine_id == mid, CounterReading.ts < item.ts)
                              .order_by(CounterReading.ts.desc()).limit(1))
            after = s.scalar(select(CounterReading).where(CounterReading.machine_id == mid, CounterReading.ts > item.ts)
                             .order_by(CounterReading.ts).limit(1))
            prev = counters.Reading(before.ts, before.good, before.scrap) if before else None
        step = counters.step(prev, cur, mapping.counter_max, mapping.max_rate_per_minute)
        next_step = None
        if step is not None and after is not None:
            next_step = counters.step(cur, counters.Reading(after.ts, after.good, after.scrap), mapping.counter_max,
                                      mapping.max_rate_per_minute)
        if step is None or (after is not None and next_step is None):
            dead_letter(s, message, payloads.IMPLAUSIBLE_JUMP,
                        f"{prev.good if prev else '-'}/{prev.scrap if prev else '-'} -> {item.good}/{item.scrap}",
                        live.machine_id)
            self.outcome.dead += 1
            return
        reading = CounterReading(machine_id=live.machine_id, ts=item.ts, good=item.good, scrap=item.scrap,
                                 good_delta=step.good, scrap_delta=step.scrap, event=step.event,
                                 operation_id=self._running_operation())
        s.add(reading)
        self.outcome.taken += 1
        added = step.pieces
        if after is not None and next_step is not None:
            added += next_step.pieces - (after.good_delta + after.scrap_delta)
            after.good_delta, after.scrap_delta, after.event = next_step.good, next_step.scrap, next_step.event
        else:
            live.counter_ts, live.good, live.scrap = item.ts, item.good, item.scrap
        self.outcome.pieces += added
        if step.pieces and reading.operation_id is not None:
            self.counted.append(reading)

    def _alarm(self, item: payloads.AlarmMessage) -> None:
        s, mid = self.s, self.live.machine_id
        if s.scalar(select(MachineAlarm.id).where(MachineAlarm.machine_id == mid, MachineAlarm.ts == item.ts,
                                                  MachineAlarm.code == item.code, MachineAlarm.active == item.active)):
            self.outcome.duplicates += 1
            return
        s.add(MachineAlarm(machine_id=mid, ts=item.ts, code=item.code, text=item.text, active=item.active))
        self.outcome.taken += 1


def ingest_safely(messages: list[Message], router: Router, limit: Limits | None = None) -> Outcome:
    """:func:`ingest`, and when the batch fails as a whole, each message on its own, so one
    message the database refuses becomes a dead letter instead of stopping the worker. A
    database that cannot be reached raises (the worker waits and retries, acknowledging nothing)."""
    try:
        return ingest(messages, router, limit)
    except Exception:
        if len(messages) == 1:
            raise
    total = Outcome()
    for message in messages:
        try:
            one = ingest([message], router, limit)
        except Exception as e:  # noqa: BLE001
            _check_database()
            with transaction() as s:
                dead_letter(s, message, payloads.FAILED, f"{type(e).__name__}: {json.dumps(str(e))[:300]}")
            total.dead += 1
            continue
        total.taken += one.taken
        total.duplicates += one.duplicates
        total.dead += one.dead
        total.pieces += one.pieces
        total.state_changes += one.state_changes
    return total


def _check_database() -> None:
    """Raises when the database cannot be reached (then nothing is the message's fault)."""
    with get_db().engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")
