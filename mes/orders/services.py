"""Use cases on work orders: create, release (copying the routing in force), hold, cancel, split,
close, and planners' changes to a released order's remaining operations. Each is one transaction;
each refuses what the order's state does not allow."""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from mes.core import audit
from mes.core.audit import check_version, current_actor, touch
from mes.core.clock import plant_today
from mes.core.db import session, transaction, utcnow
from mes.core.errors import InvalidTransition, NotFound, ValidationError
from mes.orders.models import (
    Operation,
    OperationEdge,
    OperationMachine,
    OperationStatus,
    Priority,
    WorkOrder,
    WorkOrderStatus,
)
from mes.routing import graph
from mes.routing import services as routing_services
from mes.routing.models import Product
from mes.routing.rules import MachineTime, OperationInput
from mes.shopfloor.models import ProductionReport, ReportKind

MAX_QUANTITY = 1_000_000
S = WorkOrderStatus
#: Orders not yet finished: what planners work on and what can be late.
OPEN_STATUSES = (S.DRAFT, S.RELEASED, S.IN_PROGRESS, S.ON_HOLD)


@dataclass
class WorkOrderInput:
    product_id: int | None
    quantity: int | None
    due_date: dt.date | None
    number: str | None = None
    release_date: dt.date | None = None
    priority: Priority = Priority.NORMAL
    customer: str | None = None
    note: str | None = None


def _load(s: Session, order_id: int, expected_version: int | None) -> WorkOrder:
    order = s.scalars(
        select(WorkOrder)
        .where(WorkOrder.id == order_id)
        .options(selectinload(WorkOrder.operations).selectinload(Operation.machines), selectinload(WorkOrder.edges))
        .with_for_update()
    ).one_or_none()
    if order is None:
        raise NotFound()
    check_version(order, expected_version)
    return order


def _require_reason(reason: str | None) -> str:
    if not reason or not reason.strip():
        raise ValidationError(fields={"reason": [_l("Give a reason for this change.")]})
    if len(reason) > 500:
        raise ValidationError(fields={"reason": [_l("At most %(n)s characters.", n=500)]})
    return reason.strip()


def validate(s: Session, data: WorkOrderInput, order_id: int | None = None) -> dict[str, list]:
    """Field errors of a work order's data; shared by forms, the API and imports."""
    errors: dict[str, list] = {}
    if data.number is not None:
        number = data.number.strip()
        if len(number) > 40:
            errors["number"] = [_l("At most %(n)s characters.", n=40)]
        elif number:
            taken = s.scalar(select(WorkOrder.id).where(WorkOrder.number == number))
            if taken and taken != order_id:
                errors["number"] = [_l("Work order %(number)s already exists.", number=number)]
    if data.product_id is None:
        errors["product"] = [_l("This field is required.")]
    else:
        product = s.get(Product, data.product_id)
        if product is None or not product.active:
            errors["product"] = [_l("Unknown product.")]
    if data.quantity is None:
        errors["quantity"] = [_l("This field is required.")]
    elif data.quantity <= 0:
        errors["quantity"] = [_l("The quantity must be at least 1.")]
    elif data.quantity > MAX_QUANTITY:
        errors["quantity"] = [_l("At most %(n)s pieces.", n=MAX_QUANTITY)]
    if data.due_date is None:
        errors["due_date"] = [_l("This field is required.")]
    elif data.release_date and data.due_date < data.release_date:
        errors["due_date"] = [_l("The due date is before the release date.")]
    if data.customer and len(data.customer) > 120:
        errors["customer"] = [_l("At most %(n)s characters.", n=120)]
    return errors


def _next_number(s: Session) -> str:
    last = s.scalar(select(func.max(WorkOrder.id))) or 0
    candidate = last + 1
    while s.scalar(select(WorkOrder.id).where(WorkOrder.number == f"WO-{candidate:06d}")):
        candidate += 1
    return f"WO-{candidate:06d}"


def create(data: WorkOrderInput) -> int:
    with transaction() as s:
        return create_in(s, data)


