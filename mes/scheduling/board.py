"""The planner board: one plan (the published one, or a draft) as machine rows over a time window,
with off-shift and downtime shaded, late and at-risk orders marked, and the figures a planner
compares before publishing. Read-only; the moves live in ``mes.scheduling.moves``."""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import html
import json
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from mes.core.clock import day_end, plant_tz
from mes.core.errors import NotFound
from mes.machines.models import CalendarException, Machine, MachineDowntime, MachineStatus, WorkCenter
from mes.machines.shifts import off_shift_windows, working_intervals
from mes.orders.models import Operation, WorkOrder
from mes.routing.models import Product
from mes.scheduling.models import OperationPin, ScheduledOperation, ScheduleStatus, ScheduleVersion

# Window lengths a planner chooses between (minutes).
SPANS = {"shift": 8 * 60, "day": 24 * 60, "week": 7 * 24 * 60}
# An order finishing within this of its due end is at risk.
AT_RISK = dt.timedelta(hours=8)
# Colours for bars (by work order or setup family): readable with dark text.
PALETTE = ("#8ecae6", "#ffb703", "#90be6d", "#f4a261", "#cdb4db", "#a8dadc", "#f28482", "#b5e48c",
           "#ffd6a5", "#bde0fe", "#e9c46a", "#caffbf", "#ffc8dd", "#9bf6ff", "#d4a373", "#e5e5e5")


@functools.lru_cache(maxsize=4096)
def colour(key: str) -> str:
    """A stable palette colour for a key (the same order is the same colour on every board)."""
    return PALETTE[int(hashlib.blake2s(key.encode(), digest_size=2).hexdigest(), 16) % len(PALETTE)]


@dataclass
class Bar:
    operation_id: int
    order_id: int
    order: str
    seq: int
    name: str
    product: str
    family: str
    quantity: int
    qty_good: int
    machine_id: int
    setup_start: dt.datetime
    start: dt.datetime
    end: dt.datetime
    due: dt.datetime
    status: str
    weight: int = 1
    late: bool = False
    at_risk: bool = False
    pinned: bool = False

    @property
    def started(self) -> bool:
        return self.status not in ("pending",)

    @property
    def setup_minutes(self) -> int:
        return int((self.start - self.setup_start).total_seconds() // 60)


@dataclass
class Row:
    machine_id: int
    code: str
    name: str
    off: list[tuple[dt.datetime, dt.datetime]] = field(default_factory=list)
    down: list[tuple[dt.datetime, dt.datetime]] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)


@dataclass
class Group:
    code: str
    name: str
    rows: list[Row] = field(default_factory=list)


@dataclass
class Board:
    version: ScheduleVersion
    published_id: int | None
    start: dt.datetime
    end: dt.datetime
    groups: list[Group]
    bars: list[Bar]

    @property
    def rows(self) -> list[Row]:
        return [row for group in self.groups for row in group.rows]


def pick_version(s: Session, schedule_id: int | None) -> ScheduleVersion | None:
    """The asked-for version, or the published one when none is asked for."""
    if schedule_id is not None:
        version = s.get(ScheduleVersion, schedule_id)
        if version is None:
            raise NotFound()
        return version
    return s.scalar(select(ScheduleVersion).where(ScheduleVersion.status == ScheduleStatus.PUBLISHED))


def published_id(s: Session) -> int | None:
    return s.scalar(select(ScheduleVersion.id).where(ScheduleVersion.status == ScheduleStatus.PUBLISHED))


