"""Importing the plant itself (work centers, shift calendars, machines, product families): each
row is matched by code, so a file creates what is new and updates what exists (an exported file,
edited in Excel, imports back). Rows go through the machines' and routing's own services, which
check them; the preview runs the same writes and rolls them back, so it shows exactly what
would change."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mes.core.errors import DomainError
from mes.imports.cells import CellError, parse_bool, parse_date, parse_int, text_of
from mes.imports.columns import Kind
from mes.imports.reading import Table
from mes.imports.results import RowError
from mes.imports.rows import RowErrors
from mes.machines import services as machines
from mes.machines.models import Machine, MachineStatus, WorkCalendar, WorkCenter
from mes.routing import services as routing
from mes.routing.models import Product, ProductFamily

WEEKDAY_NAMES = {
    **{str(i + 1): i for i in range(7)},
    **{name: i for i, names in enumerate((
        ("mon", "monday", "周一", "星期一", "一"), ("tue", "tuesday", "周二", "星期二", "二"),
        ("wed", "wednesday", "周三", "星期三", "三"), ("thu", "thursday", "周四", "星期四", "四"),
        ("fri", "friday", "周五", "星期五", "五"), ("sat", "saturday", "周六", "星期六", "六"),
        ("sun", "sunday", "周日", "星期日", "星期天", "周天", "日", "7")))
       for name in names},
}
STATUS_NAMES = {"available": MachineStatus.AVAILABLE, "可用": MachineStatus.AVAILABLE, "down": MachineStatus.DOWN,
                "故障": MachineStatus.DOWN, "停机": MachineStatus.DOWN, "maintenance": MachineStatus.MAINTENANCE,
                "保养": MachineStatus.MAINTENANCE, "维修": MachineStatus.MAINTENANCE}
#: The fields a preview compares, per model, with the import column each comes from.
COMPARED = {
    WorkCenter: ("name", "calendar_id", "default_changeover_minutes"),
    Machine: ("name", "work_center_id", "make", "model", "year_built", "has_data_connection", "speed_factor",
              "calendar_id", "status"),
    ProductFamily: ("name",),
    Product: ("name", "family_id", "drawing"),
    WorkCalendar: ("name",),
}
FIELD_COLUMNS = {
    Kind.WORK_CENTERS: {"code": "code", "name": "name", "calendar_id": "calendar",
                        "default_changeover_minutes": "changeover_min"},
    Kind.MACHINES: {"code": "code", "name": "name", "work_center_id": "work_center", "make": "make", "model": "model",
                    "year_built": "year", "speed_factor": "speed_factor", "calendar_id": "calendar", "status": "status"},
    Kind.FAMILIES: {"code": "code", "name": "name"},
    Kind.PRODUCTS: {"code": "code", "name": "name", "family_id": "family", "drawing": "drawing"},
    Kind.CALENDARS: {"code": "calendar", "name": "name", "day": "date", "note": "note", "day-*": "shifts"},
}


def _by_code(s: Session, model: type, code: str) -> Any:
    return s.scalar(select(model).where(func.lower(model.code) == code.lower())) if code else None


def _snapshot(record: Any) -> dict[str, Any]:
    return {name: getattr(record, name) for name in COMPARED[type(record)]}


def _changes(before: dict[str, Any], record: Any) -> list[str]:
    out = []
    for name, old in before.items():
        new = getattr(record, name)
        if old != new:
            out.append(f"{name}: {_shown(old)} → {_shown(new)}")
    return out


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if hasattr(value, "normalize"):
        return f"{value.normalize():f}"
    return str(value.value if hasattr(value, "value") else value)


def apply(s: Session, table: Table) -> tuple[list[RowError], list[dict[str, Any]]]:
    """Create or update every row's record in ``s`` (the caller commits or rolls back): the
    problems by row and column, and a line per record saying what happens to it."""
    errors: list[RowError] = []
    lines: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    if table.kind == Kind.CALENDARS:
        _apply_calendars(s, table, errors, lines)
        return errors, lines
    for row_no, row in table.rows:
        row_errors = RowErrors(table, row_no, errors)
        code = text_of(row.get("code"))
        if code and code.lower() in seen:
            row_errors.add("code", _l("The code %(code)s is already in row %(row)s.", code=code, row=seen[code.lower()]))
            continue
        seen[code.lower()] = row_no
        try:
            with s.begin_nested():
                line = _apply_row(s, table.kind, row, row_errors)
        except DomainError as exc:
            if exc.fields:
                row_errors.add_fields(exc.fields, FIELD_COLUMNS[table.kind])
            else:
                row_errors.add("code", exc.text())
            continue
        except CellError:
            continue  # already reported by row_errors.cell
        if line:
            lines.append(line)
    return errors, lines


class _CellProblem(CellError):
    pass


def _cell(row_errors: RowErrors, key: str, parse: Any, value: Any, default: Any = None) -> Any:
    before = len(row_errors.sink)
    result = row_errors.cell(key, parse, value, default)
    if len(row_errors.sink) > before:
        raise _CellProblem("")
    return result


def _calendar_ref(s: Session, row: dict[str, Any], row_errors: RowErrors) -> int | None:
    code = text_of(row.get("calendar"))
    if not code:
        return None
    record = _by_code(s, WorkCalendar, code)
    if record is None or not record.active:
        row_errors.add("calendar", _l("Unknown shift calendar %(code)s.", code=code))
        raise _CellProblem("")
    return record.id


def _apply_row(s: Session, kind: Kind, row: dict[str, Any], row_errors: RowErrors) -> dict[str, Any] | None:
    code = text_of(row.get("code"))
    if kind == Kind.FAMILIES:
        data = routing.FamilyInput(code=code, name=text_of(row.get("name")))
        family = _by_code(s, ProductFamily, code)
        if family is None:
            routing.create_family_in(s, data)
            return {"code": code, "name": data.name, "action": "create", "changes": []}
        before = _snapshot(family)
        routing.update_family_in(s, family.id, None, data)
        return {"code": family.code, "name": data.name, "action": "update", "changes": _changes(before, family)}
    if kind == Kind.PRODUCTS:
        family_code = text_of(row.get("family"))
        family = _by_code(s, ProductFamily, family_code) if family_code else None
        if family_code and (family is None or not family.active):
            row_errors.add("family", _l("Unknown product family %(code)s.", code=family_code))
            raise _CellProblem("")
        product = s.scalar(select(Product).where(Product.code == code)) if code else None
        drawing = text_of(row.get("drawing")) if "drawing" in row_errors.table.headers or not product else product.drawing
        data = routing.ProductInput(code=code, name=text_of(row.get("name")), family_id=family.id if family else 0,
                                    drawing=drawing or None)
        if product is None:
            routing.create_product_in(s, data)
            return {"code": code, "name": data.name, "action": "create", "changes": []}
        before = _snapshot(product)
        routing.update_product_in(s, product.id, data)
        return {"code": product.code, "name": data.name, "action": "update", "changes": _changes(before, product)}
    if kind == Kind.WORK_CENTERS:
        center = _by_code(s, WorkCenter, code)
        present = row_errors.table.headers
        calendar_id = _calendar_ref(s, row, row_errors) if "calendar" in present or not center else center.calendar_id
        if "changeover_min" in present or not center:
            minutes = _cell(row_errors, "changeover_min", parse_int, row.get("changeover_min"), 0)
        else:
            minutes = center.default_changeover_minutes
        data = machines.WorkCenterInput(code=code, name=text_of(row.get("name")), calendar_id=calendar_id,
                                        default_changeover_minutes=0 if minutes is None else minutes)
        if center is None:
            machines.create_work_center_in(s, data)
            return {"code": code, "name": data.name, "action": "create", "changes": []}
        before = _snapshot(center)
        machines.update_work_center_in(s, center.id, None, data)
        return {"code": center.code, "name": data.name, "action": "update", "changes": _changes(before, center)}
    # machines: a column the file leaves out keeps the machine's value; an empty cell clears it
    machine = _by_code(s, Machine, code)
    present = row_errors.table.headers

    def given(key: str) -> bool:
        return key in present or machine is None

    center_code = text_of(row.get("work_center"))
    center = _by_code(s, WorkCenter, center_code) if center_code else None
    if center_code and (center is None or not center.active):
        row_errors.add("work_center", _l("Unknown work center %(code)s.", code=center_code))
        raise _CellProblem("")
    calendar_id = _calendar_ref(s, row, row_errors) if given("calendar") else machine.calendar_id  # type: ignore[union-attr]
    status_text = text_of(row.get("status")).lower()
    status = STATUS_NAMES.get(status_text) if status_text else None
    if status_text and status is None:
        row_errors.add("status", _l("Enter available, down or maintenance."))
        raise _CellProblem("")
    if status is None:
        status = machine.status if machine and machine.status != MachineStatus.RETIRED else MachineStatus.AVAILABLE
    data = machines.MachineInput(
        code=code, name=text_of(row.get("name")), work_center_id=center.id if center else None,
        make=text_of(row.get("make")) if given("make") else machine.make,  # type: ignore[union-attr]
        model=text_of(row.get("model")) if given("model") else machine.model,  # type: ignore[union-attr]
        year_built=_cell(row_errors, "year", parse_int, row.get("year")) if given("year") else machine.year_built,  # type: ignore[union-attr]
        has_data_connection=(_cell(row_errors, "data_connection", parse_bool, row.get("data_connection"), False)
                             if given("data_connection") else machine.has_data_connection),  # type: ignore[union-attr]
        speed_factor=(text_of(row.get("speed_factor")) or "1") if given("speed_factor") else machine.speed_factor,  # type: ignore[union-attr]
        calendar_id=calendar_id, status=status,
    )
    if machine is None:
        machines.create_machine_in(s, data)
        return {"code": code, "name": data.name, "action": "create", "changes": []}
    before = _snapshot(machine)
    machines.update_machine_in(s, machine.id, None, data)
    return {"code": machine.code, "name": data.name, "action": "update", "changes": _changes(before, machine)}


def _apply_calendars(s: Session, table: Table, errors: list[RowError], lines: list[dict[str, Any]]) -> None:
    """Rows grouped by calendar code: the weekdays' shifts replace the calendar's week, the
    special days replace its holidays and extra working days."""
    groups: dict[str, dict[str, Any]] = {}
    for row_no, row in table.rows:
        row_errors = RowErrors(table, row_no, errors)
        code = text_of(row.get("calendar"))
        if not code:
            row_errors.add("calendar", _l("This field is required."))
            continue
        group = groups.setdefault(code.lower(), {"code": code, "name": "", "week": {}, "days": [], "row": row_no,
                                                 "weekday_rows": {}})
        group["name"] = group["name"] or text_of(row.get("name"))
        weekday_text = text_of(row.get("weekday")).lower()
        try:
            day = parse_date(row.get("date"))
        except CellError as exc:
            row_errors.add("date", exc.message)
            continue
        if weekday_text and day:
            row_errors.add("date", _l("Give either a weekday or a date, not both."))
        elif weekday_text:
            weekday = WEEKDAY_NAMES.get(weekday_text)
            if weekday is None:
                row_errors.add("weekday", _l("Enter a weekday 1-7 (1 = Monday)."))
            elif weekday in group["weekday_rows"]:
                row_errors.add("weekday", _l("This weekday is already in row %(row)s.", row=group["weekday_rows"][weekday]))
            else:
                group["weekday_rows"][weekday] = row_no
                group["week"][weekday] = text_of(row.get("shifts"))
        elif day:
            try:
                working = parse_bool(row.get("working"))
            except CellError as exc:
                row_errors.add("working", exc.message)
                continue
            group["days"].append((row_no, day, working, text_of(row.get("note"))))
        elif not group["name"] or text_of(row.get("shifts")):
            row_errors.add("weekday", _l("Give a weekday (or a date for a holiday or extra working day)."))
    for group in groups.values():
        _apply_calendar(s, table, group, errors, lines)


def _apply_calendar(s: Session, table: Table, group: dict[str, Any], errors: list[RowError], lines: list[dict[str, Any]]) -> None:
    first = group["row"]
    data = machines.CalendarInput(code=group["code"], name=group["name"], week=group["week"])
    calendar = _by_code(s, WorkCalendar, group["code"])
    try:
        with s.begin_nested():
            if calendar is None:
                calendar_id = machines.create_calendar_in(s, data)
                calendar = s.get(WorkCalendar, calendar_id)
                line = {"code": group["code"], "name": data.name, "action": "create", "changes": []}
            else:
                data.name = data.name or calendar.name
                before = (calendar.name, sorted((x.weekday, x.start_minute, x.end_minute) for x in calendar.shifts),
                          sorted((e.day, e.working) for e in calendar.exceptions))
                machines.update_calendar_in(s, calendar.id, None, data)
                line = {"code": calendar.code, "name": data.name, "action": "update", "changes": [], "_before": before}
            for exception in list(calendar.exceptions):
                calendar.exceptions.remove(exception)
            s.flush()
            for row_no, day, working, note in group["days"]:
                try:
                    machines.add_calendar_exception_in(s, calendar.id, None, day, working, note)
                except DomainError as exc:
                    RowErrors(table, row_no, errors).add_fields(exc.fields, FIELD_COLUMNS[Kind.CALENDARS])
                    raise
    except DomainError as exc:
        if exc.fields and not any(k in ("day", "note") for k in exc.fields):
            for field, messages in exc.fields.items():
                day = field.removeprefix("day-")
                row = group["weekday_rows"].get(int(day), first) if field.startswith("day-") and day.isdigit() else first
                RowErrors(table, row, errors).add_fields({field: messages}, FIELD_COLUMNS[Kind.CALENDARS])
        elif not exc.fields:
            RowErrors(table, first, errors).add("calendar", exc.text())
        return
    before = line.pop("_before", None)
    if before is not None:
        after = (calendar.name, sorted((x.weekday, x.start_minute, x.end_minute) for x in calendar.shifts),
                 sorted((e.day, e.working) for e in calendar.exceptions))
        line["changes"] = [label for label, old, new in zip(("name", "shifts", "special days"), before, after) if old != new]
    line["shifts"] = len(calendar.shifts)
    line["days"] = len(group["days"])
    lines.append(line)
