"""Machine-data use cases: the figures OEE is computed from, per machine and window, for every
machine of the shop: connected ones from their state timeline and counters, the others from the
terminal's run-phase labour time and production reports."""
from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, aliased, selectinload

from mes.core.clock import plant_tz
from mes.core.db import get_db, transaction, utcnow
from mes.core.errors import Conflict, NotFound, ValidationError
from mes.core.inputs import to_int
from mes.core.locking import check_version, touch
from mes.machinedata import intervals, payloads, timeline
from mes.machinedata.models import (
    CounterReading,
    DeadLetter,
    MachineLive,
    MachineState,
    StateEvent,
    TopicMapping,
)
from mes.machinedata.oee import OeeInput
from mes.machines.models import (
    CalendarException,
    Machine,
    MachineStatus,
    WorkCalendar,
)
from mes.machines.shifts import working_intervals
from mes.orders.models import Operation, OperationMachine, ProductionReport, ReportKind
from mes.shopfloor.models import LabourClock, LabourRecord

RUN = "run"


# --- OEE inputs ----------------------------------------------------------------------------------


def oee_inputs(start: dt.datetime, end: dt.datetime,
               machine_ids: Iterable[int] | None = None) -> dict[int, OeeInput]:
    """Per machine (every active machine when ``machine_ids`` is None) over [start, end) (UTC
    aware datetimes): connected machines (``Machine.has_data_connection`` with machine data
    received) from their state timeline and counts, the others from the terminal's labour
    records (run phase) and production reports. Opens its own read-only session."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("oee_inputs needs aware datetimes")
    with get_db().read_session() as s:
        query = select(Machine).options(selectinload(Machine.work_center))
        if machine_ids is None:
            query = query.where(Machine.status != MachineStatus.RETIRED)
        else:
            wanted = list(machine_ids)
            if not wanted:
                return {}
            query = query.where(Machine.id.in_(wanted))
        machines = list(s.scalars(query))
        if end <= start or not machines:
            return {m.id: OeeInput(0.0, 0.0, 0.0, 0, 0) for m in machines}
        planned = planned_minutes(s, machines, start, end)
        connected = connected_machines(s, [m.id for m in machines if m.has_data_connection])
        by_hand = [m.id for m in machines if m.id not in connected]
        # A gateway that sends counts but no states: its run time still comes from the terminal.
        with_states = set(s.scalars(select(StateEvent.machine_id).where(StateEvent.machine_id.in_(connected))
                                    .distinct())) if connected else set()
        hand_run = by_hand + sorted(connected - with_states)
        run = _labour_run_minutes(s, hand_run, start, end) if hand_run else {}
        made = _reported_pieces(s, by_hand, start, end) if by_hand else defaultdict(lambda: (0, 0, 0.0))
        if connected:
            run.update(_running_minutes(s, sorted(with_states), start, end))
            made.update(_counted_pieces(s, sorted(connected), start, end))
        return {
            m.id: OeeInput(planned_minutes=planned.get(m.id, 0.0), run_minutes=run.get(m.id, 0.0),
                           ideal_minutes=made[m.id][2], good=made[m.id][0], total=made[m.id][1])
            for m in machines
        }


def connected_machines(s: Session, machine_ids: list[int]) -> set[int]:
    """Of ``machine_ids``, those whose machine data has arrived (their OEE comes from it)."""
    if not machine_ids:
        return set()
    return set(s.scalars(select(MachineLive.machine_id).where(MachineLive.machine_id.in_(machine_ids),
                                                              MachineLive.last_message_at.is_not(None))))


def state_intervals(s: Session, machine_id: int, start: dt.datetime, end: dt.datetime) -> list[timeline.Interval]:
    """The machine's state timeline within [start, end) (until now at most)."""
    before = s.execute(select(StateEvent.ts, StateEvent.state, StateEvent.reason)
                       .where(StateEvent.machine_id == machine_id, StateEvent.ts < start)
                       .order_by(StateEvent.ts.desc()).limit(1)).all()
    inside = s.execute(select(StateEvent.ts, StateEvent.state, StateEvent.reason)
                       .where(StateEvent.machine_id == machine_id, StateEvent.ts >= start, StateEvent.ts < end)
                       .order_by(StateEvent.ts)).all()
    events = [(ts, str(state), reason) for ts, state, reason in [*before, *inside]]
    return timeline.intervals(events, start, end, utcnow())


