"""Use cases on work orders: create and edit, release (copying the routing in force), hold,
cancel, complete, close and split. Each is one transaction; each asks the declared state
machine (:mod:`mes.orders.lifecycle`) whether the order's status allows it."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mes.core import audit
from mes.core.audit import current_actor
from mes.core.clock import plant_today
from mes.core.db import transaction, utcnow
from mes.core.errors import InvalidTransition, ValidationError
from mes.core.locking import touch
from mes.operations import services as operations
from mes.orders import lifecycle, numbering
from mes.orders.lifecycle import Action
from mes.orders.models import (
    Operation,
    OperationEdge,
    OperationMachine,
    OperationStatus,
    Priority,
    ProductionReport,
    ReportKind,
    WorkOrder,
    WorkOrderStatus,
)
from mes.routing.models import Product, Routing
from mes.routing.services import routing_in_force

MAX_QUANTITY = 1_000_000
S = WorkOrderStatus


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


def load(s: Session, order_id: int, expected_version: int | None) -> WorkOrder:
    return operations.load_for_change(s, WorkOrder, order_id, expected_version)


def require_reason(reason: str | None) -> str:
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
    """The next number of the plant's scheme (``ORDER_NUMBER_FORMAT``) in this period."""
    fmt = current_app.config["ORDER_NUMBER_FORMAT"]
    today = plant_today()
    prefix, _ = numbering.pattern(fmt, today)
    like = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    existing = list(s.scalars(select(WorkOrder.number).where(WorkOrder.number.like(like, escape="\\"))))
    candidate = numbering.next_seq(existing, fmt, today)
    while s.scalar(select(WorkOrder.id).where(WorkOrder.number == numbering.format_number(fmt, today, candidate))):
        candidate += 1
    return numbering.format_number(fmt, today, candidate)


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
        order = load(s, order_id, expected_version)
        lifecycle.expect(order.status, Action.EDIT)
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


def edge_maker(order: WorkOrder) -> Callable[[int, int], OperationEdge]:
    return lambda pred, succ: OperationEdge(work_order_id=order.id, predecessor_id=pred, successor_id=succ)


def _move(order: WorkOrder, action: Action) -> None:
    """Take ``action``'s transition from the declared table."""
    target = lifecycle.expect(order.status, action).target
    if target == lifecycle.HELD_FROM:
        order.status, order.held_from = order.held_from or S.RELEASED, None
    elif action == Action.HOLD:
        order.held_from, order.status = order.status, S.ON_HOLD
    elif target is not None:
        order.status = WorkOrderStatus(target)
    touch(order)


def release(order_id: int, expected_version: int | None) -> None:
    """Release an order to the floor: its operations become a copy of the routing in force."""
    with transaction() as s:
        release_in(s, order_id, expected_version)


def release_in(s: Session, order_id: int, expected_version: int | None = None) -> None:
    order = load(s, order_id, expected_version)
    lifecycle.expect(order.status, Action.RELEASE)
    routing = routing_in_force(s, order.product_id, plant_today())
    if routing is None:
        product = s.get(Product, order.product_id)
        raise InvalidTransition(
            _l("Product %(product)s has no released routing in force. Release a routing first."), product=product.code if product else "?"
        )
    _snapshot(s, order, routing)
    order.routing_id = routing.id
    order.released_at = utcnow()
    _move(order, Action.RELEASE)


def _snapshot(s: Session, order: WorkOrder, routing: Routing) -> None:
    operations.copy_all(s, routing, order, Operation, OperationMachine, edge_maker(order),
                        lambda rop: {"source_operation_id": rop.id})


def hold(order_id: int, expected_version: int | None, reason: str | None) -> None:
    with audit.reason(require_reason(reason)), transaction() as s:
        _move(load(s, order_id, expected_version), Action.HOLD)


def release_hold(order_id: int, expected_version: int | None) -> None:
    with transaction() as s:
        _move(load(s, order_id, expected_version), Action.RELEASE_HOLD)


def has_reports(s: Session, order_id: int) -> bool:
    return s.scalar(select(func.count()).select_from(ProductionReport).where(ProductionReport.work_order_id == order_id)) > 0