def plan_bars(s: Session, schedule_id: int) -> list[Bar]:
    """Every operation of a plan with what the board shows of it, late and at-risk marked."""
    # Plain columns, not entities: a board of 1,500 operations is drawn often.
    rows = s.execute(
        select(ScheduledOperation.machine_id, ScheduledOperation.setup_start_at, ScheduledOperation.start_at,
               ScheduledOperation.end_at, Operation.id, Operation.seq, Operation.name, Operation.qty_good, Operation.status,
               WorkOrder.id, WorkOrder.number, WorkOrder.quantity, WorkOrder.due_date, WorkOrder.priority,
               Product.code, Product.family_id)
        .join(Operation, Operation.id == ScheduledOperation.operation_id)
        .join(WorkOrder, WorkOrder.id == Operation.work_order_id)
        .join(Product, Product.id == WorkOrder.product_id)
        .where(ScheduledOperation.schedule_id == schedule_id)
        .order_by(ScheduledOperation.machine_id, ScheduledOperation.start_at)
    ).all()
    pins = set(s.scalars(select(OperationPin.operation_id)))
    dues: dict[dt.date, dt.datetime] = {}
    bars = []
    for (machine_id, setup_start, start, end, op_id, seq, name, good, status, order_id, number, quantity, due_date,
         priority, product, family_id) in rows:
        if due_date not in dues:
            dues[due_date] = day_end(due_date)
        bars.append(Bar(
            operation_id=op_id, order_id=order_id, order=number, seq=seq, name=name, product=product,
            family=f"F{family_id}", quantity=quantity, qty_good=good, machine_id=machine_id,
            setup_start=setup_start, start=start, end=end, due=dues[due_date],
            status=str(status), weight=priority.weight, pinned=op_id in pins,
        ))
    completion: dict[int, dt.datetime] = {}
    for bar in bars:
        completion[bar.order_id] = max(completion.get(bar.order_id, bar.end), bar.end)
    for bar in bars:
        done = completion[bar.order_id]
        bar.late = done > bar.due
        bar.at_risk = not bar.late and done > bar.due - AT_RISK
    return bars