def _running_minutes(s: Session, machine_ids: list[int], start: dt.datetime, end: dt.datetime) -> dict[int, float]:
    return {mid: timeline.minutes_by_state(state_intervals(s, mid, start, end)).get(MachineState.RUNNING.value, 0.0)
            for mid in machine_ids}


def _counted_pieces(s: Session, machine_ids: list[int], start: dt.datetime,
                    end: dt.datetime) -> dict[int, tuple[int, int, float]]:
    """(good, good + scrap, ideal minutes) per machine from its counter readings; pieces counted
    while no operation ran on the machine have no ideal time."""
    pieces = CounterReading.good_delta + CounterReading.scrap_delta
    per_piece = func.coalesce(OperationMachine.run_minutes, Operation.run_minutes, 0)
    rows = s.execute(
        select(CounterReading.machine_id, func.sum(CounterReading.good_delta), func.sum(pieces),
               func.sum(pieces * per_piece))
        .outerjoin(Operation, Operation.id == CounterReading.operation_id)
        .outerjoin(OperationMachine, (OperationMachine.operation_id == Operation.id)
                   & (OperationMachine.machine_id == CounterReading.machine_id))
        .where(CounterReading.machine_id.in_(machine_ids), CounterReading.ts >= start, CounterReading.ts < end)
        .group_by(CounterReading.machine_id))
    out = {mid: (0, 0, 0.0) for mid in machine_ids}
    for machine_id, good, total, ideal in rows:
        out[machine_id] = (int(good or 0), int(total or 0), float(Decimal(ideal or 0)))
    return out


