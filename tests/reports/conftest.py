"""A known plant day for the owner's reports: production (with a correction and a transfer),
labour, downtime, completed and late orders and a published plan, with the figures they make."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from mes.core.clock import plant_today
from mes.core.db import session, transaction
from mes.machines.models import (
    CalendarShift,
    MachineDowntime,
    Reason,
    ReasonKind,
    WorkCalendar,
    WorkCenter,
)
from mes.orders.models import (
    Operation,
    OperationStatus,
    ProductionReport,
    ReportKind,
    WorkOrder,
    WorkOrderStatus,
)
from mes.scheduling.models import ScheduledOperation, ScheduleStatus, ScheduleVersion
from mes.shopfloor.models import LabourRecord

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def known_day(app, users, plant, make_order):  # type: ignore[no-untyped-def]
    """Yesterday in the plant (Asia/Shanghai) with these figures:

    output 85 good (TURN 65, MILL 20; L-NEW 35, L-OLD 30, M-1 20), 6 scrap (5 out of tolerance,
    1 surface); planned 150 (TURN 100, MILL 50); downtime 195 min (tool breakage 90, no reason
    60, power 45); completed B (late) and C (on time); open late E, at risk F; labour: Worker
    6.00 h / 55 good, Worker Two 2.00 h / 30 good. The day before: 50 good, no scrap. Shifts
    06:00-14:00 and 14:00-22:00 every day; OEE from the run-phase labour on each machine.
    """
    day = plant_today() - dt.timedelta(days=1)

    def at(hour: int, minute: int = 0, days: int = 0) -> dt.datetime:
        return dt.datetime.combine(day + dt.timedelta(days=days), dt.time(hour, minute), tzinfo=TZ).astimezone(dt.UTC)

    a = make_order(quantity=100, due_date=day + dt.timedelta(days=5), customer="ACME")
    b = make_order(quantity=10, due_date=day - dt.timedelta(days=1))
    c = make_order(quantity=10, due_date=day + dt.timedelta(days=2))
    e = make_order(quantity=10, due_date=day - dt.timedelta(days=3))
    f = make_order(quantity=10, due_date=day + dt.timedelta(days=1))
    with transaction() as s:
        # Two shifts every day for both work centers: 960 planned minutes per machine.
        calendar = WorkCalendar(code="2S", name="Two shifts")
        s.add(calendar)
        s.flush()
        s.add_all([CalendarShift(calendar_id=calendar.id, weekday=d, start_minute=a, end_minute=b)
                   for d in range(7) for a, b in ((360, 840), (840, 1320))])
        for wc in (plant.turn, plant.mill):
            s.get(WorkCenter, wc).calendar_id = calendar.id
        reason = {(r.kind, r.code): r.id for r in s.scalars(select(Reason))}
        ops = {}
        for order_id in (a.id, f.id):
            ops[order_id] = list(s.scalars(select(Operation).where(Operation.work_order_id == order_id).order_by(Operation.seq)))
        a1, a2 = ops[a.id]
        order_a = s.get(WorkOrder, a.id)
        order_a.status = WorkOrderStatus.IN_PROGRESS
        a1.status, a1.qty_good, a1.machine_id = OperationStatus.IN_PROGRESS, 65, plant.new
        a2.status, a2.qty_good, a2.machine_id = OperationStatus.PAUSED, 20, plant.m1
        for order_id, when in ((b.id, at(14)), (c.id, at(10))):
            order = s.get(WorkOrder, order_id)
            order.status, order.completed_at = WorkOrderStatus.COMPLETED, when
        worker, worker2 = users["worker"], users["worker2"]

        def report(op, machine, user, good, scrap, code, when, kind=ReportKind.PRODUCTION, **kw):  # type: ignore[no-untyped-def]
            row = ProductionReport(kind=kind, operation_id=op.id, work_order_id=a.id, machine_id=machine, user_id=user,
                                   good_qty=good, scrap_qty=scrap, scrap_reason=code, reported_at=when, **kw)
            s.add(row)
            s.flush()
            return row

        first = report(a1, plant.new, worker, 40, 2, "dimension", at(7, 30))  # 23:30 UTC the day before
        report(a1, plant.old, worker2, 30, 1, "surface", at(11))
        report(a2, plant.m1, worker, 20, 3, "dimension", at(15))
        report(a1, plant.new, worker, -5, 0, None, at(16), kind=ReportKind.CORRECTION, reverses_id=first.id,
               reason="counted twice", source="correction")
        report(a1, plant.new, worker, 7, 0, None, at(17), kind=ReportKind.TRANSFER, reason="split", source="split")
        report(a1, plant.new, worker, 50, 0, None, at(10, days=-1))  # the day before
        report(a1, plant.new, worker, 9, 0, None, at(0, 30, days=1))  # today: not on the sheet
        s.add_all([
            LabourRecord(user_id=worker, operation_id=a1.id, machine_id=plant.new, phase="run", started_at=at(8),
                         ended_at=at(12), minutes=Decimal(240)),
            LabourRecord(user_id=worker, operation_id=a2.id, machine_id=plant.m1, phase="run", started_at=at(14),
                         ended_at=at(16), minutes=Decimal(120)),
            LabourRecord(user_id=worker2, operation_id=a1.id, machine_id=plant.old, phase="run", started_at=at(9),
                         ended_at=at(11), minutes=Decimal(120)),
            MachineDowntime(machine_id=plant.old, starts_at=at(10), ends_at=at(11, 30),
                            reason_id=reason[(ReasonKind.DOWNTIME, "tool_break")]),
            MachineDowntime(machine_id=plant.m1, starts_at=at(13), ends_at=at(13, 45),
                            reason_id=reason[(ReasonKind.DOWNTIME, "power")]),
            MachineDowntime(machine_id=plant.old, starts_at=at(23, days=-1), ends_at=at(1)),
        ])
        plan = ScheduleVersion(status=ScheduleStatus.PUBLISHED, origin=at(0, days=-1), time_limit_s=10, workers=1,
                               published_at=at(20, days=-1))
        s.add(plan)
        s.flush()
        f1 = ops[f.id][0]
        s.add_all([
            ScheduledOperation(schedule_id=plan.id, operation_id=a1.id, machine_id=plant.new, setup_start_at=at(8),
                               start_at=at(8), end_at=at(12)),
            ScheduledOperation(schedule_id=plan.id, operation_id=a2.id, machine_id=plant.m1, setup_start_at=at(20),
                               start_at=at(20), end_at=at(4, days=1)),
            ScheduledOperation(schedule_id=plan.id, operation_id=f1.id, machine_id=plant.old, setup_start_at=at(8, days=2),
                               start_at=at(8, days=2), end_at=at(10, days=3)),
        ])
    session().rollback()
    numbers = {"a": a.number, "b": b.number, "c": c.number, "e": e.number, "f": f.number}
    return SimpleNamespace(day=day, at=at, plan_id=plan.id, **numbers)
