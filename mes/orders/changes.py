"""Planners' changes to the remaining operations of a released work order: insert (e.g. rework),
change machines and times, skip, restore, re-order. Started or finished work is never changed;
every change needs a reason, which the audit log keeps."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from mes.core import audit
from mes.core.db import transaction
from mes.core.errors import InvalidTransition
from mes.core.locking import touch
from mes.operations import services as operations
from mes.operations.rules import OperationInput
from mes.orders import lifecycle
from mes.orders.lifecycle import Action
from mes.orders.models import Operation, OperationMachine, OperationStatus, WorkOrder, WorkOrderStatus
from mes.orders.services import edge_maker, load, require_reason


def _changeable(order: WorkOrder) -> None:
    lifecycle.expect(order.status, Action.CHANGE_OPERATIONS)
    if order.status == WorkOrderStatus.DRAFT or not order.operations:
        raise InvalidTransition(_l("Release the order first; until then it follows its product's routing."))


@contextlib.contextmanager
def _changing(order_id: int, expected_version: int | None, reason: str | None) -> Iterator[tuple[Session, WorkOrder]]:
    """One change to an order's remaining operations: its reason (audited), its transaction, the
    order locked at the version the planner saw and in a state that allows the change."""
    with audit.reason(require_reason(reason)), transaction() as s:
        order = load(s, order_id, expected_version)
        _changeable(order)
        yield s, order


def _refuse_started(op: Operation) -> None:
    if op.status.started:
        raise InvalidTransition(
            _l("Operation %(seq)s has started; started or finished work cannot be changed."), seq=op.seq
        )


def _check_order_graph(order: WorkOrder) -> None:
    """No cycles, and no pending operation placed before one that has already started."""
    edges = operations.check_acyclic(order)
    by_id = {op.id: op for op in order.operations}
    for pred, succ in edges:
        if by_id[succ].status.started and not by_id[pred].status.started and by_id[pred].status != OperationStatus.SKIPPED:
            raise InvalidTransition(
                _l("Operation %(pred)s cannot come before operation %(succ)s, which has already started."),
                pred=by_id[pred].seq, succ=by_id[succ].seq,
            )


def insert_operation(order_id: int, expected_version: int | None, data: OperationInput, seq: int | None,
                     reason: str | None) -> int:
    """Add an operation (e.g. rework) to a released order. ``seq`` places it; by default last."""
    with _changing(order_id, expected_version, reason) as (s, order):
        return insert_operation_in(s, order, data, seq).id


def insert_operation_in(s: Session, order: WorkOrder, data: OperationInput, seq: int | None) -> Operation:
    """The insertion inside the caller's transaction, on an order it has loaded and locked (a
    rework disposition closes its nonconformance in the same transaction)."""
    _changeable(order)
    op = operations.add(s, order, data, seq, Operation, OperationMachine, edge_maker(order))
    _check_order_graph(order)
    touch(order)
    return op


def change_operation(order_id: int, operation_id: int, expected_version: int | None, data: OperationInput,
                     reason: str | None) -> None:
    """Change a not-yet-started operation: machines, times, instructions, predecessors."""
    with _changing(order_id, expected_version, reason) as (s, order):
        op = operations.find(order, operation_id)
        _refuse_started(op)
        if op.status == OperationStatus.SKIPPED:
            raise InvalidTransition(_l("Operation %(seq)s is skipped. Restore it first."), seq=op.seq)
        operations.change(s, order, op, data, OperationMachine, edge_maker(order))
        _check_order_graph(order)
        touch(order)


def skip_operation(order_id: int, operation_id: int, expected_version: int | None, reason: str | None) -> None:
    """Leave out an operation that has not started (e.g. no painting for this lot)."""
    with _changing(order_id, expected_version, reason) as (s, order):
        op = operations.find(order, operation_id)
        _refuse_started(op)
        if op.status == OperationStatus.SKIPPED:
            return
        remaining = [o for o in order.operations if o.status != OperationStatus.SKIPPED and o.id != op.id]
        if not remaining:
            raise InvalidTransition(_l("An order needs at least one operation. Cancel the order instead."))
        op.status = OperationStatus.SKIPPED
        touch(order)


def restore_operation(order_id: int, operation_id: int, expected_version: int | None, reason: str | None) -> None:
    with _changing(order_id, expected_version, reason) as (s, order):
        op = operations.find(order, operation_id)
        if op.status != OperationStatus.SKIPPED:
            return
        op.status = OperationStatus.PENDING
        s.flush()
        _check_order_graph(order)
        touch(order)


def move_operation(order_id: int, operation_id: int, expected_version: int | None, direction: int,
                   reason: str | None) -> None:
    """Swap a pending operation with its neighbour in sequence; started ones stay where they are."""
    with _changing(order_id, expected_version, reason) as (s, order):
        if operations.swap_with_neighbour(s, order, operation_id, direction, guard=_refuse_started):
            _check_order_graph(order)
            touch(order)