def create_in(s: Session, data: WorkOrderInput) -> int:
    """Create a draft work order inside an open transaction (used by imports and the API)."""
    errors = validate(s, data)
    if errors:
        raise ValidationError(fields=errors)
    order = WorkOrder(
        number=(data.number or "").strip() or _next_number(s),
        product_id=data.product_id,
        quantity=data.quantity,
        due_date=data.due_date,
        release_date=data.release_date,
        priority=data.priority,
        customer=(data.customer or "").strip() or None,
        note=(data.note or "").strip() or None,
        status=S.DRAFT,
        updated_by_id=current_actor().user_id,
    )
    s.add(order)
    try:
        with s.begin_nested():
            s.flush()
    except IntegrityError:
        raise ValidationError(fields={"number": [_l("Work order %(number)s already exists.", number=order.number)]}) from None
    return order.id


def update(order_id: int, expected_version: int | None, data: WorkOrderInput) -> None:
    """Edit an order's header. Product and quantity are fixed once the order is released."""
    with transaction() as s:
        order = _load(s, order_id, expected_version)
        if order.status in (S.CLOSED, S.CANCELLED):
            raise InvalidTransition()
        if order.status != S.DRAFT:
            if data.product_id != order.product_id or data.quantity != order.quantity:
                raise InvalidTransition(_l("Product and quantity of a released order cannot change. Split the order instead."))
        errors = validate(s, data, order_id)
        if errors:
            raise ValidationError(fields=errors)
        if data.number and data.number.strip():
            order.number = data.number.strip()
        order.product_id = data.product_id  # type: ignore[assignment]
        order.quantity = data.quantity  # type: ignore[assignment]
        order.due_date = data.due_date  # type: ignore[assignment]
        order.release_date = data.release_date
        order.priority = data.priority
        order.customer = (data.customer or "").strip() or None
        order.note = (data.note or "").strip() or None
        touch(order)


# --- state transitions --------------------------------------------------------------------------


def _expect(order: WorkOrder, *allowed: WorkOrderStatus) -> None:
    if order.status not in allowed:
        raise InvalidTransition(
            _l("Not possible while the order is %(status)s."), status=order.status.label
        )


def release(order_id: int, expected_version: int | None) -> None:
    """Release an order to the floor: its operations become a copy of the routing in force."""
    with transaction() as s:
        release_in(s, order_id, expected_version)


def release_in(s: Session, order_id: int, expected_version: int | None = None) -> None:
    order = _load(s, order_id, expected_version)
    _expect(order, S.DRAFT)
    routing = routing_services.routing_in_force(s, order.product_id, plant_today())
    if routing is None:
        product = s.get(Product, order.product_id)
        raise InvalidTransition(
            _l("Product %(product)s has no released routing in force. Release a routing first."), product=product.code if product else "?"
        )
    _snapshot(s, order, routing)
    order.routing_id = routing.id
    order.status = S.RELEASED
    order.released_at = utcnow()
    touch(order)


def _snapshot(s: Session, order: WorkOrder, routing) -> None:  # type: ignore[no-untyped-def]
    mapping: dict[int, Operation] = {}
    for rop in routing.operations:
        op = routing_services.copy_operation(rop, Operation, OperationMachine, source_operation_id=rop.id)
        order.operations.append(op)
        mapping[rop.id] = op
    s.flush()
    for e in routing.edges:
        order.edges.append(OperationEdge(work_order_id=order.id, predecessor_id=mapping[e.predecessor_id].id, successor_id=mapping[e.successor_id].id))


def hold(order_id: int, expected_version: int | None, reason: str | None) -> None:
    with audit.reason(_require_reason(reason)), transaction() as s:
        order = _load(s, order_id, expected_version)
        _expect(order, S.RELEASED, S.IN_PROGRESS)
        order.held_from = order.status
        order.status = S.ON_HOLD
        touch(order)


def release_hold(order_id: int, expected_version: int | None) -> None:
    with transaction() as s:
        order = _load(s, order_id, expected_version)
        _expect(order, S.ON_HOLD)
        order.status = order.held_from or S.RELEASED
        order.held_from = None
        touch(order)


def has_reports(s: Session, order_id: int) -> bool:
    return s.scalar(select(func.count()).select_from(ProductionReport).where(ProductionReport.work_order_id == order_id)) > 0


