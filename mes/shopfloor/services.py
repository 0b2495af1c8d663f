"""Shop-floor use cases: the dispatch list (what to run next) and everything a worker does on an
operation's card: start setup or run, pause with a reason, resume, report good and scrap, stop a
machine, finish, and enter time after the fact. Every change is one transaction run through
:mod:`mes.core.idempotency` with the key its form was drawn with, so a double tap, a resend or a
queued offline report counts once.

Concurrency: each change locks the operation and its order (``FOR UPDATE`` on PostgreSQL;
SQLite's ``BEGIN IMMEDIATE`` serializes writers) before it checks quantities or the machine,
so two tablets at once never exceed what is available or put two operations on one machine.

Labour time: a worker clocked on several operations at once books the elapsed time split
equally between them. Whenever the set of operations a worker is clocked on changes (start,
join, pause, resume, finish, setup to run), the time since the last change is booked to each
open clock as elapsed / number of open clocks, and the clocks start again from now.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from mes.core import audit, idempotency
from mes.core.db import session, transaction, utcnow
from mes.core.errors import Conflict, InvalidTransition, NotFound, ValidationError
from mes.core.i18n import format_moment
from mes.core.locking import touch
from mes.core.models import KioskDevice, User
from mes.machines.models import Machine, MachineDowntime, MachineStatus, Reason, ReasonKind
from mes.operations import graph
from mes.operations import services as operations
from mes.orders import lifecycle
from mes.orders.lifecycle import Action
from mes.orders.models import (
    ACTIVE_STATUSES,
    Operation,
    OperationStatus,
    ProductionReport,
    ReportKind,
    WorkOrder,
    WorkOrderStatus,
)
from mes.scheduling.models import ScheduledOperation, ScheduleStatus, ScheduleVersion
from mes.shopfloor import quantities
from mes.shopfloor.models import LabourClock, LabourRecord

SETUP, RUN = "setup", "run"
PHASES = (SETUP, RUN)
PER_PAGE = 50
#: A terminal's "last seen" is written at most this often.
LAST_SEEN_EVERY = dt.timedelta(seconds=60)
MAX_MINUTES = 24 * 60
#: MachineDowntime.source of a stop the machine reported itself (machine data).
MACHINE_SOURCE = "machine"
OS = OperationStatus
#: ``app.extensions[FIRST_ARTICLE](session, operation)`` raises a DomainError while the operation
#: may not report good pieces (a gated first-piece inspection missing or failed). The quality
#: package knows inspections and sits above this one, so the app factory plugs its check in.
FIRST_ARTICLE = "mes.shopfloor.first_article"


# --- reading -------------------------------------------------------------------------------------


@dataclass
class DispatchItem:
    operation: Operation
    order: WorkOrder
    ready: bool
    planned_start: dt.datetime | None
    planned_machine: str | None


@dataclass
class DispatchPage:
    items: list[DispatchItem]
    total: int
    page: int
    pages: int


_CODE = re.compile(r"/floor/operations/(\d{1,9})(?:[/?#]|$)|^(\d{1,9})$")


def operation_from_code(code: str) -> int | None:
    """The operation a scanned code names: a traveler's QR (the card's address, whatever host it
    was printed from) or a bare operation number typed in."""
    match = _CODE.search(code.strip())
    return int(match[1] or match[2]) if match else None


def _edges(order: WorkOrder) -> list[tuple[int, int]]:
    return graph.bypass(graph.effective_edges(operations.nodes(order)),
                        {o.id for o in order.operations if o.status == OS.SKIPPED})


def predecessors(order: WorkOrder, op: Operation) -> list[Operation]:
    """The operations ``op`` waits for (skipped steps bypassed)."""
    by_id = {o.id: o for o in order.operations}
    return [by_id[p] for p, q in _edges(order) if q == op.id]


def successors(order: WorkOrder, op: Operation) -> list[Operation]:
    """The operations that wait for ``op`` (skipped steps bypassed)."""
    by_id = {o.id: o for o in order.operations}
    return [by_id[q] for p, q in _edges(order) if p == op.id]


def _upstream(preds: list[Operation]) -> list[quantities.Upstream]:
    return [quantities.Upstream(p.qty_good, p.status == OS.DONE, p.transfer_batch) for p in preds]


def tolerance() -> int:
    return int(current_app.config.get("OVERPRODUCTION_PERCENT", 0))


def lot_size(order: WorkOrder, op: Operation) -> int:
    """The pieces ``op`` will get in all: once every predecessor is done, what they passed on
    (the order quantity less what they scrapped); before, the order quantity."""
    preds = predecessors(order, op)
    if all(p.status == OS.DONE for p in preds):
        return quantities.arrived(order.quantity, _upstream(preds))
    return order.quantity


def allowed_quantity(order: WorkOrder, op: Operation) -> int:
    """The most good plus scrap ``op`` may have reported."""
    return quantities.limit(order.quantity, _upstream(predecessors(order, op)), tolerance())


def dispatch_list(work_center_id: int | None, machine_id: int | None = None, page: int = 1,
                  per_page: int | None = None) -> DispatchPage:
    """Open operations of released orders, in the published schedule's order where there is one,
    else by due date and priority; operations whose predecessors passed nothing on come last.
    ``machine_id`` narrows to the operations that machine may run (or runs, or is planned on)."""
    s = session()
    query = (
        select(Operation)
        .join(WorkOrder)
        .where(WorkOrder.status.in_(ACTIVE_STATUSES), Operation.status.in_([OS.PENDING, OS.IN_PROGRESS, OS.PAUSED]))
        .options(joinedload(Operation.work_order).joinedload(WorkOrder.product),
                 joinedload(Operation.work_order).selectinload(WorkOrder.operations),
                 joinedload(Operation.work_order).selectinload(WorkOrder.edges),
                 joinedload(Operation.work_center), joinedload(Operation.machines))
    )
    if work_center_id:
        query = query.where(Operation.work_center_id == work_center_id)
    ops = s.scalars(query).unique().all()
    filter_center = s.scalar(select(Machine.work_center_id).where(Machine.id == machine_id)) if machine_id else None
    plan = {
        row.operation_id: row
        for row in s.scalars(
            select(ScheduledOperation).join(ScheduleVersion)
            .join(Operation, Operation.id == ScheduledOperation.operation_id)
            .where(ScheduleVersion.status == ScheduleStatus.PUBLISHED,
                   Operation.status.in_([OS.PENDING, OS.IN_PROGRESS, OS.PAUSED]))
            .options(joinedload(ScheduledOperation.machine))
        )
    }
    items = []
    routes: dict[int, tuple[dict[int, Operation], list[tuple[int, int]]]] = {}  # per order, once
    for op in ops:
        row = plan.get(op.id)
        if machine_id and not _may_run(op, row, machine_id, filter_center):
            continue
        order = op.work_order
        if order.id not in routes:
            routes[order.id] = ({o.id: o for o in order.operations}, _edges(order))
        by_id, edges = routes[order.id]
        preds = [by_id[p] for p, q in edges if q == op.id]
        ready = not preds or quantities.arrived(order.quantity, _upstream(preds)) > 0
        items.append(DispatchItem(op, order, ready, row.start_at if row else None, row.machine.code if row else None))
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    weight = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
    items.sort(key=lambda i: (not i.operation.status.started, not i.ready, i.planned_start or far,
                              i.order.due_date, weight[i.order.priority], i.order.number, i.operation.seq))
    per_page = per_page or PER_PAGE
    pages = max(1, math.ceil(len(items) / per_page))
    page = min(max(page, 1), pages)
    return DispatchPage(items[(page - 1) * per_page: page * per_page], len(items), page, pages)


def _may_run(op: Operation, row: ScheduledOperation | None, machine_id: int, center_id: int | None) -> bool:
    """Whether the operation belongs on the machine's list: it runs there, is planned there, or
    (not yet started) may run there."""
    if op.machine_id is not None:
        return op.machine_id == machine_id
    if row is not None:
        # The published plan put it on one machine: that machine's list has it, in the plan's
        # order (the planner's dispatch list of the same machine shows the same sequence).
        return row.machine_id == machine_id
    if op.machines:
        return any(m.machine_id == machine_id for m in op.machines)
    return center_id is not None and op.work_center_id == center_id


def eligible_machines(s: Session, op: Operation) -> list[Machine]:
    """The machines the operation may run on: its own list, else its work center's."""
    if op.machines:
        machines = [s.get(Machine, m.machine_id) for m in op.machines]
    else:
        machines = list(s.scalars(select(Machine).where(Machine.work_center_id == op.work_center_id).order_by(Machine.code)))
    return [m for m in machines if m is not None and m.status != MachineStatus.RETIRED]


