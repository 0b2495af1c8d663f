"""Machine use cases: the plant's master data (work centers, machines, shift calendars), each
machine's planning status and recorded downtime (breakdowns, maintenance), and the plant's reason
lists (pause, scrap, downtime)."""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from mes.core.clock import plant_today
from mes.core.db import transaction, utcnow
from mes.core.errors import Conflict, NotFound, ValidationError
from mes.core.locking import check_version, touch
from mes.machines.models import (
    DEFAULT_REASONS,
    CalendarException,
    CalendarShift,
    Machine,
    MachineDowntime,
    MachineStatus,
    Reason,
    ReasonKind,
    WorkCalendar,
    WorkCenter,
)

DOWNTIME_KINDS = ("breakdown", "maintenance")
# How far from today a downtime may be recorded: beyond this it is a typing error, not a plan.
DOWNTIME_REACH = dt.timedelta(days=366)


def set_status(machine_id: int, status: MachineStatus) -> None:
    with transaction() as s:
        machine = s.get(Machine, machine_id)
        if machine is None:
            raise NotFound()
        machine.status = status


def _check_downtime(starts_at: dt.datetime | None, ends_at: dt.datetime | None, kind: str) -> None:
    errors: dict[str, list] = {}
    now = utcnow()
    if starts_at is None:
        errors["starts_at"] = [_l("This field is required.")]
    elif not now - DOWNTIME_REACH <= starts_at <= now + DOWNTIME_REACH:
        errors["starts_at"] = [_l("Enter a date within a year from today.")]
    if ends_at is not None and starts_at is not None and ends_at <= starts_at:
        errors["ends_at"] = [_l("The end must be after the start.")]
    elif ends_at is not None and ends_at > now + 2 * DOWNTIME_REACH:
        errors["ends_at"] = [_l("Enter a date within a year from today.")]
    if kind not in DOWNTIME_KINDS:
        errors["kind"] = [_l("Unknown kind.")]
    if errors:
        raise ValidationError(fields=errors)


def record_downtime(machine_id: int, starts_at: dt.datetime | None, ends_at: dt.datetime | None, kind: str,
                    note: str | None) -> int:
    """A period the machine cannot work; the scheduler plans around it. Without an end it lasts
    until someone ends it."""
    _check_downtime(starts_at, ends_at, kind)
    with transaction() as s:
        if s.get(Machine, machine_id) is None:
            raise NotFound()
        row = MachineDowntime(machine_id=machine_id, starts_at=starts_at, ends_at=ends_at, kind=kind,
                              note=(note or "").strip() or None)
        s.add(row)
        s.flush()
        return row.id


def _downtime_of(s, machine_id: int, downtime_id: int) -> MachineDowntime:  # type: ignore[no-untyped-def]
    row = s.get(MachineDowntime, downtime_id, with_for_update=True)
    if row is None or row.machine_id != machine_id:
        raise NotFound()
    return row


def update_downtime(machine_id: int, downtime_id: int, starts_at: dt.datetime | None, ends_at: dt.datetime | None,
                    kind: str, note: str | None) -> None:
    """Correct a recorded downtime (its span, kind or note); the audit log keeps what it was."""
    _check_downtime(starts_at, ends_at, kind)
    with transaction() as s:
        row = _downtime_of(s, machine_id, downtime_id)
        row.starts_at, row.ends_at, row.kind = starts_at, ends_at, kind
        row.note = (note or "").strip() or None


def end_downtime(machine_id: int, downtime_id: int, ends_at: dt.datetime | None = None) -> None:
    """The machine works again (now, or at ``ends_at``)."""
    ends_at = ends_at or utcnow()
    with transaction() as s:
        row = _downtime_of(s, machine_id, downtime_id)
        if ends_at <= row.starts_at:
            raise ValidationError(fields={"ends_at": [_l("The end must be after the start.")]})
        if ends_at > utcnow() + 2 * DOWNTIME_REACH:
            raise ValidationError(fields={"ends_at": [_l("Enter a date within a year from today.")]})
        row.ends_at = ends_at


# --- plant setup: effective state -----------------------------------------------------------------


