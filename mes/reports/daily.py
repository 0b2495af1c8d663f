"""The figures of the owner's daily output sheet, read from the database for one plant day (or one
shift of it): output against the published plan, downtime, orders, scrap, labour, and the
headline against the previous seven days. The PDF, CSV and Excel files only draw these figures."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session, aliased

from mes.core.clock import day_end, day_start, plant_now, plant_today, plant_tz
from mes.core.errors import ValidationError
from mes.core.models import User
from mes.machinedata.oee import EMPTY, Oee, OeeInput, compute
from mes.machinedata.services import oee_inputs
from mes.machines.models import (
    CalendarShift,
    Machine,
    MachineDowntime,
    Reason,
    ReasonKind,
    WorkCalendar,
    WorkCenter,
)
from mes.orders.models import (
    OPEN_STATUSES,
    Operation,
    OperationStatus,
    ProductionReport,
    ReportKind,
    WorkOrder,
    WorkOrderStatus,
)
from mes.quality.models import NcrStatus, Nonconformance
from mes.routing.models import Product, ProductFamily
from mes.scheduling.models import ScheduledOperation, ScheduleStatus, ScheduleVersion
from mes.shopfloor.models import LabourRecord

#: Production and its corrections count as output; transfers only move pieces between lots.
OUTPUT_KINDS = (ReportKind.PRODUCTION, ReportKind.CORRECTION)
TREND_DAYS = 7
#: A correction counts on the day of the report it reverses, so a day's figures are right whenever
#: the mistake was found (the OEE inputs count it the same way).
_ORIGINAL = aliased(ProductionReport)
MADE_AT = func.coalesce(_ORIGINAL.reported_at, ProductionReport.reported_at)
LONGEST_STOPS = 5
TOP_SCRAP_REASONS = 5


# --- the day and its shifts -------------------------------------------------------------------

@dataclass(frozen=True)
class Window:
    """The stretch of time a sheet covers: a plant day, or one shift of it (UTC-aware bounds)."""

    day: dt.date
    start: dt.datetime
    end: dt.datetime
    shift: str | None = None

    @property
    def minutes(self) -> float:
        return (self.end - self.start).total_seconds() / 60


def _hhmm(minute: int) -> str:
    minute %= 1440
    return f"{minute // 60:02d}:{minute % 60:02d}"


def shift_spans(s: Session, day: dt.date) -> list[tuple[str, int, int]]:
    """The shifts the plant's calendars work on ``day``'s weekday: (name "06:00-14:00", start
    minute, end minute), in order. Names are what ``--shift`` and the page accept."""
    rows = s.execute(
        select(CalendarShift.start_minute, CalendarShift.end_minute).distinct()
        .join(WorkCalendar, WorkCalendar.id == CalendarShift.calendar_id)
        .where(CalendarShift.weekday == day.weekday(), WorkCalendar.active)
        .order_by(CalendarShift.start_minute, CalendarShift.end_minute)
    ).all()
    return [(f"{_hhmm(a)}-{_hhmm(b)}", a, b) for a, b in rows]


def parse_day(raw: str | None) -> dt.date:
    """The sheet's date from user input: malformed and future dates are refused."""
    try:
        day = dt.date.fromisoformat((raw or "").strip())
    except ValueError:
        raise ValidationError(_l("Enter the date as YYYY-MM-DD."), code="bad_date") from None
    if day > plant_today():
        raise ValidationError(_l("%(day)s is in the future: there are no figures for it yet."),
                              code="future_date", day=day.isoformat())
    if day.year < 2000:
        raise ValidationError(_l("Enter the date as YYYY-MM-DD."), code="bad_date")
    return day


