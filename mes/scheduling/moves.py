"""Re-sequencing a draft by hand: move an operation to another place in a machine's queue or to
another eligible machine, pin it there, and re-time the whole draft at once (predecessors,
calendars, setups) without the optimizer; every re-timed draft passes the engine's checker."""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

from mes.core import audit
from mes.core.audit import current_actor
from mes.core.db import transaction, utcnow
from mes.core.errors import Conflict, InvalidTransition, NotFound, StaleEdit
from mes.machines.models import Machine, MachineStatus
from mes.orders.models import Operation, OperationStatus
from mes.scheduling.engine.checker import check
from mes.scheduling.engine.instance import Instance
from mes.scheduling.engine.plan import decode
from mes.scheduling.engine.problem import Phase, Problem, Result, SchedulingError
from mes.scheduling.engine.solver import plan_result
from mes.scheduling.models import OperationPin, ScheduledOperation, ScheduleStatus, ScheduleVersion
from mes.scheduling.services import REASON_MESSAGES, BuildOptions, Keys, build_problem, machine_key, op_key


@dataclass(frozen=True)
class Move:
    """Where a planner puts an operation: a machine, a place in its queue (0 = first; None = last)
    and optionally a start to pin (plant time is the caller's business; this is UTC)."""

    operation_id: int
    machine_id: int
    position: int | None = None
    start_at: dt.datetime | None = None


def eligible_machines(s: Session, operation_ids: list[int]) -> dict[int, list[int]]:
    """The available machines that can do each operation (its own list, or its work center's)."""
    if not operation_ids:
        return {}
    available = s.execute(select(Machine.id, Machine.work_center_id).where(Machine.status == MachineStatus.AVAILABLE)).all()
    ids = {mid for mid, _wc in available}
    by_wc: dict[int, list[int]] = {}
    for mid, wc in available:
        by_wc.setdefault(wc, []).append(mid)
    result: dict[int, list[int]] = {}
    for chunk in range(0, len(operation_ids), 500):
        for op in s.scalars(select(Operation).where(Operation.id.in_(operation_ids[chunk:chunk + 500]))
                            .options(selectinload(Operation.machines))):
            own = [m.machine_id for m in op.machines if m.machine_id in ids]
            result[op.id] = own if op.machines else list(by_wc.get(op.work_center_id, []))
    return result


def _draft_for_update(s: Session, schedule_id: int, expected_version: int | None,
                      expected_published: int | None) -> ScheduleVersion:
    version = s.scalar(select(ScheduleVersion).where(ScheduleVersion.id == schedule_id).with_for_update())
    if version is None:
        raise NotFound()
    if expected_version is not None and version.version != expected_version:
        who = version.created_by.display_name if version.created_by else str(_l("someone"))
        raise StaleEdit(who, version.changed_at or version.created_at)
    if version.status != ScheduleStatus.DRAFT:
        raise InvalidTransition(_l("Only a draft can be changed. Make a draft of this plan first."))
    published = s.scalar(select(ScheduleVersion.id).where(ScheduleVersion.status == ScheduleStatus.PUBLISHED))
    if expected_published is not None and published != (expected_published or None):
        raise Conflict(_l("Another plan was published since this board was drawn. Reload the board."), code="stale_board")
    return version


def move_operation(schedule_id: int, expected_version: int | None, move: Move,
                   expected_published: int | None = None) -> Result:
    """Move one operation of a draft, pin it, re-time the draft; refused with the reason, and
    nothing changes, when the move is not possible."""
    with transaction() as s:
        version = _draft_for_update(s, schedule_id, expected_version, expected_published)
        if version.what_if_json:
            raise InvalidTransition(_l("A what-if plan is not changed by hand. Make a draft of the published plan instead."))
        row = s.scalar(select(ScheduledOperation).where(ScheduledOperation.schedule_id == schedule_id,
                                                        ScheduledOperation.operation_id == move.operation_id))
        op = s.get(Operation, move.operation_id)
        if row is None or op is None:
            raise NotFound()
        label = f"{op.work_order.number}/{op.seq}"
        if op.status != OperationStatus.PENDING:
            raise Conflict(_l("%(op)s has already started or is finished: it stays where it is."), op=label,
                           code="operation_started")
        machine = s.get(Machine, move.machine_id)
        if machine is None or move.machine_id not in eligible_machines(s, [op.id]).get(op.id, []):
            raise Conflict(_l("%(machine)s cannot do %(op)s."), machine=machine.code if machine else "?", op=label,
                           code="machine_not_eligible")
        now = utcnow().replace(second=0, microsecond=0)
        if move.start_at is not None and move.start_at < now:
            raise Conflict(_l("%(op)s cannot be pinned to a start in the past."), op=label, code="pin_in_past")
        pin = s.get(OperationPin, op.id)
        if pin is None:
            pin = OperationPin(operation_id=op.id)
            s.add(pin)
        pin.machine_id, pin.start_at = move.machine_id, move.start_at
        pin.pinned_by_id, pin.pinned_at = current_actor().user_id, utcnow()
        s.flush()
        result = _retime(s, version, now, move)
        audit.record(s, "schedule_version", schedule_id, "move", "operation", None,
                     json.dumps({"operation": op.id, "machine": move.machine_id, "position": move.position}))
        return result


def unpin(schedule_id: int, expected_version: int | None, operation_id: int) -> None:
    """Let the optimizer place this operation again (it stays where it is until the next repair)."""
    with transaction() as s:
        version = _draft_for_update(s, schedule_id, expected_version, None)
        if s.execute(delete(OperationPin).where(OperationPin.operation_id == operation_id)).rowcount == 0:
            raise NotFound()
        version.changed_at = utcnow()
        audit.record(s, "schedule_version", schedule_id, "unpin", "operation", operation_id, None)