def open_downtime(s: Session, at: dt.datetime | None = None) -> dict[int, str]:
    """Machines in a recorded downtime at ``at`` (now): machine id -> kind of that downtime."""
    at = at or utcnow()
    rows = s.execute(select(MachineDowntime.machine_id, MachineDowntime.kind).where(
        MachineDowntime.starts_at <= at, or_(MachineDowntime.ends_at.is_(None), MachineDowntime.ends_at > at),
    ).order_by(MachineDowntime.starts_at))
    return {machine_id: kind for machine_id, kind in rows}


def effective_status(machine: Machine, downtime: dict[int, str]) -> MachineStatus:
    """What the machine is now: its planning status, unless an open downtime stops it."""
    if machine.status != MachineStatus.AVAILABLE or machine.id not in downtime:
        return machine.status
    return MachineStatus.MAINTENANCE if downtime[machine.id] == "maintenance" else MachineStatus.DOWN


def count_stopped(s: Session) -> int:
    """Machines down or in maintenance now, by planning status or by an open downtime."""
    downtime = open_downtime(s)
    machines = s.scalars(select(Machine).where(Machine.status != MachineStatus.RETIRED))
    return sum(1 for m in machines if effective_status(m, downtime) in (MachineStatus.DOWN, MachineStatus.MAINTENANCE))


# --- plant setup: master data ---------------------------------------------------------------------

#: The reader of what a machine still has to do (planned or running operations, as lines a person
#: reads): the machines package sits below orders and scheduling, so the app factory plugs
#: ``mes.scheduling.machine_work.open_work`` in under this key.
OPEN_WORK = "mes.machines.open_work"


def open_work(s: Session, machine_id: int) -> list[str]:
    reader: Callable[[Session, int], list[str]] | None = current_app.extensions.get(OPEN_WORK)
    return reader(s, machine_id) if reader else []

# Letters of any script (a shop may code its work centers in Chinese), digits and - _ . /; no spaces.
CODE_PATTERN = re.compile(r"^[^\W_][\w./-]*$")
REQUIRED = _l("This field is required.")


def clean(value: str | None) -> str:
    return (value or "").strip()


def check_code(s: Session, model: type, code: str, record_id: int | None, errors: dict, max_length: int = 32) -> None:
    """A code is required, short, plain (letters, digits, - _ . /) and unique regardless of case."""
    if not code:
        errors["code"] = [REQUIRED]
    elif len(code) > max_length:
        errors["code"] = [_l("At most %(n)s characters.", n=max_length)]
    elif not CODE_PATTERN.match(code):
        errors["code"] = [_l("Use letters, digits and - _ . / only, starting with a letter or digit.")]
    else:
        taken = s.scalar(select(model.id).where(func.lower(model.code) == code.lower()))
        if taken is not None and taken != record_id:
            errors["code"] = [_l("The code %(code)s is already in use.", code=code)]


def check_name(name: str, errors: dict, max_length: int = 120) -> None:
    if not name:
        errors["name"] = [REQUIRED]
    elif len(name) > max_length:
        errors["name"] = [_l("At most %(n)s characters.", n=max_length)]


def _check_calendar(s: Session, calendar_id: int | None, errors: dict) -> None:
    if calendar_id is None:
        return
    calendar = s.get(WorkCalendar, calendar_id)
    if calendar is None or not calendar.active:
        errors["calendar_id"] = [_l("Unknown shift calendar.")]


def _load(s: Session, model: type, record_id: int, expected_version: int | None):  # type: ignore[no-untyped-def]
    record = s.get(model, record_id, with_for_update=True)
    if record is None:
        raise NotFound()
    check_version(record, expected_version)
    return record


# work centers


@dataclass
class WorkCenterInput:
    code: str
    name: str
    calendar_id: int | None = None
    default_changeover_minutes: int | None = 0
    description: str | None = None


def _check_work_center(s: Session, data: WorkCenterInput, record_id: int | None) -> None:
    errors: dict[str, list] = {}
    check_code(s, WorkCenter, clean(data.code), record_id, errors)
    check_name(clean(data.name), errors)
    _check_calendar(s, data.calendar_id, errors)
    if data.default_changeover_minutes is None or not 0 <= data.default_changeover_minutes <= 10_000:
        errors["default_changeover_minutes"] = [_l("Enter minutes from 0 to 10000.")]
    if errors:
        raise ValidationError(fields=errors)


def _apply_work_center(center: WorkCenter, data: WorkCenterInput) -> None:
    center.code, center.name = clean(data.code), clean(data.name)
    center.calendar_id = data.calendar_id
    center.default_changeover_minutes = data.default_changeover_minutes or 0
    center.description = clean(data.description) or None