def cancel(order_id: int, expected_version: int | None, reason: str | None) -> None:
    with audit.reason(_require_reason(reason)), transaction() as s:
        order = _load(s, order_id, expected_version)
        _expect(order, S.DRAFT, S.RELEASED, S.ON_HOLD)
        if has_reports(s, order_id) or any(op.status.started for op in order.operations):
            raise InvalidTransition(_l("Work has been reported on this order, so it cannot be cancelled. Close it instead."))
        order.status = S.CANCELLED
        order.held_from = None
        touch(order)


def complete(order_id: int, expected_version: int | None) -> None:
    with transaction() as s:
        order = _load(s, order_id, expected_version)
        _expect(order, S.IN_PROGRESS, S.RELEASED)
        open_ops = [op.seq for op in order.operations if op.status not in (OperationStatus.DONE, OperationStatus.SKIPPED)]
        if open_ops:
            raise InvalidTransition(_l("Operations %(ops)s are not finished."), ops=", ".join(map(str, open_ops)))
        order.status = S.COMPLETED
        order.completed_at = utcnow()
        touch(order)


def close(order_id: int, expected_version: int | None) -> None:
    with transaction() as s:
        order = _load(s, order_id, expected_version)
        _expect(order, S.COMPLETED)
        order.status = S.CLOSED
        touch(order)


TRANSITIONS = {
    "release": lambda oid, v, reason: release(oid, v),
    "hold": hold,
    "release_hold": lambda oid, v, reason: release_hold(oid, v),
    "cancel": cancel,
    "complete": lambda oid, v, reason: complete(oid, v),
    "close": lambda oid, v, reason: close(oid, v),
}


def change_status(order_id: int, action: str, expected_version: int | None, reason: str | None = None) -> None:
    if action not in TRANSITIONS:
        raise ValidationError(fields={"action": [_l("Unknown action.")]})
    TRANSITIONS[action](order_id, expected_version, reason)


def split(order_id: int, expected_version: int | None, quantity: int | None, reason: str | None,
          due_date: dt.date | None = None) -> int:
    """Split ``quantity`` pieces off into a new lot (e.g. a partial delivery).

    The original keeps as much reported progress as fits its new quantity; what is beyond moves
    to the new lot as a pair of transfer reports, so each operation's totals over both lots stay
    what was reported, and neither lot has more good pieces than pieces.
    """
    why = _require_reason(reason)
    with audit.reason(why), transaction() as s:
        order = _load(s, order_id, expected_version)
        _expect(order, S.DRAFT, S.RELEASED, S.IN_PROGRESS, S.ON_HOLD)
        if quantity is None or not 1 <= quantity < order.quantity:
            raise ValidationError(fields={"quantity": [_l("Split between 1 and %(max)s pieces.", max=order.quantity - 1)]})
        if due_date and order.release_date and due_date < order.release_date:
            raise ValidationError(fields={"due_date": [_l("The due date is before the release date.")]})
        keep = order.quantity - quantity
        child = WorkOrder(
            number=_split_number(s, order.number), product_id=order.product_id, quantity=quantity,
            due_date=due_date or order.due_date, release_date=order.release_date, priority=order.priority,
            customer=order.customer, note=order.note, status=order.status if order.status != S.IN_PROGRESS else S.RELEASED,
            held_from=order.held_from, routing_id=order.routing_id, parent_id=order.id,
            released_at=order.released_at, updated_by_id=current_actor().user_id,
        )
        s.add(child)
        order.quantity = keep
        touch(order)
        s.flush()
        mapping: dict[int, Operation] = {}
        user_id = current_actor().user_id
        moved_any = False
        for op in order.operations:
            moved = max(0, min(op.qty_good - keep, quantity))
            status = (OperationStatus.SKIPPED if op.status == OperationStatus.SKIPPED else OperationStatus.DONE
                      if moved >= quantity else OperationStatus.PAUSED if moved else OperationStatus.PENDING)
            new = routing_services.copy_operation(op, Operation, OperationMachine, source_operation_id=op.source_operation_id,
                                                  status=status, qty_good=moved)
            child.operations.append(new)
            mapping[op.id] = new
            if moved:
                moved_any = True
                op.qty_good -= moved
                s.flush()
                s.add_all([
                    ProductionReport(kind=ReportKind.TRANSFER, operation_id=op.id, work_order_id=order.id, user_id=user_id,
                                     good_qty=-moved, scrap_qty=0, source="split", reason=why),
                    ProductionReport(kind=ReportKind.TRANSFER, operation_id=new.id, work_order_id=child.id, user_id=user_id,
                                     good_qty=moved, scrap_qty=0, source="split", reason=why),
                ])
        s.flush()
        for e in order.edges:
            child.edges.append(OperationEdge(work_order_id=child.id, predecessor_id=mapping[e.predecessor_id].id, successor_id=mapping[e.successor_id].id))
        if moved_any and child.status == S.RELEASED:
            child.status = S.IN_PROGRESS
        s.flush()
        return child.id