def window(s: Session, day: dt.date, shift: str | None = None) -> Window:
    """The day's window, or the named (or 1-based numbered) shift's; an unknown shift is refused
    with the names the day has."""
    if not shift:
        return Window(day, day_start(day).astimezone(dt.UTC), day_end(day).astimezone(dt.UTC))
    spans = shift_spans(s, day)
    chosen = next((span for span in spans if span[0] == shift.strip()), None)
    if chosen is None and shift.strip().isdigit() and 1 <= int(shift) <= len(spans):
        chosen = spans[int(shift) - 1]
    if chosen is None:
        raise ValidationError(_l("%(day)s has no shift %(shift)s. Its shifts: %(names)s."), code="bad_shift",
                              day=day.isoformat(), shift=shift, names=", ".join(n for n, _a, _b in spans) or "-")
    midnight = day_start(day)
    start = midnight + dt.timedelta(minutes=chosen[1])
    end = midnight + dt.timedelta(minutes=chosen[2])
    # Aware arithmetic in the plant's zone is wall-clock arithmetic: a daylight-saving day lands
    # where the clock says.
    return Window(day, start.astimezone(dt.UTC), end.astimezone(dt.UTC), chosen[0])


# --- the figures ------------------------------------------------------------------------------

@dataclass
class Output:
    """Pieces made in the window against what the published plan had for it."""

    key: str
    name: str
    good: int = 0
    scrap: int = 0
    planned: int = 0

    @property
    def total(self) -> int:
        return self.good + self.scrap

    @property
    def attainment(self) -> float | None:
        """Good pieces as a share of the plan's."""
        return self.good / self.planned if self.planned else None


@dataclass
class Headline:
    """One figure of the day against the average of the seven days before it."""

    key: str  # output, oee, on_time, scrap_rate
    value: float | None
    average: float | None
    higher_is_better: bool = True

    @property
    def direction(self) -> str:
        """up, down or same; empty when either side has no figure."""
        if self.value is None or self.average is None:
            return ""
        if abs(self.value - self.average) < 1e-9:
            return "same"
        return "up" if self.value > self.average else "down"

    @property
    def better(self) -> bool | None:
        if self.direction in ("", "same"):
            return None
        return (self.direction == "up") == self.higher_is_better


@dataclass
class Stop:
    machine: str
    reason: str
    start: dt.datetime
    minutes: float
    open: bool


@dataclass
class ReasonMinutes:
    reason: str
    minutes: float
    stops: int
    cumulative_share: float = 0.0


@dataclass
class OrderLine:
    number: str
    product: str
    due: dt.date
    completed: dt.date | None = None
    planned_end: dt.date | None = None
    on_time: bool | None = None
    late: bool = False
    at_risk: bool = False


@dataclass
class ScrapReason:
    reason: str
    pieces: int


@dataclass
class NonconformanceLine:
    """Nonconformance reports raised in the window for one defect, and how many are still open."""

    defect: str
    reports: int
    pieces: int
    still_open: int


@dataclass
class WorkerLine:
    name: str
    minutes: Decimal
    good: int

    @property
    def hours(self) -> Decimal:
        return (self.minutes / 60).quantize(Decimal("0.01"))

    @property
    def per_hour(self) -> Decimal | None:
        return (Decimal(self.good) * 60 / self.minutes).quantize(Decimal("0.1")) if self.minutes else None


@dataclass
class MachineOee:
    machine: str
    work_center: str
    figures: OeeInput
    oee: Oee


@dataclass
class OeeTrend:
    """A work center's OEE per day, oldest first (the sheet's day last)."""

    work_center: str
    points: list[float | None]


@dataclass
class Wip:
    orders_in_progress: int
    operations_running: int
    operations_paused: int
    pieces: int