def create_work_center(data: WorkCenterInput) -> int:
    with transaction() as s:
        return create_work_center_in(s, data)


def create_work_center_in(s: Session, data: WorkCenterInput) -> int:
    _check_work_center(s, data, None)
    center = WorkCenter(code="", name="")
    _apply_work_center(center, data)
    touch(center)
    s.add(center)
    s.flush()
    return center.id


def update_work_center(center_id: int, expected_version: int | None, data: WorkCenterInput) -> None:
    with transaction() as s:
        update_work_center_in(s, center_id, expected_version, data)


def update_work_center_in(s: Session, center_id: int, expected_version: int | None, data: WorkCenterInput) -> None:
    center = _load(s, WorkCenter, center_id, expected_version)
    _check_work_center(s, data, center_id)
    _apply_work_center(center, data)
    touch(center)


def retire_work_center(center_id: int, expected_version: int | None) -> None:
    """A work center no longer used: refused while machines in it are not retired."""
    with transaction() as s:
        center = _load(s, WorkCenter, center_id, expected_version)
        working = [m.code for m in center.machines if m.status != MachineStatus.RETIRED]
        if working:
            raise Conflict(_l("Retire or move these machines first: %(list)s", list=", ".join(working)))
        center.active = False
        touch(center)


def reactivate_work_center(center_id: int, expected_version: int | None) -> None:
    with transaction() as s:
        center = _load(s, WorkCenter, center_id, expected_version)
        center.active = True
        touch(center)


# machines

MIN_YEAR = 1900


@dataclass
class MachineInput:
    code: str
    name: str
    work_center_id: int | None
    make: str | None = None
    model: str | None = None
    year_built: int | None = None
    has_data_connection: bool = False
    speed_factor: Decimal | str | None = Decimal("1")
    calendar_id: int | None = None
    status: MachineStatus | str = MachineStatus.AVAILABLE


def parse_speed(raw: Decimal | str | None) -> Decimal | None:
    if isinstance(raw, Decimal):
        return raw
    try:
        value = Decimal(clean(raw).replace(",", ".") or "1")
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _check_machine(s: Session, data: MachineInput, record_id: int | None) -> MachineStatus:
    errors: dict[str, list] = {}
    check_code(s, Machine, clean(data.code), record_id, errors)
    check_name(clean(data.name), errors)
    center = s.get(WorkCenter, data.work_center_id) if data.work_center_id else None
    if data.work_center_id is None:
        errors["work_center_id"] = [REQUIRED]
    elif center is None or not center.active:
        errors["work_center_id"] = [_l("Unknown work center.")]
    for name in ("make", "model"):
        if len(clean(getattr(data, name))) > 80:
            errors[name] = [_l("At most %(n)s characters.", n=80)]
    this_year = plant_today().year
    if data.year_built is not None and not MIN_YEAR <= data.year_built <= this_year + 1:
        errors["year_built"] = [_l("Enter a year from %(first)s to %(last)s.", first=MIN_YEAR, last=this_year + 1)]
    speed = parse_speed(data.speed_factor)
    if speed is None or not Decimal("0.1") <= speed <= Decimal("10"):
        errors["speed_factor"] = [_l("Enter a factor from 0.1 to 10 (1 = the routing's standard times).")]
    _check_calendar(s, data.calendar_id, errors)
    try:
        status = MachineStatus(data.status)
    except ValueError:
        status = None
    if status is None or (status == MachineStatus.RETIRED and record_id is None):
        errors["status"] = [_l("Unknown status.")]
    if errors:
        raise ValidationError(fields=errors)
    return status  # type: ignore[return-value]


def _apply_machine(machine: Machine, data: MachineInput, status: MachineStatus) -> None:
    machine.code, machine.name = clean(data.code), clean(data.name)
    machine.work_center_id = data.work_center_id  # type: ignore[assignment]
    machine.make, machine.model = clean(data.make) or None, clean(data.model) or None
    machine.year_built = data.year_built
    machine.has_data_connection = bool(data.has_data_connection)
    machine.speed_factor = parse_speed(data.speed_factor)  # type: ignore[assignment]
    machine.calendar_id = data.calendar_id
    machine.status = status