def machine_rows(s: Session, start: dt.datetime, end: dt.datetime) -> list[Group]:
    """Work centers with their machines, each with its off-shift and downtime spans in the window."""
    centers = s.scalars(
        select(WorkCenter).options(selectinload(WorkCenter.machines).selectinload(Machine.calendar),
                                   joinedload(WorkCenter.calendar))
        .order_by(WorkCenter.code)
    ).unique().all()
    minutes = int((end - start).total_seconds() // 60)
    tz = plant_tz()
    off_cache: dict[int, list[tuple[dt.datetime, dt.datetime]]] = {}
    downtime: dict[int, list[tuple[dt.datetime, dt.datetime]]] = {}
    for d in s.scalars(select(MachineDowntime).where(MachineDowntime.starts_at < end,
                                                     (MachineDowntime.ends_at.is_(None)) | (MachineDowntime.ends_at > start))):
        downtime.setdefault(d.machine_id, []).append((max(d.starts_at, start), min(d.ends_at or end, end)))
    groups = []
    for wc in centers:
        group = Group(wc.code, wc.name)
        for m in wc.machines:
            if m.status != MachineStatus.AVAILABLE and m.id not in downtime:
                continue
            calendar = m.calendar or wc.calendar
            off: list[tuple[dt.datetime, dt.datetime]] = []
            if calendar is not None:
                if calendar.id not in off_cache:
                    exceptions = {e.day: e.working for e in s.scalars(
                        select(CalendarException).where(CalendarException.calendar_id == calendar.id))}
                    work = working_intervals([(x.weekday, x.start_minute, x.end_minute) for x in calendar.shifts],
                                             exceptions, tz, start, minutes)
                    off_cache[calendar.id] = [(start + dt.timedelta(minutes=a), start + dt.timedelta(minutes=b))
                                              for a, b in off_shift_windows(work, minutes)]
                off = off_cache[calendar.id]
            group.rows.append(Row(m.id, m.code, m.name, off=off, down=downtime.get(m.id, [])))
        if group.rows:
            groups.append(group)
    return groups


def board(s: Session, schedule_id: int | None, start: dt.datetime, span_minutes: int) -> Board | None:
    """The board of a plan over [start, start + span): None when nothing is published yet."""
    version = pick_version(s, schedule_id)
    if version is None:
        return None
    end = start + dt.timedelta(minutes=span_minutes)
    groups = machine_rows(s, start, end)
    bars = plan_bars(s, version.id)
    by_machine = {row.machine_id: row for group in groups for row in group.rows}
    down = _what_if_down(version)
    if down is not None and down[0] in by_machine and down[2] > start and down[1] < end:
        by_machine[down[0]].down = [*by_machine[down[0]].down, (max(down[1], start), min(down[2], end))]
    for bar in bars:
        row = by_machine.get(bar.machine_id)
        if row is not None and bar.end > start and bar.setup_start < end:
            row.bars.append(bar)
    return Board(version, published_id(s), start, end, groups, bars)


def _what_if_down(version: ScheduleVersion) -> tuple[int, dt.datetime, dt.datetime] | None:
    """The machine a what-if draft takes down, and when (drawn like downtime on its board)."""
    if not version.what_if_json:
        return None
    try:
        down = json.loads(version.what_if_json).get("down")
        if not down:
            return None
        return int(down["machine_id"]), dt.datetime.fromisoformat(down["starts_at"]), dt.datetime.fromisoformat(down["ends_at"])
    except (ValueError, KeyError, TypeError):
        return None


def as_json(b: Board, now: dt.datetime) -> dict[str, Any]:
    """The board's data for scripts and the API: times as ISO strings, bars per machine."""
    def iso(t: dt.datetime) -> str:
        return t.isoformat()

    return {
        "schedule": {"id": b.version.id, "status": str(b.version.status), "version": b.version.version},
        "published_id": b.published_id,
        "window": {"start": iso(b.start), "end": iso(b.end)},
        "now": iso(now),
        "work_centers": [{
            "code": g.code, "name": g.name,
            "machines": [{"id": r.machine_id, "code": r.code, "name": r.name,
                          "off_shift": [[iso(a), iso(z)] for a, z in r.off], "downtime": [[iso(a), iso(z)] for a, z in r.down]}
                         for r in g.rows],
        } for g in b.groups],
        "operations": [{
            "operation_id": x.operation_id, "order_id": x.order_id, "order": x.order, "seq": x.seq, "name": x.name,
            "product": x.product, "family": x.family, "quantity": x.quantity, "qty_good": x.qty_good,
            "machine_id": x.machine_id, "setup_start": iso(x.setup_start), "start": iso(x.start), "end": iso(x.end),
            "due": iso(x.due), "status": x.status, "late": x.late, "at_risk": x.at_risk, "pinned": x.pinned,
        } for x in b.bars],
    }


# --- drawing --------------------------------------------------------------------------------------

ROW_HEIGHT = 44
LABEL_WIDTH = 120
HEADER_HEIGHT = 28
GROUP_HEIGHT = 22
# Pixels per hour at zoom 1 for each window.
PX_PER_HOUR = {"shift": 120, "day": 48, "week": 10}


@dataclass
class Layout:
    """Where everything of a board goes in the SVG (pixels), computed once on the server."""

    width: int
    height: int
    ticks: list[tuple[int, str, bool]]
    groups: list[tuple[int, Group]]
    rows: list[tuple[int, Row]]
    shades: list[tuple[int, int, int, str]]
    bars: list[Markup]
    now_x: int | None


def _bar_markup(bar: Bar, x: Any, y: int, colour_by: str, machine: str, eligible: list[int] | None) -> Markup:
    """One operation as an SVG group: setup before the bar, the bar, its label; what the detail
    panel shows travels in data attributes (times as ISO, formatted by the browser)."""
    x0 = x(bar.start)
    x1 = max(x(bar.end), x0 + 2)
    xs = x(bar.setup_start)
    classes = "op"
    if bar.late:
        classes += " late"
    elif bar.at_risk:
        classes += " risk"
    if bar.pinned:
        classes += " pinned"
    if bar.started:
        classes += " started"
    width = x1 - x0
    label = f"{bar.order}/{bar.seq}" if width > 70 else (bar.order[-4:] if width > 34 else "")
    fill = colour(bar.order if colour_by == "order" else bar.family)
    e = html.escape
    top = y + 6
    setup = f'<rect class="setup" x="{xs}" y="{top}" width="{x0 - xs}" height="{ROW_HEIGHT - 12}"/>' if x0 > xs else ""
    text = f'<text x="{x0 + 3}" y="{top + 20}">{e(label)}</text>' if label else ""
    return Markup(
        f'<g class="{classes}" tabindex="0" data-op="{bar.operation_id}" data-order="{bar.order_id}" '
        f'data-order-no="{e(bar.order)}" data-seq="{bar.seq}" data-name="{e(bar.name)}" data-product="{e(bar.product)}" '
        f'data-qty="{bar.quantity}" data-good="{bar.qty_good}" data-machine="{bar.machine_id}" data-machine-code="{e(machine)}" '
        f'data-start="{bar.start.isoformat()}" data-end="{bar.end.isoformat()}" data-due="{bar.due.isoformat()}" '
        f'data-setup="{bar.setup_minutes}" data-pinned="{1 if bar.pinned else 0}" data-started="{1 if bar.started else 0}" '
        f'data-eligible="{",".join(map(str, eligible or ()))}">{setup}'
        f'<rect class="bar" x="{x0}" y="{top}" width="{width}" height="{ROW_HEIGHT - 12}" fill="{fill}"/>{text}</g>')


def layout(b: Board, span: str, zoom: int, colour_by: str, now: dt.datetime, labels: dict[int, str],
           tick_label: Any, eligible: dict[int, list[int]]) -> Layout:
    px_hour = PX_PER_HOUR.get(span, 48) * zoom
    minutes = (b.end - b.start).total_seconds() / 60

    def x(t: dt.datetime) -> int:
        m = (t - b.start).total_seconds() / 60
        return LABEL_WIDTH + int(max(0.0, min(minutes, m)) * px_hour / 60)

    width = LABEL_WIDTH + int(minutes * px_hour / 60) + 1
    step = 60 if px_hour >= 40 else (240 if px_hour >= 10 else 1440)
    ticks = []
    t = b.start.astimezone(plant_tz()).replace(minute=0, second=0, microsecond=0)
    while t < b.end:
        on_step = t.hour == 0 if step >= 1440 else (t.hour * 60) % step == 0
        if t >= b.start and on_step:
            ticks.append((x(t), tick_label(t), t.hour == 0))
        t += dt.timedelta(hours=1)
    y = HEADER_HEIGHT
    groups, rows, shades, bars = [], [], [], []
    for group in b.groups:
        groups.append((y, group))
        y += GROUP_HEIGHT
        for row in group.rows:
            rows.append((y, row))
            for kind, spans in (("off", row.off), ("down", row.down)):
                for a, z in spans:
                    if z > b.start and a < b.end and x(z) > x(a):
                        shades.append((x(a), y, x(z) - x(a), kind))
            for bar in row.bars:
                bars.append(_bar_markup(bar, x, y, colour_by, labels.get(bar.machine_id, ""), eligible.get(bar.operation_id)))
            y += ROW_HEIGHT
    now_x = x(now) if b.start <= now <= b.end else None
    return Layout(width, y + 4, ticks, groups, rows, shades, bars, now_x)


# --- comparing two plans ----------------------------------------------------------------------------

# An operation that starts more than this much earlier or later counts as moved.
MOVE_THRESHOLD = dt.timedelta(hours=1)


@dataclass
class Figures:
    """What a planner weighs: late orders, weighted tardiness (minutes), when all is done, setups."""

    operations: int
    late_orders: int
    weighted_tardiness: int
    makespan_end: dt.datetime | None
    setup_minutes: int


@dataclass
class MovedOperation:
    operation_id: int
    label: str
    name: str
    machine_before: str
    machine_after: str
    start_before: dt.datetime
    start_after: dt.datetime

    @property
    def shift_minutes(self) -> int:
        return int((self.start_after - self.start_before).total_seconds() // 60)


@dataclass
class OrderChange:
    order_id: int
    order: str
    due: dt.datetime
    before: dt.datetime
    after: dt.datetime

    @property
    def delta_minutes(self) -> int:
        return int((self.after - self.before).total_seconds() // 60)


@dataclass
class Comparison:
    draft: ScheduleVersion
    base: ScheduleVersion | None
    after: Figures
    before: Figures | None
    moved: list[MovedOperation]
    orders: list[OrderChange]
    only_after: int = 0  # operations the base plan does not have (new orders)
    only_before: int = 0  # operations gone (finished meanwhile, or cancelled)


def figures(bars: list[Bar]) -> Figures:
    completion: dict[int, Bar] = {}
    for bar in bars:
        if bar.order_id not in completion or bar.end > completion[bar.order_id].end:
            completion[bar.order_id] = bar
    tardiness = sum(last.weight * max(0, int((last.end - last.due).total_seconds() // 60)) for last in completion.values())
    return Figures(
        operations=len(bars),
        late_orders=sum(1 for last in completion.values() if last.end > last.due),
        weighted_tardiness=tardiness,
        makespan_end=max((b.end for b in bars), default=None),
        setup_minutes=sum(b.setup_minutes for b in bars),
    )


def compare(s: Session, draft_id: int, base_id: int | None) -> Comparison:
    """The draft against the base plan (the published one when ``base_id`` is None)."""
    draft = s.get(ScheduleVersion, draft_id)
    if draft is None:
        raise NotFound()
    base = s.get(ScheduleVersion, base_id) if base_id is not None else \
        s.scalar(select(ScheduleVersion).where(ScheduleVersion.status == ScheduleStatus.PUBLISHED))
    if base_id is not None and base is None:
        raise NotFound()
    after_bars = plan_bars(s, draft.id)
    if base is None or base.id == draft.id:
        return Comparison(draft, None, figures(after_bars), None, [], [])
    before_bars = plan_bars(s, base.id)
    codes = dict(s.execute(select(Machine.id, Machine.code)).all())
    before = {b.operation_id: b for b in before_bars}
    after = {b.operation_id: b for b in after_bars}
    moved = []
    for op_id, a in after.items():
        b = before.get(op_id)
        if b is None:
            continue
        if a.machine_id != b.machine_id or abs(a.start - b.start) > MOVE_THRESHOLD:
            moved.append(MovedOperation(op_id, f"{a.order}/{a.seq}", a.name, codes.get(b.machine_id, "?"),
                                        codes.get(a.machine_id, "?"), b.start, a.start))
    moved.sort(key=lambda m: (-abs(m.shift_minutes), m.label))
    ends_before: dict[int, Bar] = {}
    for bar in before_bars:
        if bar.order_id not in ends_before or bar.end > ends_before[bar.order_id].end:
            ends_before[bar.order_id] = bar
    ends_after: dict[int, Bar] = {}
    for bar in after_bars:
        if bar.order_id not in ends_after or bar.end > ends_after[bar.order_id].end:
            ends_after[bar.order_id] = bar
    orders = [OrderChange(order_id, a.order, a.due, ends_before[order_id].end, a.end)
              for order_id, a in ends_after.items() if order_id in ends_before and ends_before[order_id].end != a.end]
    orders.sort(key=lambda o: (-abs(o.delta_minutes), o.order))
    return Comparison(draft, base, figures(after_bars), figures(before_bars), moved, orders,
                      only_after=len(after.keys() - before.keys()), only_before=len(before.keys() - after.keys()))


def comparison_json(c: Comparison) -> dict[str, Any]:
    def fig(f: Figures | None) -> dict[str, Any] | None:
        if f is None:
            return None
        return {"operations": f.operations, "late_orders": f.late_orders, "weighted_tardiness_minutes": f.weighted_tardiness,
                "makespan_end": f.makespan_end.isoformat() if f.makespan_end else None, "setup_minutes": f.setup_minutes}

    return {
        "schedule_id": c.draft.id, "base_id": c.base.id if c.base else None, "after": fig(c.after), "before": fig(c.before),
        "moved_operations": [{"operation_id": m.operation_id, "operation": m.label, "machine_before": m.machine_before,
                              "machine_after": m.machine_after, "start_before": m.start_before.isoformat(),
                              "start_after": m.start_after.isoformat(), "shift_minutes": m.shift_minutes} for m in c.moved],
        "orders_changed": [{"order_id": o.order_id, "order": o.order, "completion_before": o.before.isoformat(),
                            "completion_after": o.after.isoformat(), "delta_minutes": o.delta_minutes} for o in c.orders],
        "new_operations": c.only_after, "gone_operations": c.only_before,
    }
