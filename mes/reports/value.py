"""Proof of value: what changed month by month since the plant went live (OEE, on-time delivery,
order lead time, scrap rate, setup time) and how digital the shop has become (machines connected
by MQTT, production reported on terminals instead of paper, orders planned by the optimizer).
This is what SME digital-transformation programmes ask an owner to show."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session, aliased

from mes.core.clock import day_start, plant_today, plant_tz
from mes.core.db import utcnow
from mes.machinedata.oee import EMPTY, compute
from mes.machinedata.services import oee_inputs
from mes.machinedata.models import MachineLive
from mes.machines.models import Machine, MachineStatus
from mes.orders.models import Operation, ProductionReport, ReportKind, WorkOrder
from mes.reports.daily import OUTPUT_KINDS
from mes.scheduling.models import ScheduledOperation, ScheduleStatus, ScheduleVersion
from mes.shopfloor.models import LabourRecord

SETUP = "setup"
#: Where a production report came from when it was typed on a terminal (not entered from paper).
TERMINAL = "terminal"


@dataclass
class MonthFigures:
    month: dt.date  # the first day of the month
    oee: float | None
    on_time: float | None  # share of the orders completed that month that were on time
    completed: int
    lead_time_days: float | None  # mean days from release to completion of those orders
    scrap_rate: float | None
    setup_hours: Decimal
    setup_minutes_per_changeover: float | None
    terminal_share: float | None  # share of production reports made on terminals
    optimizer_share: float | None  # share of orders released that month the published plan scheduled
    released: int


@dataclass
class ValueReport:
    go_live: dt.date | None
    months: list[MonthFigures]
    machines_connected: int
    machines_total: int

    @property
    def first(self) -> MonthFigures | None:
        return self.months[0] if self.months else None

    @property
    def last(self) -> MonthFigures | None:
        return self.months[-1] if self.months else None


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def go_live(s: Session) -> dt.date | None:
    """The plant day of the first production report: the month the shop started recording."""
    first = s.scalar(select(func.min(ProductionReport.reported_at)))
    return first.astimezone(plant_tz()).date() if first is not None else None


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def month_figures(s: Session, month: dt.date, now: dt.datetime) -> MonthFigures:
    start = day_start(month).astimezone(dt.UTC)
    end = min(day_start(_next_month(month)).astimezone(dt.UTC), now)
    oee = compute(sum(oee_inputs(start, end).values(), EMPTY)).oee if end > start else None

    done = s.execute(select(WorkOrder.completed_at, WorkOrder.due_date, WorkOrder.released_at)
                     .where(WorkOrder.completed_at >= start, WorkOrder.completed_at < end)).all()
    tz = plant_tz()
    on_time = sum(1 for at, due, _r in done if at.astimezone(tz).date() <= due)
    leads = [(at - released).total_seconds() / 86400 for at, _d, released in done if released is not None]

    original = aliased(ProductionReport)
    made_at = func.coalesce(original.reported_at, ProductionReport.reported_at)
    good, scrap = s.execute(
        select(func.coalesce(func.sum(ProductionReport.good_qty), 0), func.coalesce(func.sum(ProductionReport.scrap_qty), 0))
        .outerjoin(original, original.id == ProductionReport.reverses_id)
        .where(made_at >= start, made_at < end, ProductionReport.kind.in_(OUTPUT_KINDS))
    ).one()
    sources = dict(s.execute(
        select(ProductionReport.source, func.count())
        .where(ProductionReport.reported_at >= start, ProductionReport.reported_at < end,
               ProductionReport.kind == ReportKind.PRODUCTION)
        .group_by(ProductionReport.source)
    ).all())
    terminal, reports = int(sources.get(TERMINAL, 0)), int(sum(sources.values()))

    booked_at = func.coalesce(LabourRecord.ended_at, LabourRecord.recorded_at)
    setup_minutes, setups = s.execute(
        select(func.coalesce(func.sum(LabourRecord.minutes), 0), func.count(distinct(LabourRecord.operation_id)))
        .where(LabourRecord.phase == SETUP, booked_at >= start, booked_at < end)
    ).one()

    released_ids = select(WorkOrder.id).where(WorkOrder.released_at >= start, WorkOrder.released_at < end)
    released = s.scalar(select(func.count()).select_from(released_ids.subquery())) or 0
    planned = s.scalar(
        select(func.count(distinct(Operation.work_order_id)))
        .join(ScheduledOperation, ScheduledOperation.operation_id == Operation.id)
        .join(ScheduleVersion, ScheduleVersion.id == ScheduledOperation.schedule_id)
        .where(Operation.work_order_id.in_(released_ids),
               ScheduleVersion.status.in_([ScheduleStatus.PUBLISHED, ScheduleStatus.SUPERSEDED]))
    ) or 0
    minutes = Decimal(setup_minutes or 0)
    return MonthFigures(
        month=month, oee=oee, on_time=_share(on_time, len(done)), completed=len(done),
        lead_time_days=sum(leads) / len(leads) if leads else None,
        scrap_rate=_share(int(scrap), int(good) + int(scrap)),
        setup_hours=(minutes / 60).quantize(Decimal("0.01")),
        setup_minutes_per_changeover=float(minutes) / setups if setups else None,
        terminal_share=_share(terminal, reports), optimizer_share=_share(planned, released), released=released,
    )


def value_report(s: Session) -> ValueReport:
    """Every month from go-live to this one, and the shop's digital footprint now."""
    now = utcnow()
    first = go_live(s)
    months = []
    if first is not None:
        month, last = _month_start(first), _month_start(plant_today())
        while month <= last:
            months.append(month_figures(s, month, now))
            month = _next_month(month)
    # Connected means data has arrived, not only that the machine is marked as connected.
    receiving = select(MachineLive.machine_id).where(MachineLive.last_message_at.is_not(None))
    connected, total = s.execute(
        select(func.count().filter(Machine.has_data_connection, Machine.id.in_(receiving)), func.count())
        .select_from(Machine).where(Machine.status != MachineStatus.RETIRED)
    ).one()
    return ValueReport(first, months, int(connected or 0), int(total or 0))