def planned_machine_id(op_id: int) -> int | None:
    return session().scalar(
        select(ScheduledOperation.machine_id).join(ScheduleVersion)
        .where(ScheduleVersion.status == ScheduleStatus.PUBLISHED, ScheduledOperation.operation_id == op_id)
    )


def reasons(kind: ReasonKind) -> list[Reason]:
    return list(session().scalars(select(Reason).where(Reason.kind == kind, Reason.active)
                                  .order_by(Reason.sort_order, Reason.code)))


def running_for(user_id: int) -> list[Operation]:
    """The operations the worker is clocked on now (shown on every floor page)."""
    return list(session().scalars(
        select(Operation).join(LabourClock, LabourClock.operation_id == Operation.id)
        .where(LabourClock.user_id == user_id).options(joinedload(Operation.work_order)).order_by(LabourClock.id)
    ))


def workers_on(op_id: int) -> list[Any]:
    return list(session().scalars(select(LabourClock).where(LabourClock.operation_id == op_id)
                                  .options(joinedload(LabourClock.user)).order_by(LabourClock.id)))


def reports_of(op_id: int) -> list[ProductionReport]:
    return list(session().scalars(select(ProductionReport).where(ProductionReport.operation_id == op_id)
                                  .options(joinedload(ProductionReport.user)).order_by(ProductionReport.id)))