def _split_number(s: Session, number: str) -> str:
    base = number.split("/")[0]
    n = 2
    while s.scalar(select(WorkOrder.id).where(WorkOrder.number == f"{base}/{n}")):
        n += 1
    return f"{base}/{n}"


# --- changes to a released order's remaining operations -----------------------------------------


def _changeable(order: WorkOrder) -> None:
    _expect(order, S.DRAFT, S.RELEASED, S.IN_PROGRESS, S.ON_HOLD)
    if order.status == S.DRAFT or not order.operations:
        raise InvalidTransition(_l("Release the order first; until then it follows its product's routing."))


def _op(order: WorkOrder, operation_id: int) -> Operation:
    op = next((o for o in order.operations if o.id == operation_id), None)
    if op is None:
        raise NotFound()
    return op


def _refuse_started(op: Operation) -> None:
    if op.status.started:
        raise InvalidTransition(
            _l("Operation %(seq)s has started; started or finished work cannot be changed."), seq=op.seq
        )


def op_nodes(order: WorkOrder) -> list[graph.Node[int]]:
    preds: dict[int, list[int]] = {}
    for e in order.edges:
        preds.setdefault(e.successor_id, []).append(e.predecessor_id)
    return [graph.Node(op.id, op.seq, op.follows_previous, tuple(sorted(preds.get(op.id, [])))) for op in order.operations]


def _check_order_graph(order: WorkOrder) -> None:
    """No cycles, and no pending operation placed before one that has already started."""
    nodes = op_nodes(order)
    edges = graph.effective_edges(nodes)
    cycle = graph.find_cycle([n.key for n in nodes], edges)
    seqs = {op.id: op.seq for op in order.operations}
    if cycle:
        raise ValidationError(_l("The predecessors form a cycle: %(ops)s."), ops=" → ".join(str(seqs[k]) for k in cycle),
                              fields={"predecessors": [_l("The predecessors form a cycle.")]})
    by_id = {op.id: op for op in order.operations}
    for pred, succ in edges:
        if by_id[succ].status.started and not by_id[pred].status.started and by_id[pred].status != OperationStatus.SKIPPED:
            raise InvalidTransition(
                _l("Operation %(pred)s cannot come before operation %(succ)s, which has already started."),
                pred=by_id[pred].seq, succ=by_id[succ].seq,
            )


def _apply_op(op: Operation, data: OperationInput) -> None:
    routing_services.apply_input(op, data, OperationMachine)


def _set_op_predecessors(s: Session, order: WorkOrder, op: Operation, data: OperationInput) -> None:
    routing_services.set_predecessors(s, order, op, data, lambda pred, succ: OperationEdge(
        work_order_id=order.id, predecessor_id=pred, successor_id=succ))


def insert_operation(order_id: int, expected_version: int | None, data: OperationInput, seq: int | None,
                     reason: str | None) -> int:
    """Add an operation (e.g. rework) to a released order. ``seq`` places it; by default last."""
    why = _require_reason(reason)
    with audit.reason(why), transaction() as s:
        order = _load(s, order_id, expected_version)
        _changeable(order)
        routing_services.validate_input(s, data)
        seq = routing_services.choose_seq({o.seq for o in order.operations}, seq)
        op = Operation(seq=seq, name="", work_center_id=data.work_center_id)
        _apply_op(op, data)
        order.operations.append(op)
        s.flush()
        _set_op_predecessors(s, order, op, data)
        s.flush()
        s.refresh(order, ["operations", "edges"])
        _check_order_graph(order)
        touch(order)
        return op.id


