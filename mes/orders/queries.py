"""Reading work orders: the filtered, sorted, paged list, one order with everything its page
shows, and per-operation progress (with the published plan's times when the caller has them)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import joinedload

from mes.core.clock import plant_today
from mes.core.db import session
from mes.operations import services as operations
from mes.orders.models import OPEN_STATUSES, Operation, OperationStatus, WorkOrder
from mes.routing.models import Product


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
    return operations.load_for_page(session(), WorkOrder, order_id, joinedload(WorkOrder.product).joinedload(Product.family))


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
    # Who worked on it and how many minutes they booked (from the shop floor).
    workers: list[tuple[str, Decimal]] = field(default_factory=list)


@dataclass(frozen=True)
class PlannedTimes:
    """Where and when the published plan has an operation."""

    start: dt.datetime
    end: dt.datetime
    machine_code: str


#: Where the app keeps the reader of the published plan's times. The scheduler sits above orders,
#: so orders cannot import it: the app factory plugs its reader in (``mes.app``).
PLANNED_TIMES = "mes.orders.planned_times"


def planned_times(operation_ids: list[int]) -> Mapping[int, PlannedTimes]:
    """The published plan's times of these operations (none while no reader is plugged in)."""
    reader = current_app.extensions.get(PLANNED_TIMES)
    return reader(operation_ids) if reader else {}


#: Where the app keeps the reader of the labour booked per operation (the shop floor, above orders).
LABOUR = "mes.orders.labour"


def labour(order_id: int) -> Mapping[int, list[tuple[str, Decimal]]]:
    """Per operation of the order: (worker, minutes) booked on it (none while no reader is plugged in)."""
    reader = current_app.extensions.get(LABOUR)
    return reader(order_id) if reader else {}


def progress(order: WorkOrder) -> list[OperationProgress]:
    """Per operation: planned pieces and times, good, scrap, what remains; in sequence order."""
    planned = planned_times([op.id for op in order.operations])
    booked = labour(order.id)
    preds = operations.predecessor_seqs(order)
    out = []
    for op in sorted(order.operations, key=lambda o: o.seq):
        plan = planned.get(op.id)
        remaining = 0 if op.status in (OperationStatus.DONE, OperationStatus.SKIPPED) else max(order.quantity - op.qty_good, 0)
        out.append(OperationProgress(
            operation=op, predecessors=sorted(preds.get(op.id, [])), planned=order.quantity, good=op.qty_good,
            scrap=op.qty_scrap, remaining=remaining,
            planned_start=plan.start if plan else None, planned_end=plan.end if plan else None,
            planned_machine=plan.machine_code if plan else None, workers=list(booked.get(op.id, [])),
        ))
    return out