def cancel(order_id: int, expected_version: int | None, reason: str | None) -> None:
    with audit.reason(require_reason(reason)), transaction() as s:
        order = load(s, order_id, expected_version)
        lifecycle.expect(order.status, Action.CANCEL)
        if has_reports(s, order_id) or any(op.status.started for op in order.operations):
            raise InvalidTransition(_l("Work has been reported on this order, so it cannot be cancelled. Close it instead."))
        order.held_from = None
        _move(order, Action.CANCEL)


def complete(order_id: int, expected_version: int | None) -> None:
    with transaction() as s:
        order = load(s, order_id, expected_version)
        lifecycle.expect(order.status, Action.COMPLETE)
        open_ops = [op.seq for op in order.operations if op.status not in (OperationStatus.DONE, OperationStatus.SKIPPED)]
        if open_ops:
            raise InvalidTransition(_l("Operations %(ops)s are not finished."), ops=", ".join(map(str, open_ops)))
        order.completed_at = utcnow()
        _move(order, Action.COMPLETE)


def close(order_id: int, expected_version: int | None) -> None:
    with transaction() as s:
        _move(load(s, order_id, expected_version), Action.CLOSE)


_STATUS_CHANGES: dict[Action, Callable[[int, int | None, str | None], None]] = {
    Action.RELEASE: lambda oid, v, reason: release(oid, v),
    Action.HOLD: hold,
    Action.RELEASE_HOLD: lambda oid, v, reason: release_hold(oid, v),
    Action.CANCEL: cancel,
    Action.COMPLETE: lambda oid, v, reason: complete(oid, v),
    Action.CLOSE: lambda oid, v, reason: close(oid, v),
}


def change_status(order_id: int, action: str, expected_version: int | None, reason: str | None = None) -> None:
    """One of the status changes the order page offers (the table's actions with a button)."""
    t = lifecycle.transition(action)
    if t is None or t.action not in _STATUS_CHANGES:
        raise ValidationError(fields={"action": [_l("Unknown action.")]})
    _STATUS_CHANGES[t.action](order_id, expected_version, reason)


def split(order_id: int, expected_version: int | None, quantity: int | None, reason: str | None,
          due_date: dt.date | None = None) -> int:
    """Split ``quantity`` pieces off into a new lot (e.g. a partial delivery).

    The original keeps as much reported progress as fits its new quantity; what is beyond moves
    to the new lot as a pair of transfer reports, so each operation's totals over both lots stay
    what was reported, and neither lot has more good pieces than pieces.
    """
    why = require_reason(reason)
    with audit.reason(why), transaction() as s:
        order = load(s, order_id, expected_version)
        lifecycle.expect(order.status, Action.SPLIT)
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
        moved = {op.id: max(0, min(op.qty_good - keep, quantity)) for op in order.operations}

        def lot_fields(op: Operation) -> dict[str, object]:
            status = (OperationStatus.SKIPPED if op.status == OperationStatus.SKIPPED else OperationStatus.DONE
                      if moved[op.id] >= quantity else OperationStatus.PAUSED if moved[op.id] else OperationStatus.PENDING)
            return {"source_operation_id": op.source_operation_id, "status": status, "qty_good": moved[op.id]}

        mapping = operations.copy_all(s, order, child, Operation, OperationMachine, edge_maker(child), lot_fields)
        user_id = current_actor().user_id
        for op in order.operations:
            if moved[op.id]:
                op.qty_good -= moved[op.id]
                s.add_all([
                    ProductionReport(kind=ReportKind.TRANSFER, operation_id=op.id, work_order_id=order.id, user_id=user_id,
                                     good_qty=-moved[op.id], scrap_qty=0, source="split", reason=why),
                    ProductionReport(kind=ReportKind.TRANSFER, operation_id=mapping[op.id].id, work_order_id=child.id,
                                     user_id=user_id, good_qty=moved[op.id], scrap_qty=0, source="split", reason=why),
                ])
        moved_any = any(moved.values())
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