@dataclass
class DailySheet:
    window: Window
    plant: str
    generated_at: dt.datetime
    plan_version: int | None
    headline: list[Headline]
    totals: Output
    by_work_center: list[Output]
    by_machine: list[Output]
    by_family: list[Output]
    downtime_by_reason: list[ReasonMinutes]
    longest_stops: list[Stop]
    downtime_minutes: float
    completed: list[OrderLine]
    late_or_at_risk: list[OrderLine]
    wip: Wip
    scrap_reasons: list[ScrapReason]
    oee_total: Oee
    oee_by_machine: list[MachineOee]
    oee_trend: list[OeeTrend]
    labour: list[WorkerLine] | None = None
    trend: list[DayFigures] = field(default_factory=list)
    nonconformances: list[NonconformanceLine] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Nothing happened in the window: no pieces, stops, completions or booked time."""
        return (not self.totals.total and not self.downtime_by_reason and not self.completed
                and not any(w.minutes for w in (self.labour or [])))

    @property
    def completed_on_time(self) -> int:
        return sum(1 for o in self.completed if o.on_time)


@dataclass
class DayFigures:
    """The headline's figures for one day (the trend's points)."""

    day: dt.date
    good: int
    scrap: int
    completed: int
    on_time: int

    @property
    def scrap_rate(self) -> float | None:
        return self.scrap / (self.good + self.scrap) if self.good + self.scrap else None

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.completed if self.completed else None


def _names(locale: str) -> str:
    return "name_zh" if locale.startswith("zh") else "name_en"


def _output_rows(s: Session, start: dt.datetime, end: dt.datetime) -> list[tuple[int, int | None, int, int, int]]:
    """(work center, machine, family, good, scrap) of the reports in [start, end)."""
    return [tuple(r) for r in s.execute(  # type: ignore[misc]
        select(Operation.work_center_id, func.coalesce(ProductionReport.machine_id, Operation.machine_id), Product.family_id,
               func.coalesce(func.sum(ProductionReport.good_qty), 0), func.coalesce(func.sum(ProductionReport.scrap_qty), 0))
        .join(Operation, Operation.id == ProductionReport.operation_id)
        .join(WorkOrder, WorkOrder.id == ProductionReport.work_order_id)
        .join(Product, Product.id == WorkOrder.product_id)
        .outerjoin(_ORIGINAL, _ORIGINAL.id == ProductionReport.reverses_id)
        .where(MADE_AT >= start, MADE_AT < end,
               ProductionReport.kind.in_(OUTPUT_KINDS))
        .group_by(Operation.work_center_id, func.coalesce(ProductionReport.machine_id, Operation.machine_id), Product.family_id)
    ).all()]


def plan_in_effect(s: Session, at: dt.datetime) -> ScheduleVersion | None:
    """The plan the floor worked to at ``at``: the last one published by then."""
    return s.scalars(
        select(ScheduleVersion)
        .where(ScheduleVersion.status.in_([ScheduleStatus.PUBLISHED, ScheduleStatus.SUPERSEDED]),
               ScheduleVersion.published_at.is_not(None), ScheduleVersion.published_at <= at)
        .order_by(ScheduleVersion.published_at.desc(), ScheduleVersion.id.desc()).limit(1)
    ).first()


def _planned_rows(s: Session, plan: ScheduleVersion | None, w: Window) -> list[tuple[int, int, int, float]]:
    """(work center, machine, family, pieces) the plan had in the window: an operation's pieces
    spread evenly over its planned run, so a run half inside the window counts half."""
    if plan is None:
        return []
    rows = s.execute(
        select(Operation.work_center_id, ScheduledOperation.machine_id, Product.family_id, WorkOrder.quantity,
               ScheduledOperation.start_at, ScheduledOperation.end_at)
        .join(Operation, Operation.id == ScheduledOperation.operation_id)
        .join(WorkOrder, WorkOrder.id == Operation.work_order_id)
        .join(Product, Product.id == WorkOrder.product_id)
        .where(ScheduledOperation.schedule_id == plan.id, ScheduledOperation.start_at < w.end,
               ScheduledOperation.end_at > w.start)
    ).all()
    out = []
    for wc, machine, family, quantity, start, end in rows:
        span = (end - start).total_seconds()
        inside = (min(end, w.end) - max(start, w.start)).total_seconds()
        out.append((wc, machine, family, quantity * (inside / span if span > 0 else 1.0)))
    return out


def _output(s: Session, w: Window, plan: ScheduleVersion | None, locale: str) -> tuple[Output, list[Output], list[Output], list[Output]]:
    made = _output_rows(s, w.start, w.end)
    planned = _planned_rows(s, plan, w)
    wcs = {wc.id: (wc.code, wc.name) for wc in s.scalars(select(WorkCenter))}
    machines = {m.id: (m.code, m.name) for m in s.scalars(select(Machine))}
    families = {f.id: (f.code, f.name) for f in s.scalars(select(ProductFamily))}
    groups: list[dict[int | None, Output]] = [{}, {}, {}]
    lookups = (wcs, machines, families)
    planned_sums: list[dict[int | None, float]] = [defaultdict(float), defaultdict(float), defaultdict(float)]

    def line(level: int, key: int | None) -> Output:
        if key not in groups[level]:
            code, name = lookups[level].get(key, ("-", "")) if key is not None else ("-", "")
            groups[level][key] = Output(code, name)
        return groups[level][key]

    for wc, machine, family, good, scrap in made:
        for level, key in enumerate((wc, machine, family)):
            row = line(level, key)
            row.good += int(good)
            row.scrap += int(scrap)
    for wc, machine, family, pieces in planned:
        for level, key in enumerate((wc, machine, family)):
            line(level, key)
            planned_sums[level][key] += pieces
    for level in range(3):
        for key, pieces in planned_sums[level].items():
            groups[level][key].planned = round(pieces)
    total = Output("total", str(_l("Total")), good=sum(int(r[3]) for r in made), scrap=sum(int(r[4]) for r in made),
                   planned=round(sum(p[3] for p in planned)))
    ordered = [sorted(g.values(), key=lambda o: o.key) for g in groups]
    return total, ordered[0], ordered[1], ordered[2]


def _reason_name(reason: Reason | None, kind: str, locale: str) -> str:
    if reason is not None:
        return reason.name(locale)
    return str(DOWNTIME_KIND_LABELS.get(kind, kind))


DOWNTIME_KIND_LABELS = {"breakdown": _l("Breakdown (no reason given)"), "maintenance": _l("Planned maintenance")}


def _downtime(s: Session, w: Window, locale: str, now: dt.datetime) -> tuple[list[ReasonMinutes], list[Stop], float]:
    rows = s.execute(
        select(MachineDowntime, Machine.code, Reason)
        .join(Machine, Machine.id == MachineDowntime.machine_id)
        .outerjoin(Reason, Reason.id == MachineDowntime.reason_id)
        .where(MachineDowntime.starts_at < w.end, or_(MachineDowntime.ends_at.is_(None), MachineDowntime.ends_at > w.start))
    ).all()
    by_reason: dict[str, ReasonMinutes] = {}
    stops: list[Stop] = []
    for stop, machine_code, reason in rows:
        end = min(stop.ends_at or min(now, w.end), w.end)
        minutes = max(0.0, (end - max(stop.starts_at, w.start)).total_seconds() / 60)
        if minutes <= 0:
            continue
        name = _reason_name(reason, stop.kind, locale)
        entry = by_reason.setdefault(name, ReasonMinutes(name, 0.0, 0))
        entry.minutes += minutes
        entry.stops += 1
        stops.append(Stop(machine_code, name, stop.starts_at, minutes, stop.ends_at is None))
    pareto = sorted(by_reason.values(), key=lambda r: (-r.minutes, r.reason))
    total = sum(r.minutes for r in pareto)
    running = 0.0
    for r in pareto:
        running += r.minutes
        r.cumulative_share = running / total if total else 0.0
    stops.sort(key=lambda st: (-st.minutes, st.start))
    return pareto, stops[:LONGEST_STOPS], total


def _on_time(completed_at: dt.datetime, due: dt.date) -> bool:
    return completed_at.astimezone(plant_tz()).date() <= due


def _orders(s: Session, w: Window, today: dt.date) -> tuple[list[OrderLine], list[OrderLine]]:
    completed = []
    for order, product in s.execute(
        select(WorkOrder, Product.code).join(Product, Product.id == WorkOrder.product_id)
        .where(WorkOrder.completed_at >= w.start, WorkOrder.completed_at < w.end).order_by(WorkOrder.number)
    ).all():
        completed.append(OrderLine(order.number, product, order.due_date,
                                   completed=order.completed_at.astimezone(plant_tz()).date(),
                                   on_time=_on_time(order.completed_at, order.due_date)))
    # At risk: the current published plan finishes the order after its due day.
    current = s.scalars(select(ScheduleVersion).where(ScheduleVersion.status == ScheduleStatus.PUBLISHED)).first()
    planned_end: dict[int, dt.datetime] = {}
    if current is not None:
        planned_end = dict(s.execute(
            select(Operation.work_order_id, func.max(ScheduledOperation.end_at))
            .join(Operation, Operation.id == ScheduledOperation.operation_id)
            .where(ScheduledOperation.schedule_id == current.id).group_by(Operation.work_order_id)
        ).all())
    watch = []
    for order, product in s.execute(
        select(WorkOrder, Product.code).join(Product, Product.id == WorkOrder.product_id)
        .where(WorkOrder.status.in_(OPEN_STATUSES)).order_by(WorkOrder.due_date, WorkOrder.number)
    ).all():
        end = planned_end.get(order.id)
        end_day = end.astimezone(plant_tz()).date() if end is not None else None
        late = order.due_date < today
        at_risk = not late and end_day is not None and end_day > order.due_date
        if late or at_risk:
            watch.append(OrderLine(order.number, product, order.due_date, planned_end=end_day, late=late, at_risk=at_risk))
    return completed, watch


def _wip(s: Session) -> Wip:
    orders = s.scalar(select(func.count()).select_from(WorkOrder).where(WorkOrder.status == WorkOrderStatus.IN_PROGRESS)) or 0
    counts = dict(s.execute(
        select(Operation.status, func.count()).join(WorkOrder, WorkOrder.id == Operation.work_order_id)
        .where(WorkOrder.status.in_(OPEN_STATUSES), Operation.status.in_([OperationStatus.IN_PROGRESS, OperationStatus.PAUSED]))
        .group_by(Operation.status)
    ).all())
    # Pieces inside the shop: made by an order's first started step, not yet through its last.
    pieces = s.scalar(
        select(func.coalesce(func.sum(Operation.qty_good), 0))
        .join(WorkOrder, WorkOrder.id == Operation.work_order_id)
        .where(WorkOrder.status == WorkOrderStatus.IN_PROGRESS,
               Operation.status.in_([OperationStatus.IN_PROGRESS, OperationStatus.PAUSED]))
    ) or 0
    return Wip(orders, counts.get(OperationStatus.IN_PROGRESS, 0), counts.get(OperationStatus.PAUSED, 0), int(pieces))


def _scrap_reasons(s: Session, w: Window, locale: str) -> list[ScrapReason]:
    names = {r.code: r.name(locale) for r in s.scalars(select(Reason).where(Reason.kind == ReasonKind.SCRAP))}
    rows = s.execute(
        select(ProductionReport.scrap_reason, func.sum(ProductionReport.scrap_qty))
        .outerjoin(_ORIGINAL, _ORIGINAL.id == ProductionReport.reverses_id)
        .where(MADE_AT >= w.start, MADE_AT < w.end,
               ProductionReport.kind.in_(OUTPUT_KINDS))
        .group_by(ProductionReport.scrap_reason)
    ).all()
    out = [ScrapReason(names.get(code, code) if code else str(_l("No reason given")), int(n)) for code, n in rows if n]
    out.sort(key=lambda r: (-r.pieces, r.reason))
    return out[:TOP_SCRAP_REASONS]


def _nonconformances(s: Session, w: Window) -> list[NonconformanceLine]:
    rows = s.execute(
        select(Nonconformance.defect, func.count(), func.sum(Nonconformance.quantity),
               func.sum(case((Nonconformance.status == NcrStatus.OPEN, 1), else_=0)))
        .where(Nonconformance.created_at >= w.start, Nonconformance.created_at < w.end)
        .group_by(Nonconformance.defect)
    ).all()
    out = [NonconformanceLine(defect, int(n), int(pieces or 0), int(still_open or 0)) for defect, n, pieces, still_open in rows]
    out.sort(key=lambda r: (-r.pieces, r.defect))
    return out[:TOP_SCRAP_REASONS]


def _labour(s: Session, w: Window) -> list[WorkerLine]:
    booked_at = func.coalesce(LabourRecord.ended_at, LabourRecord.recorded_at)
    minutes = dict(s.execute(
        select(LabourRecord.user_id, func.sum(LabourRecord.minutes))
        .where(booked_at >= w.start, booked_at < w.end).group_by(LabourRecord.user_id)
    ).all())
    good = dict(s.execute(
        select(ProductionReport.user_id, func.sum(ProductionReport.good_qty))
        .outerjoin(_ORIGINAL, _ORIGINAL.id == ProductionReport.reverses_id)
        .where(MADE_AT >= w.start, MADE_AT < w.end,
               ProductionReport.kind.in_(OUTPUT_KINDS), ProductionReport.user_id.is_not(None))
        .group_by(ProductionReport.user_id)
    ).all())
    ids = set(minutes) | set(good)
    names = dict(s.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all()) if ids else {}
    lines = [WorkerLine(names.get(uid, str(uid)), Decimal(minutes.get(uid) or 0).quantize(Decimal("0.01")), int(good.get(uid) or 0))
             for uid in ids]
    lines.sort(key=lambda line: line.name)
    return lines


def day_figures(s: Session, day: dt.date) -> DayFigures:
    """Output, scrap and deliveries of one whole plant day (the headline's and trend's points)."""
    return window_figures(s, day, day_start(day).astimezone(dt.UTC), day_end(day).astimezone(dt.UTC))


def earlier(w: Window, days: int) -> Window:
    """The same window (whole day or shift, by the wall clock) ``days`` days before."""
    tz = plant_tz()
    # Aware arithmetic in the plant's zone keeps the wall-clock times across daylight saving.
    start, end = (w.start.astimezone(tz) - dt.timedelta(days=days)), (w.end.astimezone(tz) - dt.timedelta(days=days))
    return Window(w.day - dt.timedelta(days=days), start.astimezone(dt.UTC), end.astimezone(dt.UTC), w.shift)


def window_figures(s: Session, day: dt.date, start: dt.datetime, end: dt.datetime) -> DayFigures:
    """Output, scrap and deliveries in [start, end), reported as ``day``'s."""
    good, scrap = s.execute(
        select(func.coalesce(func.sum(ProductionReport.good_qty), 0), func.coalesce(func.sum(ProductionReport.scrap_qty), 0))
        .outerjoin(_ORIGINAL, _ORIGINAL.id == ProductionReport.reverses_id)
        .where(MADE_AT >= start, MADE_AT < end,
               ProductionReport.kind.in_(OUTPUT_KINDS))
    ).one()
    done = s.execute(
        select(WorkOrder.completed_at, WorkOrder.due_date)
        .where(WorkOrder.completed_at >= start, WorkOrder.completed_at < end)
    ).all()
    return DayFigures(day, int(good), int(scrap), len(done), sum(1 for at, due in done if _on_time(at, due)))


