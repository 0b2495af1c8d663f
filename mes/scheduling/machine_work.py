"""What a machine still has to do: operations running on it and operations the published plan
puts on it. Retiring a machine is refused while there are any (mes.machines.services)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mes.orders.models import OPEN_STATUSES, Operation, OperationStatus, WorkOrder
from mes.scheduling.models import ScheduledOperation, ScheduleStatus, ScheduleVersion

UNFINISHED = (OperationStatus.PENDING, OperationStatus.IN_PROGRESS, OperationStatus.PAUSED)
LIMIT = 20


def open_work(s: Session, machine_id: int) -> list[str]:
    """Lines such as "WO-0012 / 20 Mill (running)" for each unfinished operation on the machine."""
    running = s.execute(
        select(WorkOrder.number, Operation.seq, Operation.name, Operation.status).join(Operation.work_order)
        .where(Operation.machine_id == machine_id, Operation.status.in_([OperationStatus.IN_PROGRESS, OperationStatus.PAUSED]))
        .order_by(WorkOrder.number, Operation.seq).limit(LIMIT)
    ).all()
    planned = s.execute(
        select(WorkOrder.number, Operation.seq, Operation.name, Operation.status)
        .select_from(ScheduledOperation).join(ScheduledOperation.schedule).join(ScheduledOperation.operation)
        .join(Operation.work_order)
        .where(ScheduledOperation.machine_id == machine_id, ScheduleVersion.status == ScheduleStatus.PUBLISHED,
               Operation.status.in_(UNFINISHED), WorkOrder.status.in_(OPEN_STATUSES))
        .order_by(ScheduledOperation.start_at).limit(LIMIT)
    ).all()
    lines, seen = [], set()
    for number, seq, name, status in [*running, *planned]:
        if (number, seq) not in seen:
            seen.add((number, seq))
            lines.append(f"{number} / {seq} {name} ({status.label})")
    return lines