def labour_of_order(order_id: int) -> dict[int, list[tuple[str, Decimal]]]:
    """Per operation of the order, who booked how many minutes (the order page shows it)."""
    rows = session().execute(
        select(LabourRecord.operation_id, LabourRecord.user_id, func.sum(LabourRecord.minutes))
        .join(Operation, Operation.id == LabourRecord.operation_id)
        .where(Operation.work_order_id == order_id)
        .group_by(LabourRecord.operation_id, LabourRecord.user_id)
    ).all()
    from_users: dict[int, list[tuple[str, Decimal]]] = {}
    names = _user_names({r[1] for r in rows})
    for op_id, user_id, minutes in rows:
        from_users.setdefault(op_id, []).append((names.get(user_id, "?"), Decimal(minutes)))
    return from_users


def _user_names(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {u.id: u.display_name for u in session().scalars(select(User).where(User.id.in_(ids)))}


def touch_terminal(kiosk: KioskDevice | None) -> None:
    """Note that the terminal is in use, at most once a minute (floor pages call it)."""
    if kiosk is None:
        return
    now = utcnow()
    if kiosk.last_seen_at is not None and now - kiosk.last_seen_at < LAST_SEEN_EVERY:
        return
    with transaction() as s:
        row = s.get(KioskDevice, kiosk.id)
        if row is not None:
            row.last_seen_at = now
    kiosk.last_seen_at = now


# --- the guards ----------------------------------------------------------------------------------


def _lock(s: Session, op_id: int) -> tuple[Operation, WorkOrder]:
    op = s.get(Operation, op_id, with_for_update=True, populate_existing=True)
    if op is None:
        raise NotFound()
    order = s.get(WorkOrder, op.work_order_id, with_for_update=True, populate_existing=True)
    assert order is not None
    return op, order


def _order_open(order: WorkOrder) -> None:
    if order.status not in ACTIVE_STATUSES:
        raise InvalidTransition(_l("Work order %(number)s is %(status)s: nothing can be done on it now."),
                                number=order.number, status=order.status.label)


def _reason(s: Session, reason_id: int | None, *kinds: ReasonKind) -> Reason:
    reason = s.get(Reason, reason_id) if reason_id else None
    if reason is None or reason.kind not in kinds or not reason.active:
        raise ValidationError(_l("Choose a reason."), fields={"reason_id": [_l("Choose a reason.")]})
    return reason


def _machine(s: Session, op: Operation, machine_id: int | None) -> Machine:
    eligible = eligible_machines(s, op)
    chosen = next((m for m in eligible if m.id == machine_id), None)
    if chosen is None:
        raise ValidationError(_l("Choose one of the machines this operation may run on."),
                              fields={"machine_id": [_l("Choose one of the machines this operation may run on.")]})
    _lock_machine(s, chosen.id)
    _machine_free(s, op, chosen)
    return chosen


def _lock_machine(s: Session, machine_id: int) -> None:
    """Serialize starts on one machine (PostgreSQL; SQLite's writers are serialized anyway)."""
    s.execute(select(Machine.id).where(Machine.id == machine_id).with_for_update())


def _machine_free(s: Session, op: Operation, machine: Machine) -> None:
    other = s.scalars(select(Operation).where(Operation.machine_id == machine.id, Operation.status == OS.IN_PROGRESS,
                                              Operation.id != op.id)).first()
    if other is not None:
        raise Conflict(_l("Machine %(machine)s is running %(number)s / %(seq)s. Pause or finish that first."),
                       machine=machine.code, number=other.work_order.number, seq=other.seq)


def _ready(order: WorkOrder, op: Operation) -> None:
    preds = predecessors(order, op)
    if preds and quantities.arrived(order.quantity, _upstream(preds)) <= 0:
        waiting = ", ".join(str(p.seq) for p in preds if quantities.passed_on(_upstream([p])[0]) <= 0)
        raise InvalidTransition(_l("Operation %(ops)s has not passed on any pieces yet."), ops=waiting)


def _start_order(order: WorkOrder) -> None:
    if order.status == WorkOrderStatus.RELEASED:
        order.status = WorkOrderStatus(lifecycle.expect(order.status, Action.START).target)
        touch(order)


# --- labour clocks -------------------------------------------------------------------------------


def _book(s: Session, user_id: int, now: dt.datetime) -> None:
    """Book the worker's time since the last change, split equally over the open clocks."""
    clocks = list(s.scalars(select(LabourClock).where(LabourClock.user_id == user_id).with_for_update()))
    for clock in clocks:
        seconds = (now - clock.started_at).total_seconds()
        if seconds > 0:
            minutes = Decimal(seconds / 60 / len(clocks)).quantize(Decimal("0.01"))
            s.add(LabourRecord(user_id=user_id, operation_id=clock.operation_id, machine_id=clock.machine_id,
                               phase=clock.phase, started_at=clock.started_at, ended_at=now, minutes=minutes,
                               shared_by=len(clocks)))
        clock.started_at = now


def _clock_in(s: Session, user_id: int, op: Operation, now: dt.datetime) -> None:
    _book(s, user_id, now)
    clock = s.scalar(select(LabourClock).where(LabourClock.user_id == user_id, LabourClock.operation_id == op.id))
    if clock is None:
        s.add(LabourClock(user_id=user_id, operation_id=op.id, machine_id=op.machine_id, phase=op.phase or RUN,
                          started_at=now))
    else:
        clock.phase, clock.machine_id = op.phase or RUN, op.machine_id
    s.flush()


def _clock_out_all(s: Session, op: Operation, now: dt.datetime) -> None:
    for clock in list(s.scalars(select(LabourClock).where(LabourClock.operation_id == op.id))):
        _book(s, clock.user_id, now)
        s.delete(clock)
    s.flush()


def _rephase(s: Session, op: Operation, now: dt.datetime) -> None:
    for clock in list(s.scalars(select(LabourClock).where(LabourClock.operation_id == op.id))):
        _book(s, clock.user_id, now)
        clock.phase = op.phase or RUN


# --- the actions ---------------------------------------------------------------------------------


def _run(user_id: int, key: str | None, scope: str, payload: dict[str, Any], work: Any) -> dict[str, Any]:
    _status, body, _replayed = idempotency.run(user_id, key, scope, payload, work)
    return body


def start(user_id: int, key: str | None, op_id: int, phase: str, machine_id: int | None) -> dict[str, Any]:
    """Start setting up or running (or join a running operation, or go from setup to run)."""
    if phase not in PHASES:
        raise ValidationError(fields={"phase": [_l("Unknown phase.")]})

    def work(s: Session) -> tuple[int, dict[str, Any]]:
        now = utcnow()
        op, order = _lock(s, op_id)
        _order_open(order)
        if op.status == OS.PENDING:
            _ready(order, op)
            machine = _machine(s, op, machine_id)
            op.status, op.phase, op.machine_id = OS.IN_PROGRESS, phase, machine.id
            op.started_at = op.started_at or now
            _start_order(order)
        elif op.status == OS.IN_PROGRESS:
            if phase == RUN and op.phase == SETUP:
                op.phase = RUN
                _rephase(s, op, now)
            elif phase == SETUP and op.phase == RUN:
                raise InvalidTransition(_l("This operation is already running."))
        elif op.status == OS.PAUSED:
            raise InvalidTransition(_l("This operation is paused. Resume it."))
        else:
            raise InvalidTransition(_l("This operation is %(status)s.", status=op.status.label))
        _clock_in(s, user_id, op, now)
        return 200, {"operation_id": op.id, "status": op.status.value, "phase": op.phase}

    return _run(user_id, key, "floor.start", {"op": op_id, "phase": phase, "machine": machine_id}, work)


def pause(user_id: int, key: str | None, op_id: int, reason_id: int | None) -> dict[str, Any]:
    def work(s: Session) -> tuple[int, dict[str, Any]]:
        op, order = _lock(s, op_id)
        _order_open(order)
        if op.status != OS.IN_PROGRESS:
            raise InvalidTransition(_l("Only a running operation can be paused."))
        reason = _reason(s, reason_id, ReasonKind.PAUSE)
        with audit.reason(reason.name_en):
            _pause(s, op, reason)
        return 200, {"operation_id": op.id, "status": op.status.value}

    return _run(user_id, key, "floor.pause", {"op": op_id, "reason": reason_id}, work)


def _pause(s: Session, op: Operation, reason: Reason) -> None:
    op.status, op.pause_reason_id = OS.PAUSED, reason.id
    _clock_out_all(s, op, utcnow())


def stop_machine(user_id: int, key: str | None, op_id: int, reason_id: int | None) -> dict[str, Any]:
    """The machine stopped: the operation pauses and the machine is down (the scheduler plans
    around it) until the operation is resumed."""

    def work(s: Session) -> tuple[int, dict[str, Any]]:
        op, order = _lock(s, op_id)
        _order_open(order)
        if op.status != OS.IN_PROGRESS or op.machine_id is None:
            raise InvalidTransition(_l("Only a running operation can stop its machine."))
        reason = _reason(s, reason_id, ReasonKind.DOWNTIME)
        with audit.reason(reason.name_en):
            _pause(s, op, reason)
            row = MachineDowntime(machine_id=op.machine_id, starts_at=utcnow(), kind="breakdown", reason_id=reason.id,
                                  note=f"{order.number} / {op.seq}")
            s.add(row)
            s.flush()
        return 200, {"operation_id": op.id, "downtime_id": row.id}

    return _run(user_id, key, "floor.stop", {"op": op_id, "reason": reason_id}, work)


def resume(user_id: int, key: str | None, op_id: int) -> dict[str, Any]:
    def work(s: Session) -> tuple[int, dict[str, Any]]:
        now = utcnow()
        op, order = _lock(s, op_id)
        _order_open(order)
        if op.status != OS.PAUSED:
            raise InvalidTransition(_l("Only a paused operation can be resumed."))
        if op.machine_id is not None:
            _lock_machine(s, op.machine_id)
            _machine_free(s, op, s.get(Machine, op.machine_id))
            for down in s.scalars(select(MachineDowntime).where(
                    MachineDowntime.machine_id == op.machine_id, MachineDowntime.ends_at.is_(None),
                    MachineDowntime.reason_id.is_not(None), MachineDowntime.starts_at < now)):
                down.ends_at = now
        op.status, op.pause_reason_id = OS.IN_PROGRESS, None
        _clock_in(s, user_id, op, now)
        return 200, {"operation_id": op.id, "status": op.status.value}

    return _run(user_id, key, "floor.resume", {"op": op_id}, work)


def _report(s: Session, user_id: int, op: Operation, order: WorkOrder, good: int, scrap: int,
            scrap_reason_id: int | None, source: str = "terminal", reason: str | None = None,
            allow_empty: bool = False) -> ProductionReport | None:
    if good == 0 and scrap == 0 and allow_empty:
        return None
    refusal = quantities.check_report(good, scrap, op.qty_good + op.qty_scrap, allowed_quantity(order, op))
    if refusal == quantities.Refusal.NEGATIVE:
        raise ValidationError(_l("Quantities are whole numbers of 0 or more."))
    if refusal == quantities.Refusal.EMPTY:
        raise ValidationError(_l("Enter the good or scrap pieces."))
    if refusal == quantities.Refusal.TOO_MANY:
        left = quantities.remaining(op.qty_good + op.qty_scrap, allowed_quantity(order, op))
        raise ValidationError(_l("Only %(n)s more pieces can be reported on this operation."), n=left)
    if good > 0 and (check := current_app.extensions.get(FIRST_ARTICLE)) is not None:
        check(s, op)
    scrap_code = None
    if scrap:
        scrap_code = _reason(s, scrap_reason_id, ReasonKind.SCRAP).code
    row = ProductionReport(kind=ReportKind.PRODUCTION, operation_id=op.id, work_order_id=order.id,
                           machine_id=op.machine_id, user_id=user_id, good_qty=good, scrap_qty=scrap,
                           scrap_reason=scrap_code, source=source, reason=reason)
    s.add(row)
    op.qty_good += good
    op.qty_scrap += scrap
    s.flush()
    return row


def report(user_id: int, key: str | None, op_id: int, good: int, scrap: int,
           scrap_reason_id: int | None) -> dict[str, Any]:
    """Good and scrap pieces made so far (any time while the operation is started)."""

    def work(s: Session) -> tuple[int, dict[str, Any]]:
        op, order = _lock(s, op_id)
        _order_open(order)
        if op.status not in (OS.IN_PROGRESS, OS.PAUSED):
            raise InvalidTransition(_l("Start the operation before reporting on it."))
        row = _report(s, user_id, op, order, good, scrap, scrap_reason_id)
        assert row is not None
        return 201, {"report_id": row.id, "qty_good": op.qty_good, "qty_scrap": op.qty_scrap}

    return _run(user_id, key, "floor.report",
                {"op": op_id, "good": good, "scrap": scrap, "reason": scrap_reason_id}, work)


def finish(user_id: int, key: str | None, op_id: int, good: int = 0, scrap: int = 0,
           scrap_reason_id: int | None = None) -> dict[str, Any]:
    """Report the last pieces (if any) and finish; finishing the last open operation completes
    the work order."""

    def work(s: Session) -> tuple[int, dict[str, Any]]:
        now = utcnow()
        op, order = _lock(s, op_id)
        _order_open(order)
        if op.status not in (OS.IN_PROGRESS, OS.PAUSED):
            raise InvalidTransition(_l("Start the operation before finishing it."))
        _report(s, user_id, op, order, good, scrap, scrap_reason_id, allow_empty=True)
        if op.qty_good + op.qty_scrap == 0:
            raise ValidationError(_l("Nothing has been reported on this operation. Report the pieces first."))
        _clock_out_all(s, op, now)
        op.status, op.phase, op.pause_reason_id, op.finished_at = OS.DONE, None, None, now
        completed = False
        if all(o.status in (OS.DONE, OS.SKIPPED) for o in order.operations):
            lifecycle.expect(order.status, Action.COMPLETE)
            order.status, order.completed_at = WorkOrderStatus.COMPLETED, now
            touch(order)
            completed = True
        return 200, {"operation_id": op.id, "status": op.status.value, "order_completed": completed}

    return _run(user_id, key, "floor.finish",
                {"op": op_id, "good": good, "scrap": scrap, "reason": scrap_reason_id}, work)


def booked_between(s: Session, user_id: int, start: dt.datetime, end: dt.datetime) -> Decimal:
    """Minutes of ``[start, end)`` the worker already has booked (records prorated by their
    overlap, the time on open clocks in full): with the split rule a worker's bookings never add
    up to more than the time that passed."""
    busy = Decimal(0)
    for rec in s.scalars(select(LabourRecord).where(
            LabourRecord.user_id == user_id, LabourRecord.started_at < end, LabourRecord.ended_at > start)):
        span = (rec.ended_at - rec.started_at).total_seconds()
        if span > 0:
            overlap = (min(end, rec.ended_at) - max(start, rec.started_at)).total_seconds()
            busy += rec.minutes * Decimal(overlap / span)
    clocked = s.scalar(select(func.min(LabourClock.started_at)).where(LabourClock.user_id == user_id))
    if clocked is not None and clocked < end:
        busy += Decimal((end - max(start, clocked)).total_seconds() / 60)
    return busy


def explain_stop(user_id: int, key: str | None, op_id: int, downtime_id: int, reason_id: int | None) -> dict[str, Any]:
    """A worker gives the reason for a stop the machine reported itself (an automatic downtime on
    the operation's machine)."""

    def work(s: Session) -> tuple[int, dict[str, Any]]:
        op, _order = _lock(s, op_id)
        row = s.get(MachineDowntime, downtime_id, with_for_update=True)
        if row is None or row.machine_id != op.machine_id or row.source != MACHINE_SOURCE:
            raise NotFound()
        if row.reason_id is not None:
            raise InvalidTransition(_l("This stop already has a reason."))
        reason = _reason(s, reason_id, ReasonKind.DOWNTIME)
        with audit.reason(reason.name_en):
            row.reason_id = reason.id
        return 200, {"downtime_id": row.id, "reason_id": reason.id}

    return _run(user_id, key, "floor.explain_stop", {"op": op_id, "downtime": downtime_id, "reason": reason_id}, work)


#: app.extensions key of the machine-data reader: operation id -> (good, scrap) the machine counted
#: and nobody has reported yet, or None (plugged in by the app factory).
MACHINE_COUNTS = "mes.machine_counts"


def machine_counts(op_id: int) -> tuple[int, int] | None:
    reader = current_app.extensions.get(MACHINE_COUNTS)
    return reader(op_id) if reader else None


def unexplained_stops(machine_id: int | None) -> list[MachineDowntime]:
    """Stops the machine reported in the last day that nobody has given a reason for yet."""
    if machine_id is None:
        return []
    return list(session().scalars(select(MachineDowntime).where(
        MachineDowntime.machine_id == machine_id, MachineDowntime.source == MACHINE_SOURCE,
        MachineDowntime.reason_id.is_(None), MachineDowntime.starts_at > utcnow() - dt.timedelta(days=1),
    ).order_by(MachineDowntime.starts_at)))


# --- for the machine-data package (it reports counted pieces through these) ---------------------


def lock_operation(s: Session, op_id: int) -> tuple[Operation, WorkOrder]:
    """The operation and its order, locked, in the caller's transaction."""
    return _lock(s, op_id)


def add_report(s: Session, user_id: int | None, op: Operation, order: WorkOrder, good: int, scrap: int,
               scrap_reason_id: int | None = None, source: str = "machine") -> ProductionReport | None:
    """Report pieces on a started operation in the caller's transaction (the same checks as the
    terminal's report); scrap a machine counted without a reason is booked as "other"."""
    _order_open(order)
    if op.status not in (OS.IN_PROGRESS, OS.PAUSED):
        raise InvalidTransition(_l("Start the operation before reporting on it."))
    if scrap and scrap_reason_id is None:
        scrap_reason_id = s.scalar(select(Reason.id).where(Reason.kind == ReasonKind.SCRAP, Reason.code == "other",
                                                           Reason.active))
    return _report(s, user_id, op, order, good, scrap, scrap_reason_id, source=source, allow_empty=True)  # type: ignore[arg-type]


def run_keyed(user_id: int, key: str | None, scope: str, payload: dict[str, Any], work: Any) -> dict[str, Any]:
    """Run ``work`` once per idempotency key, as the terminal's own actions do."""
    return _run(user_id, key, scope, payload, work)


def book_time(user_id: int, key: str | None, op_id: int, phase: str, minutes: int, good: int, scrap: int,
              scrap_reason_id: int | None, reason: str | None, ended_at: dt.datetime | None = None) -> dict[str, Any]:
    """Minutes (and pieces) a worker enters after the fact, with a reason: the work ended at
    ``ended_at`` (now if not given) and took ``minutes``; that period must not already be booked."""
    why = (reason or "").strip()
    errors: dict[str, list] = {}
    if not why:
        errors["reason"] = [_l("Give a reason for this change.")]
    elif len(why) > 500:
        errors["reason"] = [_l("At most %(n)s characters.", n=500)]
    if phase not in PHASES:
        errors["phase"] = [_l("Unknown phase.")]
    if not 1 <= minutes <= MAX_MINUTES:
        errors["minutes"] = [_l("Between %(min)s and %(max)s minutes.", min=1, max=MAX_MINUTES)]
    if ended_at is not None and ended_at > utcnow() + dt.timedelta(minutes=1):
        errors["ended_at"] = [_l("The work cannot end in the future.")]
    if errors:
        raise ValidationError(fields=errors)

    def work(s: Session) -> tuple[int, dict[str, Any]]:
        op, order = _lock(s, op_id)
        _order_open(order)
        if op.status == OS.PENDING or op.status == OS.SKIPPED:
            raise InvalidTransition(_l("Start the operation before booking time on it."))
        end = ended_at or utcnow()
        start = end - dt.timedelta(minutes=minutes)
        busy = booked_between(s, user_id, start, end)
        if busy >= 1:
            message = _l("You already have %(n)s minutes booked between %(start)s and %(end)s.",
                         n=int(busy), start=format_moment(start), end=format_moment(end))
            raise ValidationError(message, fields={"minutes": [message]})
        s.add(LabourRecord(user_id=user_id, operation_id=op.id, machine_id=op.machine_id, phase=phase,
                           started_at=start, ended_at=end, minutes=Decimal(minutes), source="manual", reason=why))
        _report(s, user_id, op, order, good, scrap, scrap_reason_id, source="manual", reason=why, allow_empty=True)
        return 201, {"operation_id": op.id}

    return _run(user_id, key, "floor.time", {"op": op_id, "phase": phase, "minutes": minutes, "good": good,
                                             "scrap": scrap, "reason": why, "scrap_reason": scrap_reason_id,
                                             "ended_at": ended_at.isoformat() if ended_at else None}, work)


def correct(user_id: int, key: str | None, report_id: int, reason: str | None) -> dict[str, Any]:
    """Reverse a production report (quality or planner) with a reversing correction entry."""
    why = (reason or "").strip()
    if not why:
        raise ValidationError(fields={"reason": [_l("Give a reason for this change.")]})
    if len(why) > 500:
        raise ValidationError(fields={"reason": [_l("At most %(n)s characters.", n=500)]})

    def work(s: Session) -> tuple[int, dict[str, Any]]:
        original = s.get(ProductionReport, report_id)
        if original is None:
            raise NotFound()
        op, order = _lock(s, original.operation_id)
        if original.kind != ReportKind.PRODUCTION:
            raise InvalidTransition(_l("Only a production report can be reversed."))
        if s.scalar(select(ProductionReport.id).where(ProductionReport.reverses_id == original.id)):
            raise InvalidTransition(_l("This report has already been reversed."))
        if op.qty_good < original.good_qty or op.qty_scrap < original.scrap_qty:
            raise InvalidTransition(_l("These pieces have been moved on; this report can no longer be reversed."))
        row = ProductionReport(kind=ReportKind.CORRECTION, operation_id=op.id, work_order_id=order.id,
                               machine_id=original.machine_id, user_id=user_id, good_qty=-original.good_qty,
                               scrap_qty=-original.scrap_qty, scrap_reason=original.scrap_reason, source="correction",
                               reverses_id=original.id, reason=why)
        s.add(row)
        with audit.reason(why):
            op.qty_good -= original.good_qty
            op.qty_scrap -= original.scrap_qty
        for later in successors(order, op):
            # Pieces a later operation already worked on cannot be taken back from under it.
            if later.qty_good + later.qty_scrap > allowed_quantity(order, later):
                raise InvalidTransition(_l(
                    "Operation %(seq)s %(name)s has already reported pieces made from these; "
                    "reverse its reports first.", seq=later.seq, name=later.name))
        s.flush()
        return 201, {"report_id": row.id}

    return _run(user_id, key, "floor.correct", {"report": report_id, "reason": why}, work)
