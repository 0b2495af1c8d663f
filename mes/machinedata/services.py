"""Machine-data use cases: the figures OEE is computed from, per machine and window, for every
machine of the shop: connected ones from their state timeline and counters, the others from the
terminal's run-phase labour time and production reports."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased, selectinload

from mes.core.clock import plant_tz
from mes.core.db import get_db, utcnow
from mes.machinedata import intervals
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
        ids = [m.id for m in machines]
        run = _labour_run_minutes(s, ids, start, end)
        made = _reported_pieces(s, ids, start, end)
        return {
            m.id: OeeInput(planned_minutes=planned.get(m.id, 0.0), run_minutes=run.get(m.id, 0.0),
                           ideal_minutes=made[m.id][2], good=made[m.id][0], total=made[m.id][1])
            for m in machines
        }


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