def copy_to_draft(schedule_id: int) -> int:
    """A draft holding the same plan as ``schedule_id`` (usually the published one), to change by hand."""
    with transaction() as s:
        source = s.get(ScheduleVersion, schedule_id)
        if source is None or source.status not in (ScheduleStatus.DRAFT, ScheduleStatus.PUBLISHED, ScheduleStatus.SUPERSEDED):
            raise NotFound()
        copy = ScheduleVersion(status=ScheduleStatus.DRAFT, origin=source.origin, time_limit_s=0, workers=0,
                               created_by_id=current_actor().user_id, solver_status=source.solver_status,
                               phase=source.phase, objective_json=source.objective_json, based_on_id=source.id)
        s.add(copy)
        s.flush()
        rows = s.execute(select(ScheduledOperation.operation_id, ScheduledOperation.machine_id, ScheduledOperation.setup_start_at,
                                ScheduledOperation.start_at, ScheduledOperation.end_at)
                         .where(ScheduledOperation.schedule_id == source.id)).all()
        s.add_all([ScheduledOperation(schedule_id=copy.id, operation_id=o, machine_id=m, setup_start_at=a, start_at=b, end_at=c)
                   for o, m, a, b, c in rows])
        audit.record(s, "schedule_version", copy.id, "copy", "based_on", None, source.id)
        return copy.id


def discard(schedule_id: int, expected_version: int | None) -> None:
    """Throw a draft away (its rows go with it); the published plan is untouched."""
    with transaction() as s:
        version = _draft_for_update(s, schedule_id, expected_version, None)
        audit.record(s, "schedule_version", schedule_id, "discard", "status", ScheduleStatus.DRAFT, None)
        s.delete(version)


# --- re-timing ----------------------------------------------------------------------------------


class MoveRefused(Conflict):
    code = "move_refused"


# What a refused move breaks, beyond what a failed run can (mes.scheduling.services.REASON_MESSAGES).
MOVE_MESSAGES = {
    "pinned_start_violates_precedence": _l("%(ops)s would start before its predecessor in the route is done."),
    "pinned_overlaps_fixed": _l("%(ops)s would overlap work that is already fixed on the machine."),
}


def _explain(error: SchedulingError, keys: Keys) -> str:
    reason = error.reasons[0]
    template = MOVE_MESSAGES.get(reason.code) or REASON_MESSAGES.get(reason.code)
    ops = ", ".join(keys.labels.get(k, k) for k in reason.keys[:1])
    return str(template) % {"ops": ops} if template is not None else reason.message


def retime_plan(problem: Problem, sequences: dict[str, list[str]]) -> Result | None:
    """The earliest plan that keeps these machine queues (engine keys, in order), or None when
    the queues contradict the routes' order or the pins. Operations in no queue go last on
    their first eligible machine."""
    instance = Instance(problem)
    n = instance.n
    machine = [instance.candidates[i][0][0] if instance.candidates[i] else 0 for i in range(n)]
    order = [float(10**6 + i) for i in range(n)]
    for m_key, queue in sequences.items():
        m = instance.machine_index.get(m_key)
        if m is None:
            continue
        for position, key in enumerate(queue):
            i = instance.op_index.get(key)
            if i is None:
                continue
            if any(mm == m for mm, _w in instance.candidates[i]):
                machine[i] = m
            order[i] = float(position)
    plan = decode(instance, machine, order)
    if plan is None:
        return None
    return plan_result(instance, plan, Phase.REPAIR)


def _retime(s: Session, version: ScheduleVersion, origin: dt.datetime, move: Move | None) -> Result:
    try:
        problem, keys = build_problem(s, origin, BuildOptions(use_previous=False))
    except SchedulingError as exc:  # pragma: no cover - build_problem itself does not validate
        raise MoveRefused(_l("The plan cannot be re-timed: %(why)s"), why=str(exc)) from exc
    rows = s.execute(select(ScheduledOperation.operation_id, ScheduledOperation.machine_id)
                     .where(ScheduledOperation.schedule_id == version.id)
                     .order_by(ScheduledOperation.start_at, ScheduledOperation.id)).all()
    sequences: dict[str, list[str]] = {}
    for operation_id, machine_id in rows:
        if move is not None and operation_id == move.operation_id:
            continue
        sequences.setdefault(machine_key(machine_id), []).append(op_key(operation_id))
    if move is not None:
        queue = sequences.setdefault(machine_key(move.machine_id), [])
        position = len(queue) if move.position is None else max(0, min(move.position, len(queue)))
        queue.insert(position, op_key(move.operation_id))
    try:
        result = retime_plan(problem, sequences)
    except SchedulingError as exc:
        raise MoveRefused(_explain(exc, keys)) from exc
    if result is None:
        raise MoveRefused(_l("This order of work breaks a route: an operation would start before its "
                             "predecessor is done, or a pinned operation cannot keep its place."), code="precedence")
    errors = check(problem, result)
    if errors:
        raise MoveRefused(_l("The re-timed plan is not feasible: %(why)s"), why=errors[0])
    s.execute(delete(ScheduledOperation).where(ScheduledOperation.schedule_id == version.id))
    for row in result.operations:
        start = origin + dt.timedelta(minutes=row.start)
        s.add(ScheduledOperation(schedule_id=version.id, operation_id=keys.operations[row.operation],
                                 machine_id=keys.machines[row.machine], setup_start_at=start - dt.timedelta(minutes=row.setup),
                                 start_at=start, end_at=origin + dt.timedelta(minutes=row.end)))
    version.origin = origin
    version.objective_json = json.dumps({str(k): v for k, v in result.objective.items()})
    version.changed_at = utcnow()
    return result


