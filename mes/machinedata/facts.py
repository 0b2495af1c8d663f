"""What machine data turns into for people: an automatic downtime when a connected machine stops
in a planned shift (the terminal asks a worker why), the machine marked unavailable for the
planner when it stays down too long, and the pieces it counted offered as the quantity of the
operation running on it (or posted directly, when the plant says so)."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from mes.core.clock import plant_tz
from mes.core.db import get_db, transaction, utcnow
from mes.core.errors import DomainError
from mes.machinedata.models import CounterReading, MachineLive, MachineState, StateEvent
from mes.machines.models import (
    CalendarException,
    Machine,
    MachineDowntime,
    MachineStatus,
)
from mes.machines.shifts import working_intervals
from mes.orders.models import Operation, OperationStatus, ProductionReport
from mes.shopfloor import services as floor

STOPPED = (MachineState.DOWN, MachineState.IDLE)
WORKING = (MachineState.RUNNING, MachineState.SETUP)
#: A downtime written by the machine-data worker (MachineDowntime.source).
SOURCE = "machine"


def in_planned_shift(s: Session, machine: Machine, moment: dt.datetime) -> bool:
    """Whether ``moment`` lies in the machine's shifts (no calendar: always planned)."""
    calendar = machine.effective_calendar
    if calendar is None:
        return True
    exceptions = {e.day: e.working for e in s.scalars(select(CalendarException)
                                                       .where(CalendarException.calendar_id == calendar.id))}
    shifts = [(x.weekday, x.start_minute, x.end_minute) for x in calendar.shifts]
    return bool(working_intervals(shifts, exceptions, plant_tz(), moment, 1))


def on_state_change(s: Session, live: MachineLive, previous: str | None, event: StateEvent) -> None:
    """A connected machine's current state changed (called inside the ingestion transaction)."""
    machine = s.get(Machine, live.machine_id)
    if machine is None or not machine.has_data_connection:
        return
    state = MachineState(event.state)
    if state == MachineState.DOWN and live.downtime_id is None and in_planned_shift(s, machine, event.ts):
        row = MachineDowntime(machine_id=machine.id, starts_at=event.ts, kind="breakdown", source=SOURCE,
                              note=event.reason)
        s.add(row)
        s.flush()
        live.downtime_id = row.id
    elif state not in STOPPED:
        if live.downtime_id is not None:
            row = s.get(MachineDowntime, live.downtime_id)
            if row is not None and row.ends_at is None and event.ts > row.starts_at:
                row.ends_at = event.ts
            live.downtime_id = None
        if live.marked_unavailable:
            if machine.status == MachineStatus.DOWN:
                machine.status = MachineStatus.AVAILABLE
            live.marked_unavailable = False
    # An idle spell is recorded when it ends (an open one would keep the planner off the machine,
    # and an idle machine is exactly where work should go), if it was long enough to matter.
    if previous == MachineState.IDLE.value and state != MachineState.IDLE and live.idle_since is not None:
        minutes = (event.ts - live.idle_since).total_seconds() / 60
        if minutes >= current_app.config.get("MACHINE_IDLE_MINUTES", 5) and in_planned_shift(s, machine, live.idle_since):
            s.add(MachineDowntime(machine_id=machine.id, starts_at=live.idle_since, ends_at=event.ts, kind="idle",
                                  source=SOURCE, note=event.reason))
    # Idle after a breakdown is still the breakdown's stop, not an idle spell of its own.
    live.idle_since = event.ts if state == MachineState.IDLE and live.downtime_id is None else None


def mark_long_stops(now: dt.datetime | None = None) -> list[int]:
    """Connected machines down longer than the plant's limit become unavailable for the planner
    (and available again when they run). Returns the machines marked now."""
    now = now or utcnow()
    limit = dt.timedelta(minutes=current_app.config["MACHINE_DOWN_UNAVAILABLE_MINUTES"])
    marked = []
    with transaction() as s:
        rows = s.execute(select(MachineLive, Machine).join(Machine, Machine.id == MachineLive.machine_id)
                         .where(MachineLive.state == MachineState.DOWN, MachineLive.state_since <= now - limit,
                                MachineLive.marked_unavailable.is_(False), Machine.has_data_connection,
                                Machine.status == MachineStatus.AVAILABLE)
                         .order_by(MachineLive.machine_id).with_for_update()).all()
        for live, machine in rows:
            machine.status = MachineStatus.DOWN
            live.marked_unavailable = True
            marked.append(machine.id)
    return marked


# --- counted pieces for the terminal -------------------------------------------------------------


def offered_counts(op_id: int) -> tuple[int, int] | None:
    """Pieces the machine counted on this operation that nobody has reported yet (good, scrap);
    None when there is nothing to confirm."""
    with get_db().read_session() as s:
        row = s.execute(select(func.count(), func.coalesce(func.sum(CounterReading.good_delta), 0),
                               func.coalesce(func.sum(CounterReading.scrap_delta), 0))
                        .where(CounterReading.operation_id == op_id, CounterReading.reported.is_(False))).one()
    if row[0] == 0:
        return None
    return int(row[1]), int(row[2])


def _take(s: Session, op_id: int, user_id: int | None, source: str) -> ProductionReport | None:
    """Report the operation's unreported counted pieces (in the caller's transaction)."""
    op, order = floor.lock_operation(s, op_id)
    readings = s.scalars(select(CounterReading).where(CounterReading.operation_id == op_id,
                                                      CounterReading.reported.is_(False)).with_for_update()).all()
    good = sum(r.good_delta for r in readings)
    scrap = sum(r.scrap_delta for r in readings)
    if not readings:
        return None
    report = floor.add_report(s, user_id, op, order, good, scrap, source=source) if good or scrap else None
    s.execute(update(CounterReading).where(CounterReading.id.in_([r.id for r in readings]))
              .values(report_id=report.id if report else None, reported=True))
    return report


def confirm_counts(user_id: int, key: str | None, op_id: int) -> dict[str, Any]:
    """A worker confirms the counted pieces as the operation's quantity (once: a replay returns the
    first answer, and confirmed readings are never offered again)."""

    def work(s: Session) -> tuple[int, dict[str, Any]]:
        report = _take(s, op_id, user_id, "machine")
        return 201, {"operation_id": op_id, "report_id": report.id if report else None}

    return floor.run_keyed(user_id, key, "floor.machine_counts", {"op": op_id}, work)


def post_counts_directly(s: Session, readings: list[CounterReading]) -> None:
    """With MACHINE_COUNTS_POST_DIRECTLY, counted pieces become reports as they arrive; what the
    operation cannot take (more than it may report) stays offered to the worker."""
    by_op: dict[int, int] = defaultdict(int)
    for r in readings:
        if r.operation_id is not None:
            by_op[r.operation_id] += 1
    for op_id in sorted(by_op):
        op = s.get(Operation, op_id)
        if op is None or op.status != OperationStatus.IN_PROGRESS:
            continue
        try:
            with s.begin_nested():
                _take(s, op_id, None, "machine")
        except DomainError:
            continue