def change_operation(order_id: int, operation_id: int, expected_version: int | None, data: OperationInput,
                     reason: str | None) -> None:
    """Change a not-yet-started operation: machines, times, instructions, predecessors."""
    why = _require_reason(reason)
    with audit.reason(why), transaction() as s:
        order = _load(s, order_id, expected_version)
        _changeable(order)
        op = _op(order, operation_id)
        _refuse_started(op)
        if op.status == OperationStatus.SKIPPED:
            raise InvalidTransition(_l("Operation %(seq)s is skipped. Restore it first."), seq=op.seq)
        routing_services.validate_input(s, data)
        _apply_op(op, data)
        _set_op_predecessors(s, order, op, data)
        s.flush()
        _check_order_graph(order)
        touch(order)


def skip_operation(order_id: int, operation_id: int, expected_version: int | None, reason: str | None) -> None:
    """Leave out an operation that has not started (e.g. no painting for this lot)."""
    why = _require_reason(reason)
    with audit.reason(why), transaction() as s:
        order = _load(s, order_id, expected_version)
        _changeable(order)
        op = _op(order, operation_id)
        _refuse_started(op)
        if op.status == OperationStatus.SKIPPED:
            return
        remaining = [o for o in order.operations if o.status != OperationStatus.SKIPPED and o.id != op.id]
        if not remaining:
            raise InvalidTransition(_l("An order needs at least one operation. Cancel the order instead."))
        op.status = OperationStatus.SKIPPED
        touch(order)


def restore_operation(order_id: int, operation_id: int, expected_version: int | None, reason: str | None) -> None:
    why = _require_reason(reason)
    with audit.reason(why), transaction() as s:
        order = _load(s, order_id, expected_version)
        _changeable(order)
        op = _op(order, operation_id)
        if op.status != OperationStatus.SKIPPED:
            return
        op.status = OperationStatus.PENDING
        s.flush()
        _check_order_graph(order)
        touch(order)


def move_operation(order_id: int, operation_id: int, expected_version: int | None, direction: int,
                   reason: str | None) -> None:
    """Swap a pending operation with its neighbour in sequence; started ones stay where they are."""
    why = _require_reason(reason)
    with audit.reason(why), transaction() as s:
        order = _load(s, order_id, expected_version)
        _changeable(order)
        ops = sorted(order.operations, key=lambda o: o.seq)
        index = next((i for i, o in enumerate(ops) if o.id == operation_id), None)
        if index is None:
            raise NotFound()
        other = index + (1 if direction > 0 else -1)
        if not 0 <= other < len(ops):
            return
        a, b = ops[index], ops[other]
        _refuse_started(a)
        _refuse_started(b)
        seq_a, seq_b = a.seq, b.seq
        a.seq = -seq_a
        s.flush()
        b.seq = seq_a
        s.flush()
        a.seq = seq_b
        s.flush()
        _check_order_graph(order)
        touch(order)


# --- reading ------------------------------------------------------------------------------------


@dataclass
class OrderFilter:
    q: str | None = None
    status: list[str] = field(default_factory=list)
    product_id: int | None = None
    due_from: dt.date | None = None
    due_to: dt.date | None = None
    late: bool = False
    sort: str = "due"


SORTS = {
    "due": (WorkOrder.due_date.asc(), WorkOrder.id.asc()),
    "-due": (WorkOrder.due_date.desc(), WorkOrder.id.desc()),
    "number": (WorkOrder.number.asc(),),
    "-number": (WorkOrder.number.desc(),),
    "priority": (WorkOrder.priority.desc(), WorkOrder.due_date.asc()),
    "-created": (WorkOrder.id.desc(),),
}


def _filtered(f: OrderFilter) -> Select:
    query = select(WorkOrder).join(Product, Product.id == WorkOrder.product_id)
    if f.q:
        like = f"%{f.q.strip()}%"
        query = query.where(or_(WorkOrder.number.ilike(like), WorkOrder.customer.ilike(like),
                                Product.code.ilike(like), Product.name.ilike(like)))
    if f.status:
        query = query.where(WorkOrder.status.in_(f.status))
    if f.product_id:
        query = query.where(WorkOrder.product_id == f.product_id)
    if f.due_from:
        query = query.where(WorkOrder.due_date >= f.due_from)
    if f.due_to:
        query = query.where(WorkOrder.due_date <= f.due_to)
    if f.late:
        query = query.where(and_(WorkOrder.due_date < plant_today(), WorkOrder.status.in_(OPEN_STATUSES)))
    return query