def create_machine(data: MachineInput) -> int:
    with transaction() as s:
        return create_machine_in(s, data)


def create_machine_in(s: Session, data: MachineInput) -> int:
    status = _check_machine(s, data, None)
    machine = Machine(code="", name="")
    _apply_machine(machine, data, status)
    touch(machine)
    s.add(machine)
    s.flush()
    return machine.id


def update_machine(machine_id: int, expected_version: int | None, data: MachineInput) -> None:
    with transaction() as s:
        update_machine_in(s, machine_id, expected_version, data)


def update_machine_in(s: Session, machine_id: int, expected_version: int | None, data: MachineInput) -> None:
    machine = _load(s, Machine, machine_id, expected_version)
    status = _check_machine(s, data, machine_id)
    if status == MachineStatus.RETIRED and machine.status != MachineStatus.RETIRED:
        _refuse_open_work(s, machine)
    _apply_machine(machine, data, status)
    touch(machine)


def _refuse_open_work(s: Session, machine: Machine) -> None:
    work = open_work(s, machine.id)
    if work:
        raise Conflict(_l("%(machine)s still has planned or running operations: %(list)s",
                          machine=machine.code, list="; ".join(work)))


def retire_machine(machine_id: int, expected_version: int | None) -> None:
    """The machine leaves the plant; its history stays. Refused while it has planned or running
    operations (they are listed)."""
    with transaction() as s:
        machine = _load(s, Machine, machine_id, expected_version)
        _refuse_open_work(s, machine)
        machine.status = MachineStatus.RETIRED
        touch(machine)


def reactivate_machine(machine_id: int, expected_version: int | None) -> None:
    with transaction() as s:
        machine = _load(s, Machine, machine_id, expected_version)
        if not machine.work_center.active:
            raise Conflict(_l("Its work center %(code)s is retired.", code=machine.work_center.code))
        machine.status = MachineStatus.AVAILABLE
        touch(machine)


# shift calendars

WEEKDAYS = range(7)
_SPAN = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})(\s*\+1)?$")
#: How far from today a holiday or extra working day may be: beyond it the year is a typing error.
EXCEPTION_REACH_YEARS = 10


@dataclass
class CalendarInput:
    code: str
    name: str
    #: weekday (0 = Monday) -> working spans as typed: "08:00-12:00, 13:00-17:00", a night shift
    #: "22:00-06:00+1"; the gaps are the breaks.
    week: dict[int, str] = field(default_factory=dict)


def format_spans(spans: Iterable[tuple[int, int]]) -> str:
    def hhmm(minute: int) -> str:
        return f"{minute // 60 % 24:02d}:{minute % 60:02d}"

    return ", ".join(f"{hhmm(a)}-{hhmm(b)}{'+1' if b > 1440 else ''}" for a, b in spans)


def parse_spans(text: str) -> list[tuple[int, int]]:
    """"08:00-12:00, 13:00-17:00" as minutes after midnight; raises ValueError with the message."""
    spans = []
    for part in re.split(r"[,;，；\s]+(?=\d)", clean(text)):
        part = part.strip(" ,;")
        if not part:
            continue
        match = _SPAN.match(part)
        if not match:
            raise ValueError(_l("Write shifts as 08:00-12:00, 13:00-17:00 (a night shift: 22:00-06:00+1)."))
        h1, m1, h2, m2, next_day = match.groups()
        if int(h1) > 23 or int(h2) > 24 or int(m1) > 59 or int(m2) > 59:
            raise ValueError(_l("%(span)s is not a time of day.", span=part))
        start, end = int(h1) * 60 + int(m1), int(h2) * 60 + int(m2) + (1440 if next_day else 0)
        if end <= start:
            raise ValueError(_l("The shift %(span)s ends before it starts (a night shift: 22:00-06:00+1).", span=part))
        spans.append((start, end))
    return sorted(spans)


def check_week(week: dict[int, list[tuple[int, int]]]) -> dict[str, list]:
    """Overlapping shifts, also a night shift running into the next day's first shift."""
    errors: dict[str, list] = {}
    spans = sorted((d * 1440 + a, d * 1440 + b, d) for d, day in week.items() for a, b in day)
    for i, (_, end, _day) in enumerate(spans):
        following = i + 1 < len(spans)
        start, _, day = spans[i + 1] if following else spans[0]
        start += 0 if following else 7 * 1440  # Sunday's night shift runs into Monday
        if start < end and (following or len(spans) > 1):
            errors.setdefault(f"day-{day}", [_l("Shifts overlap: one starts before the previous one ends.")])
    return errors