def _mean(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def headline(today: DayFigures, before: list[DayFigures], oee_today: float | None = None,
             oee_before: list[float | None] | None = None) -> list[Headline]:
    """The day against the mean of the days before it (days without a figure are left out of the
    rates' means; output counts every day, idle ones as zero)."""
    return [
        Headline("output", float(today.good), sum(d.good for d in before) / len(before) if before else None),
        Headline("oee", oee_today, _mean(list(oee_before or []))),
        Headline("on_time", today.on_time_rate, _mean([d.on_time_rate for d in before])),
        Headline("scrap_rate", today.scrap_rate, _mean([d.scrap_rate for d in before]), higher_is_better=False),
    ]


def _oee(s: Session, w: Window, days: list[Window]) -> tuple[Oee, list[MachineOee], list[OeeTrend], list[Oee]]:
    """OEE of the window per machine and for the plant, and per work center for the same window
    on each of ``days``."""
    machines = {m.id: m for m in s.scalars(select(Machine))}
    wc_codes = {wc.id: wc.code for wc in s.scalars(select(WorkCenter))}
    inputs = oee_inputs(w.start, w.end)
    per_machine = [
        MachineOee(machines[mid].code, wc_codes.get(machines[mid].work_center_id, "-"), figures, compute(figures))
        for mid, figures in inputs.items()
        if figures.planned_minutes or figures.run_minutes or figures.total
    ]
    per_machine.sort(key=lambda line: (line.work_center, line.machine))
    total = compute(sum(inputs.values(), EMPTY))
    by_day: list[dict[str, OeeInput]] = []
    plant_days: list[Oee] = []
    for day in days:
        found = oee_inputs(day.start, day.end)
        sums: dict[str, OeeInput] = defaultdict(lambda: EMPTY)
        for mid, figures in found.items():
            sums[wc_codes.get(machines[mid].work_center_id, "-")] += figures
        by_day.append(sums)
        plant_days.append(compute(sum(found.values(), EMPTY)))
    centers = sorted({code for sums in by_day for code, f in sums.items() if f.planned_minutes or f.run_minutes or f.total})
    trend = [OeeTrend(code, [compute(sums[code]).oee if code in sums else None for sums in by_day]) for code in centers]
    return total, per_machine, trend, plant_days


def daily_sheet(s: Session, w: Window, locale: str, with_labour: bool, plant: str = "") -> DailySheet:
    """Every figure of the sheet for window ``w``, names in ``locale``."""
    with force_locale(locale):
        return _daily_sheet(s, w, locale, with_labour, plant)


def _daily_sheet(s: Session, w: Window, locale: str, with_labour: bool, plant: str) -> DailySheet:
    now = plant_now().astimezone(dt.UTC)
    plan = plan_in_effect(s, w.start) or plan_in_effect(s, w.end)
    total, by_wc, by_machine, by_family = _output(s, w, plan, locale)
    pareto, longest, down = _downtime(s, w, locale, now)
    completed, watch = _orders(s, w, plant_today())
    # A shift's sheet compares with the same shift (by the clock) on the days before.
    windows = [earlier(w, n) for n in range(TREND_DAYS, -1, -1)]
    days = [window_figures(s, x.day, x.start, x.end) for x in windows]
    oee_total, oee_by_machine, oee_trend, oee_days = _oee(s, w, windows)
    this_day = days[-1]
    return DailySheet(
        window=w, plant=plant, generated_at=now, plan_version=plan.id if plan else None,
        headline=headline(this_day, days[:-1], oee_total.oee, [o.oee for o in oee_days[:-1]]),
        totals=total, by_work_center=by_wc, by_machine=by_machine, by_family=by_family,
        downtime_by_reason=pareto, longest_stops=longest, downtime_minutes=down,
        completed=completed, late_or_at_risk=watch, wip=_wip(s), scrap_reasons=_scrap_reasons(s, w, locale),
        oee_total=oee_total, oee_by_machine=oee_by_machine, oee_trend=oee_trend,
        labour=_labour(s, w) if with_labour else None, trend=days, nonconformances=_nonconformances(s, w),
    )