def planned_minutes(s: Session, machines: list[Machine], start: dt.datetime, end: dt.datetime) -> dict[int, float]:
    """Minutes of [start, end) inside each machine's shifts (its own calendar, else its work
    center's). A machine without any calendar has no planned time."""
    tz = plant_tz()
    horizon = int((end - start).total_seconds() // 60)
    calendar_ids = {m.calendar_id or m.work_center.calendar_id for m in machines} - {None}
    calendars = {c.id: c for c in s.scalars(select(WorkCalendar).where(WorkCalendar.id.in_(calendar_ids))
                                            .options(selectinload(WorkCalendar.shifts)))}
    exceptions: dict[int, dict[dt.date, bool]] = defaultdict(dict)
    for e in s.scalars(select(CalendarException).where(CalendarException.calendar_id.in_(calendar_ids))):
        exceptions[e.calendar_id][e.day] = e.working
    per_calendar: dict[int, float] = {}
    for cid, calendar in calendars.items():
        work = working_intervals([(x.weekday, x.start_minute, x.end_minute) for x in calendar.shifts],
                                 exceptions[cid], tz, start, horizon)
        per_calendar[cid] = float(sum(b - a for a, b in work))
    out = {}
    for m in machines:
        cid = m.calendar_id or m.work_center.calendar_id
        out[m.id] = per_calendar.get(cid, 0.0) if cid is not None else 0.0
    return out


def _labour_run_minutes(s: Session, machine_ids: list[int], start: dt.datetime, end: dt.datetime) -> dict[int, float]:
    """Minutes each machine ran by the terminal: the union of the run-phase clock spans on it
    (booked records, and clocks still open until now), so a worker tending two machines gives
    each its full time and two workers on one machine count it once. Time entered after the fact
    (no span) is added as booked, on the day it was entered."""
    machine = func.coalesce(LabourRecord.machine_id, Operation.machine_id)
    spans: dict[int, list[intervals.Span]] = defaultdict(list)
    rows = s.execute(
        select(machine, LabourRecord.started_at, LabourRecord.ended_at)
        .join(Operation, Operation.id == LabourRecord.operation_id)
        .where(LabourRecord.phase == RUN, machine.in_(machine_ids), LabourRecord.started_at.is_not(None),
               LabourRecord.started_at < end, LabourRecord.ended_at > start))
    for machine_id, a, b in rows:
        spans[machine_id].append((a, b))
    now = utcnow()
    clock_machine = func.coalesce(LabourClock.machine_id, Operation.machine_id)
    for machine_id, a in s.execute(
            select(clock_machine, LabourClock.started_at).join(Operation, Operation.id == LabourClock.operation_id)
            .where(LabourClock.phase == RUN, clock_machine.in_(machine_ids), LabourClock.started_at < end)):
        spans[machine_id].append((a, min(now, end)))
    out = {mid: intervals.minutes(intervals.clip(found, start, end)) for mid, found in spans.items()}
    manual = s.execute(
        select(machine, func.sum(LabourRecord.minutes * LabourRecord.shared_by))
        .join(Operation, Operation.id == LabourRecord.operation_id)
        .where(LabourRecord.phase == RUN, machine.in_(machine_ids), LabourRecord.started_at.is_(None),
               LabourRecord.recorded_at >= start, LabourRecord.recorded_at < end)
        .group_by(machine))
    for machine_id, booked in manual:
        out[machine_id] = out.get(machine_id, 0.0) + float(booked or 0)
    return out


def _reported_pieces(s: Session, machine_ids: list[int], start: dt.datetime,
                     end: dt.datetime) -> defaultdict[int, tuple[int, int, float]]:
    """(good, good + scrap, ideal minutes) per machine from the production reports. A correction
    counts on the moment of the report it reverses, so a day's figures are right whenever the
    mistake was found; transfers between split lots made nothing and are left out."""
    original = aliased(ProductionReport)
    machine = func.coalesce(ProductionReport.machine_id, Operation.machine_id)
    moment = func.coalesce(original.reported_at, ProductionReport.reported_at)
    per_piece = func.coalesce(OperationMachine.run_minutes, Operation.run_minutes)
    rows = s.execute(
        select(machine, func.sum(ProductionReport.good_qty), func.sum(ProductionReport.good_qty + ProductionReport.scrap_qty),
               func.sum((ProductionReport.good_qty + ProductionReport.scrap_qty) * per_piece))
        .join(Operation, Operation.id == ProductionReport.operation_id)
        .outerjoin(original, original.id == ProductionReport.reverses_id)
        .outerjoin(OperationMachine, (OperationMachine.operation_id == Operation.id)
                   & (OperationMachine.machine_id == machine))
        .where(ProductionReport.kind.in_([ReportKind.PRODUCTION, ReportKind.CORRECTION]), machine.in_(machine_ids),
               moment >= start, moment < end)
        .group_by(machine))
    out: defaultdict[int, tuple[int, int, float]] = defaultdict(lambda: (0, 0, 0.0))
    for machine_id, good, total, ideal in rows:
        out[machine_id] = (int(good or 0), int(total or 0), float(Decimal(ideal or 0)))
    return out


# --- topic mappings (administrators) -------------------------------------------------------------

PATH_RE = re.compile(r"^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*$")
PATH_FIELDS = ("ts_path", "state_path", "reason_path", "good_path", "scrap_path", "code_path", "text_path",
               "active_path")
TOPIC_FIELDS = ("state_topic", "count_topic", "alarm_topic")
MAX_RATE = 1_000_000


@dataclass
class MappingInput:
    state_topic: str = ""
    count_topic: str = ""
    alarm_topic: str = ""
    ts_path: str = "ts"
    state_path: str = "state"
    reason_path: str = "reason"
    good_path: str = "good"
    scrap_path: str = "scrap"
    code_path: str = "code"
    text_path: str = "text"
    active_path: str = "active"
    state_map: str = ""
    counter_max: str = ""
    max_rate_per_minute: str = "600"


def topic_error(topic: str) -> Any:
    """Why ``topic`` is no usable MQTT topic filter, or None."""
    if len(topic) > 200:
        return _l("At most %(n)s characters.", n=200)
    if topic.startswith("$") or any(c in topic for c in "\x00 "):
        return _l("Enter an MQTT topic such as factory/line1/press4/status (+ and # are wildcards).")
    levels = topic.split("/")
    for i, level in enumerate(levels):
        if ("#" in level and (level != "#" or i != len(levels) - 1)) or ("+" in level and level != "+"):
            return _l("Enter an MQTT topic such as factory/line1/press4/status (+ and # are wildcards).")
    return None


def validate_mapping(data: MappingInput) -> dict[str, Any]:
    """The mapping's values checked and cleaned (topics None when blank); raises with every error."""
    errors: dict[str, list] = {}
    values: dict[str, Any] = {}
    for name in TOPIC_FIELDS:
        topic = (getattr(data, name) or "").strip()
        if topic and (why := topic_error(topic)):
            errors[name] = [why]
        values[name] = topic or None
    if not any(values[name] for name in TOPIC_FIELDS):
        errors["state_topic"] = [_l("Give at least one topic.")]
    for name in PATH_FIELDS:
        path = (getattr(data, name) or "").strip()
        if not path or len(path) > 120 or not PATH_RE.match(path):
            errors[name] = [_l("A field path such as data.state or values.0 (letters, digits, _ and -, joined by dots).")]
        values[name] = path
    try:
        values["state_map"] = json.dumps(payloads.parse_state_map(data.state_map), ensure_ascii=False) \
            if (data.state_map or "").strip() else None
    except payloads.Rejected:
        errors["state_map"] = [_l('A JSON object from the gateway\'s values to running, idle, setup, down or off, '
                                  'e.g. {"1": "running", "0": "idle"}.')]
    raw_max = (data.counter_max or "").strip()
    values["counter_max"] = to_int(raw_max, min=1, max=payloads.MAX_COUNTER) if raw_max else None
    if raw_max and values["counter_max"] is None:
        errors["counter_max"] = [_l("A whole number such as 65535, or empty.")]
    values["max_rate_per_minute"] = to_int((data.max_rate_per_minute or "").strip(), min=1, max=MAX_RATE)
    if values["max_rate_per_minute"] is None:
        errors["max_rate_per_minute"] = [_l("Between %(min)s and %(max)s.", min=1, max=MAX_RATE)]
    if errors:
        raise ValidationError(fields=errors)
    return values


def save_mapping(machine_id: int, data: MappingInput, version: int | None) -> int:
    """Create or change the machine's topic mapping (``version``: the one the form was drawn with,
    None when it had none)."""
    values = validate_mapping(data)
    with transaction() as s:
        machine = s.get(Machine, machine_id, with_for_update=True)
        if machine is None:
            raise NotFound()
        row = s.scalar(select(TopicMapping).where(TopicMapping.machine_id == machine_id).with_for_update())
        if row is None:
            if version is not None:
                raise Conflict(_l("This mapping was removed meanwhile. Reload the page."))
            row = TopicMapping(machine_id=machine_id)
            s.add(row)
        else:
            if version is None:
                raise Conflict(_l("This machine got a mapping meanwhile. Reload the page."))
            check_version(row, version)
        for name, value in values.items():
            setattr(row, name, value)
        touch(row)
        s.flush()
        return row.id


def delete_mapping(machine_id: int, version: int) -> None:
    with transaction() as s:
        row = s.scalar(select(TopicMapping).where(TopicMapping.machine_id == machine_id).with_for_update())
        if row is None:
            raise NotFound()
        check_version(row, version)
        s.delete(row)


def mapping_input(row: TopicMapping | None) -> MappingInput:
    if row is None:
        return MappingInput()
    return MappingInput(**{name: ("" if getattr(row, name) is None else str(getattr(row, name)))
                           for name in MappingInput.__dataclass_fields__})


# --- dead letters ---------------------------------------------------------------------------------


def dead_letters(s: Session, page: int, per_page: int = 50) -> tuple[list[DeadLetter], int]:
    total = s.scalar(select(func.count()).select_from(DeadLetter)) or 0
    rows = s.scalars(select(DeadLetter).order_by(DeadLetter.id.desc()).offset((page - 1) * per_page).limit(per_page)).all()
    return list(rows), total


def clear_dead_letters(before_id: int) -> int:
    """Remove the dead letters an administrator has seen (up to the newest shown)."""
    with transaction() as s:
        return s.execute(delete(DeadLetter).where(DeadLetter.id <= before_id)).rowcount or 0