def _check_calendar_input(s: Session, data: CalendarInput, record_id: int | None) -> dict[int, list[tuple[int, int]]]:
    errors: dict[str, list] = {}
    check_code(s, WorkCalendar, clean(data.code), record_id, errors)
    check_name(clean(data.name), errors)
    week: dict[int, list[tuple[int, int]]] = {}
    for day in WEEKDAYS:
        try:
            week[day] = parse_spans(data.week.get(day, ""))
        except ValueError as exc:
            errors[f"day-{day}"] = [exc.args[0]]
    if not any(week.values()) and not any(f.startswith("day-") for f in errors):
        errors["day-0"] = [_l("Enter the working hours of at least one weekday.")]
    for name, messages in check_week(week).items():
        errors.setdefault(name, messages)
    if errors:
        raise ValidationError(fields=errors)
    return week


def _apply_calendar(s: Session, calendar: WorkCalendar, data: CalendarInput, week: dict[int, list[tuple[int, int]]]) -> None:
    calendar.code, calendar.name = clean(data.code), clean(data.name)
    wanted = sorted((d, a, b) for d, spans in week.items() for a, b in spans)
    have = sorted((sh.weekday, sh.start_minute, sh.end_minute) for sh in calendar.shifts)
    if wanted != have:
        calendar.shifts.clear()
        s.flush()
        calendar.shifts.extend(CalendarShift(weekday=d, start_minute=a, end_minute=b) for d, a, b in wanted)


def create_calendar(data: CalendarInput) -> int:
    with transaction() as s:
        return create_calendar_in(s, data)


def create_calendar_in(s: Session, data: CalendarInput) -> int:
    week = _check_calendar_input(s, data, None)
    calendar = WorkCalendar(code="", name="")
    s.add(calendar)
    _apply_calendar(s, calendar, data, week)
    touch(calendar)
    s.flush()
    return calendar.id


def update_calendar(calendar_id: int, expected_version: int | None, data: CalendarInput) -> None:
    with transaction() as s:
        update_calendar_in(s, calendar_id, expected_version, data)


def update_calendar_in(s: Session, calendar_id: int, expected_version: int | None, data: CalendarInput) -> None:
    calendar = _load(s, WorkCalendar, calendar_id, expected_version)
    week = _check_calendar_input(s, data, calendar_id)
    _apply_calendar(s, calendar, data, week)
    touch(calendar)


def add_calendar_exception(calendar_id: int, expected_version: int | None, day: dt.date | None, working: bool,
                           note: str | None) -> int:
    """A holiday (no work that day) or an extra working day (worked like the first working
    weekday), e.g. the Saturday that makes up for a Spring Festival bridge day."""
    with transaction() as s:
        return add_calendar_exception_in(s, calendar_id, expected_version, day, working, note)


def add_calendar_exception_in(s: Session, calendar_id: int, expected_version: int | None, day: dt.date | None,
                              working: bool, note: str | None) -> int:
    calendar = _load(s, WorkCalendar, calendar_id, expected_version)
    errors: dict[str, list] = {}
    today = plant_today()
    if day is None:
        errors["day"] = [REQUIRED]
    elif abs(day.year - today.year) > EXCEPTION_REACH_YEARS:
        errors["day"] = [_l("Enter a date from %(first)s to %(last)s.", first=today.year - EXCEPTION_REACH_YEARS,
                            last=today.year + EXCEPTION_REACH_YEARS)]
    elif any(e.day == day for e in calendar.exceptions):
        errors["day"] = [_l("This day already has an entry; remove it first.")]
    if len(clean(note)) > 200:
        errors["note"] = [_l("At most %(n)s characters.", n=200)]
    if errors:
        raise ValidationError(fields=errors)
    row = CalendarException(day=day, working=bool(working), note=clean(note) or None)
    calendar.exceptions.append(row)
    touch(calendar)
    s.flush()
    return row.id


def remove_calendar_exception(calendar_id: int, expected_version: int | None, exception_id: int) -> None:
    with transaction() as s:
        calendar = _load(s, WorkCalendar, calendar_id, expected_version)
        row = s.get(CalendarException, exception_id)
        if row is None or row.calendar_id != calendar_id:
            raise NotFound()
        calendar.exceptions.remove(row)
        touch(calendar)


