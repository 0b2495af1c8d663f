"""The start page's figures: open, late and running work orders, what is due this week, and
machines that are down."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select

from mes.core.clock import plant_today
from mes.core.db import session
from mes.machines.models import Machine, WorkCalendar, WorkCenter
from mes.machines.services import count_stopped
from mes.orders.models import OPEN_STATUSES, WorkOrder, WorkOrderStatus
from mes.routing.models import ProductFamily, Routing, RoutingStatus
from mes.scheduling.models import ScheduleStatus, ScheduleVersion


@dataclass
class Overview:
    open_orders: int
    late_orders: int
    in_progress: int
    due_this_week: int
    machines_down: int


def overview() -> Overview:
    """The counts on the start page."""
    s = session()
    today = plant_today()
    open_statuses = OPEN_STATUSES
    count = lambda *conds: s.scalar(select(func.count()).select_from(WorkOrder).where(*conds)) or 0  # noqa: E731
    return Overview(
        open_orders=count(WorkOrder.status.in_(open_statuses)),
        late_orders=count(WorkOrder.status.in_(open_statuses), WorkOrder.due_date < today),
        in_progress=count(WorkOrder.status == WorkOrderStatus.IN_PROGRESS),
        due_this_week=count(WorkOrder.status.in_(open_statuses), WorkOrder.due_date >= today,
                            WorkOrder.due_date < today + dt.timedelta(days=7)),
        # Planning status or an open downtime (a breakdown leaves the status "available").
        machines_down=count_stopped(s),
    )


@dataclass
class SetupStep:
    """One step of setting up a new plant: done when its records exist."""

    key: str
    done: bool


def setup_steps() -> list[SetupStep]:
    """The steps from an empty plant to its first published plan, in order."""
    s = session()
    exists = lambda model, *conds: s.scalar(select(func.count()).select_from(model).where(*conds)) > 0  # noqa: E731
    return [
        SetupStep("calendars", exists(WorkCalendar)),
        SetupStep("work_centers", exists(WorkCenter)),
        SetupStep("machines", exists(Machine)),
        SetupStep("families", exists(ProductFamily)),
        SetupStep("routings", exists(Routing, Routing.status == RoutingStatus.RELEASED)),
        SetupStep("orders", exists(WorkOrder)),
        SetupStep("plan", exists(ScheduleVersion, ScheduleVersion.status.in_([ScheduleStatus.PUBLISHED, ScheduleStatus.SUPERSEDED]))),
    ]
