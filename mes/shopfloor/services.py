"""Shop-floor use cases: the dispatch list (what to run next)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from mes.core.db import session
from mes.operations import graph
from mes.operations import services as operations
from mes.orders.models import ACTIVE_STATUSES, Operation, OperationStatus, WorkOrder
from mes.scheduling.models import ScheduledOperation, ScheduleStatus, ScheduleVersion


@dataclass
class DispatchItem:
    operation: Operation
    order: WorkOrder
    ready: bool
    planned_start: dt.datetime | None
    planned_machine: str | None


def dispatch_list(work_center_id: int | None, limit: int = 50) -> list[DispatchItem]:
    """Open operations of released orders, in the published schedule's order where there is one,
    else by due date and priority; operations whose predecessors are not done come last."""
    s = session()
    query = (
        select(Operation)
        .join(WorkOrder)
        .where(WorkOrder.status.in_(ACTIVE_STATUSES),
               Operation.status.in_([OperationStatus.PENDING, OperationStatus.IN_PROGRESS, OperationStatus.PAUSED]))
        .options(joinedload(Operation.work_order).joinedload(WorkOrder.product), joinedload(Operation.work_center))
    )
    if work_center_id:
        query = query.where(Operation.work_center_id == work_center_id)
    ops = s.scalars(query).unique().all()
    plan = {
        row.operation_id: row
        for row in s.scalars(
            select(ScheduledOperation).join(ScheduleVersion)
            .where(ScheduleVersion.status == ScheduleStatus.PUBLISHED,
                   ScheduledOperation.operation_id.in_([op.id for op in ops]))
            .options(joinedload(ScheduledOperation.machine))
        )
    }
    items = []
    for op in ops:
        order = op.work_order
        by_id = {o.id: o for o in order.operations}
        edges = graph.bypass(graph.effective_edges(operations.nodes(order)),
                             {o.id for o in order.operations if o.status == OperationStatus.SKIPPED})
        preds = [by_id[p] for p, q in edges if q == op.id]
        ready = all(p.status == OperationStatus.DONE or (p.transfer_batch and p.qty_good >= p.transfer_batch) for p in preds)
        row = plan.get(op.id)
        items.append(DispatchItem(op, order, ready, row.start_at if row else None, row.machine.code if row else None))
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    weight = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
    items.sort(key=lambda i: (not i.operation.status.started, not i.ready, i.planned_start or far,
                              i.order.due_date, weight[i.order.priority], i.order.number, i.operation.seq))
    return items[:limit]