def list_orders(f: OrderFilter, page: int = 1, per_page: int = 50) -> tuple[Sequence[WorkOrder], int]:
    s = session()
    query = _filtered(f)
    total = s.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = s.scalars(
        query.options(joinedload(WorkOrder.product))
        .order_by(*SORTS.get(f.sort, SORTS["due"]))
        .limit(per_page)
        .offset((max(page, 1) - 1) * per_page)
    ).all()
    return rows, total


def get(order_id: int) -> WorkOrder:
    order = session().scalars(
        select(WorkOrder)
        .where(WorkOrder.id == order_id)
        .options(
            joinedload(WorkOrder.product).joinedload(Product.family),
            selectinload(WorkOrder.operations).selectinload(Operation.machines).joinedload(OperationMachine.machine),
            selectinload(WorkOrder.operations).joinedload(Operation.work_center),
            selectinload(WorkOrder.edges),
        )
    ).unique().one_or_none()
    if order is None:
        raise NotFound()
    return order


@dataclass
class OperationProgress:
    operation: Operation
    predecessors: list[int]
    planned: int
    good: int
    scrap: int
    remaining: int
    planned_start: dt.datetime | None = None
    planned_end: dt.datetime | None = None
    planned_machine: str | None = None


def progress(order: WorkOrder) -> list[OperationProgress]:
    """Per operation: planned pieces and times, good, scrap, what remains; in sequence order."""
    from mes.scheduling.models import ScheduledOperation, ScheduleStatus, ScheduleVersion

    seqs = {op.id: op.seq for op in order.operations}
    preds: dict[int, list[int]] = {}
    for p, q in graph.effective_edges(op_nodes(order)):
        preds.setdefault(q, []).append(seqs[p])
    planned = {
        row.operation_id: row
        for row in session().scalars(
            select(ScheduledOperation)
            .join(ScheduleVersion)
            .where(ScheduleVersion.status == ScheduleStatus.PUBLISHED,
                   ScheduledOperation.operation_id.in_([op.id for op in order.operations]))
            .options(joinedload(ScheduledOperation.machine))
        )
    }
    out = []
    for op in sorted(order.operations, key=lambda o: o.seq):
        plan = planned.get(op.id)
        remaining = 0 if op.status in (OperationStatus.DONE, OperationStatus.SKIPPED) else max(order.quantity - op.qty_good, 0)
        out.append(OperationProgress(
            operation=op, predecessors=sorted(preds.get(op.id, [])), planned=order.quantity, good=op.qty_good,
            scrap=op.qty_scrap, remaining=remaining,
            planned_start=plan.start_at if plan else None, planned_end=plan.end_at if plan else None,
            planned_machine=plan.machine.code if plan else None,
        ))
    return out


@dataclass
class Overview:
    open_orders: int
    late_orders: int
    in_progress: int
    due_this_week: int
    machines_down: int


def overview() -> Overview:
    from mes.machines.models import Machine, MachineStatus

    s = session()
    today = plant_today()
    open_statuses = OPEN_STATUSES
    count = lambda *conds: s.scalar(select(func.count()).select_from(WorkOrder).where(*conds)) or 0  # noqa: E731
    return Overview(
        open_orders=count(WorkOrder.status.in_(open_statuses)),
        late_orders=count(WorkOrder.status.in_(open_statuses), WorkOrder.due_date < today),
        in_progress=count(WorkOrder.status == S.IN_PROGRESS),
        due_this_week=count(WorkOrder.status.in_(open_statuses), WorkOrder.due_date >= today,
                            WorkOrder.due_date < today + dt.timedelta(days=7)),
        machines_down=s.scalar(select(func.count()).select_from(Machine).where(
            Machine.status.in_([MachineStatus.DOWN, MachineStatus.MAINTENANCE]))) or 0,
    )


def operation_input_from(op: Operation) -> OperationInput:
    """The current data of an operation, as a form or an API change starts from it."""
    return OperationInput(
        name=op.name, work_center_id=op.work_center_id, setup_minutes=op.setup_minutes, run_minutes=op.run_minutes,
        machines=[MachineTime(m.machine_id, m.setup_minutes, m.run_minutes) for m in op.machines],
        instructions=op.instructions, transfer_batch=op.transfer_batch, inspection_required=op.inspection_required,
        drawing=op.drawing, program_no=op.program_no, follows_previous=op.follows_previous,
    )

