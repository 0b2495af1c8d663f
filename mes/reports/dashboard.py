"""The owner's dashboard figures: today so far (output, OEE, machines down now, late orders) and
the last seven days' trends. Cheap enough to poll: a few aggregate queries per day."""
from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from mes.core.clock import day_end, day_start, plant_today
from mes.core.db import get_db, utcnow
from mes.machinedata.oee import EMPTY, compute
from mes.machinedata.services import oee_inputs
from mes.machines.models import Machine, MachineDowntime, MachineStatus, Reason
from mes.orders.models import OPEN_STATUSES, WorkOrder
from mes.reports.daily import DayFigures, day_figures

TREND_DAYS = 7
LATE_LISTED = 5
#: Past days change rarely (a late correction): their figures are kept this long per process, so a
#: poll recomputes only today's.
PAST_DAYS_TTL = 600.0
_past: dict[tuple[str, dt.date], tuple[float, DayFigures, float | None]] = {}
_past_lock = threading.Lock()


@dataclass
class DownMachine:
    code: str
    name: str
    since: dt.datetime | None
    reason_en: str | None
    reason_zh: str | None
    status: MachineStatus

    def reason(self, locale: str) -> str | None:
        return self.reason_zh if locale.startswith("zh") else self.reason_en


@dataclass
class LateOrder:
    number: str
    due: dt.date
    days_late: int


@dataclass
class Dashboard:
    at: dt.datetime
    today: DayFigures
    oee_today: float | None
    down: list[DownMachine]
    late_count: int
    late: list[LateOrder]
    days: list[DayFigures]  # oldest first, today last
    oee_days: list[float | None]


def _down(s: Session, now: dt.datetime) -> list[DownMachine]:
    stops = s.execute(
        select(MachineDowntime.machine_id, MachineDowntime.starts_at, MachineDowntime.kind, Reason.name_en, Reason.name_zh)
        .outerjoin(Reason, Reason.id == MachineDowntime.reason_id)
        .where(MachineDowntime.starts_at <= now, or_(MachineDowntime.ends_at.is_(None), MachineDowntime.ends_at > now))
        .order_by(MachineDowntime.starts_at)
    ).all()
    open_stop = {row[0]: row for row in stops}
    out = []
    for m in s.scalars(select(Machine).where(Machine.status != MachineStatus.RETIRED).order_by(Machine.code)):
        stop = open_stop.get(m.id)
        if m.status in (MachineStatus.DOWN, MachineStatus.MAINTENANCE) or stop is not None:
            status = m.status if m.status != MachineStatus.AVAILABLE else (
                MachineStatus.MAINTENANCE if stop and stop[2] == "maintenance" else MachineStatus.DOWN)
            out.append(DownMachine(m.code, m.name, stop[1] if stop else None, stop[3] if stop else None,
                                   stop[4] if stop else None, status))
    return out


def _day(s: Session, day: dt.date, now: dt.datetime) -> tuple[DayFigures, float | None]:
    start = day_start(day).astimezone(dt.UTC)
    end = min(day_end(day).astimezone(dt.UTC), now)
    oee = compute(sum(oee_inputs(start, end).values(), EMPTY)).oee if end > start else None
    return day_figures(s, day), oee


def _past_day(s: Session, day: dt.date, now: dt.datetime) -> tuple[DayFigures, float | None]:
    key = (get_db().url, day)
    with _past_lock:
        found = _past.get(key)
    if found is not None and found[0] > time.monotonic():
        return found[1], found[2]
    figures, oee = _day(s, day, now)
    with _past_lock:
        if len(_past) > 1000:
            _past.clear()
        _past[key] = (time.monotonic() + PAST_DAYS_TTL, figures, oee)
    return figures, oee


def dashboard(s: Session) -> Dashboard:
    now = utcnow()
    today = plant_today()
    points = [_past_day(s, today - dt.timedelta(days=n), now) for n in range(TREND_DAYS - 1, 0, -1)]
    points.append(_day(s, today, now))
    days = [p[0] for p in points]
    oee_days = [p[1] for p in points]
    late_filter = (WorkOrder.status.in_(OPEN_STATUSES), WorkOrder.due_date < today)
    late_count = s.scalar(select(func.count()).select_from(WorkOrder).where(*late_filter)) or 0
    late = [LateOrder(number, due, (today - due).days) for number, due in s.execute(
        select(WorkOrder.number, WorkOrder.due_date).where(*late_filter)
        .order_by(WorkOrder.due_date, WorkOrder.number).limit(LATE_LISTED))]
    return Dashboard(at=now, today=days[-1], oee_today=oee_days[-1], down=_down(s, now), late_count=late_count,
                     late=late, days=days, oee_days=oee_days)