def retire_calendar(calendar_id: int, expected_version: int | None) -> None:
    """Refused while an active work center or a machine uses the calendar (they are listed)."""
    with transaction() as s:
        calendar = _load(s, WorkCalendar, calendar_id, expected_version)
        users = [c.code for c in s.scalars(select(WorkCenter).where(WorkCenter.calendar_id == calendar_id,
                                                                     WorkCenter.active))]
        users += [m.code for m in s.scalars(select(Machine).where(Machine.calendar_id == calendar_id,
                                                                  Machine.status != MachineStatus.RETIRED))]
        if users:
            raise Conflict(_l("This calendar is still used by: %(list)s", list=", ".join(users)))
        calendar.active = False
        touch(calendar)


def reactivate_calendar(calendar_id: int, expected_version: int | None) -> None:
    with transaction() as s:
        calendar = _load(s, WorkCalendar, calendar_id, expected_version)
        calendar.active = True
        touch(calendar)

# --- reason lists --------------------------------------------------------------------------------


@dataclass
class ReasonInput:
    kind: str
    code: str | None
    name_en: str | None
    name_zh: str | None
    sort_order: int | None = 0


def _check_reason(s, data: ReasonInput, reason_id: int | None = None) -> dict[str, list]:  # type: ignore[no-untyped-def]
    errors: dict[str, list] = {}
    if data.kind not in {k.value for k in ReasonKind}:
        errors["kind"] = [_l("Unknown kind.")]
    code = (data.code or "").strip()
    if not code:
        errors["code"] = [_l("This field is required.")]
    elif len(code) > 32:
        errors["code"] = [_l("At most %(n)s characters.", n=32)]
    elif "kind" not in errors:
        taken = s.scalar(select(Reason.id).where(Reason.kind == data.kind, Reason.code == code))
        if taken and taken != reason_id:
            errors["code"] = [_l("This code is already used in this list.")]
    for name in ("name_en", "name_zh"):
        value = (getattr(data, name) or "").strip()
        if not value:
            errors[name] = [_l("This field is required.")]
        elif len(value) > 120:
            errors[name] = [_l("At most %(n)s characters.", n=120)]
    if data.sort_order is None:
        errors["sort_order"] = [_l("Enter a whole number.")]
    return errors


def add_reason(data: ReasonInput) -> int:
    """A new entry of a reason list (both names required)."""
    with transaction() as s:
        errors = _check_reason(s, data)
        if errors:
            raise ValidationError(fields=errors)
        row = Reason(kind=ReasonKind(data.kind), code=(data.code or "").strip(), name_en=(data.name_en or "").strip(),
                     name_zh=(data.name_zh or "").strip(), sort_order=data.sort_order or 0, active=True)
        s.add(row)
        s.flush()
        return row.id


def update_reason(reason_id: int, data: ReasonInput) -> None:
    """Rename or re-order a reason; its kind stays (reports already point at it)."""
    with transaction() as s:
        row = s.get(Reason, reason_id, with_for_update=True)
        if row is None:
            raise NotFound()
        data.kind = row.kind.value
        errors = _check_reason(s, data, reason_id)
        if errors:
            raise ValidationError(fields=errors)
        row.code, row.name_en, row.name_zh = (data.code or "").strip(), (data.name_en or "").strip(), (data.name_zh or "").strip()
        row.sort_order = data.sort_order or 0


def set_reason_active(reason_id: int, active: bool) -> None:
    """Retire a reason (the floor no longer offers it) or bring it back."""
    with transaction() as s:
        row = s.get(Reason, reason_id, with_for_update=True)
        if row is None:
            raise NotFound()
        row.active = active


def seed_reasons() -> int:
    """Add the default reasons a list is missing (first-run safe: existing codes are kept)."""
    added = 0
    with transaction() as s:
        existing = {(str(kind), code) for kind, code in s.execute(select(Reason.kind, Reason.code))}
        for i, (kind, code, en, zh) in enumerate(DEFAULT_REASONS):
            if (kind, code) not in existing:
                s.add(Reason(kind=ReasonKind(kind), code=code, name_en=en, name_zh=zh, sort_order=(i + 1) * 10))
                added += 1
    return added
