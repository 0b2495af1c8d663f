"""Machine and work center pages."""
from __future__ import annotations

import datetime as dt
from typing import Any


from flask import Blueprint, Response, g, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from mes.core.auth import Permission, can, requires
from mes.core.db import session
from mes.core.clock import plant_tz
from mes.core.errors import Forbidden, NotFound, ValidationError
from mes.core.forms import FormField, form_text, parse_date
from mes.core.inputs import MAX_INT, to_int
from mes.core.web import form_version, hx_redirect, notify, render
from mes.machines import services
from mes.machines.models import Machine, MachineDowntime, MachineStatus, Reason, ReasonKind, WorkCalendar, WorkCenter

bp = Blueprint("machines", __name__, url_prefix="/machines")


@bp.route("/")
@requires(Permission.VIEW_PLANT)
def list_machines() -> Response:
    centers = session().scalars(
        select(WorkCenter).options(selectinload(WorkCenter.machines)).order_by(WorkCenter.active.desc(), WorkCenter.code)
    ).all()
    downtime = services.open_downtime(session())
    states = {m.id: services.effective_status(m, downtime) for c in centers for m in c.machines}
    return render("machines/list.html", centers=centers, states=states, downtime=downtime,
                  editor=_may_edit())


def _detail(machine_id: int, status: int = 200, errors: dict | None = None, values: dict | None = None) -> Response:
    machine = session().get(Machine, machine_id)
    if machine is None:
        raise NotFound()
    downtime = session().scalars(select(MachineDowntime).where(MachineDowntime.machine_id == machine_id)
                                 .order_by(MachineDowntime.starts_at.desc()).limit(20)).all()
    return render("machines/detail.html", "machines/_downtime.html", status=status, machine=machine, downtime=downtime,
                  statuses=list(MachineStatus), errors=errors or {}, values=values or {}, kinds=services.DOWNTIME_KINDS,
                  local_input=_local_input)


def _local_input(moment: dt.datetime | None) -> str:
    """A stored UTC time as a datetime-local input value in the plant's time zone."""
    return moment.astimezone(plant_tz()).strftime("%Y-%m-%dT%H:%M") if moment else ""


@bp.route("/<int:machine_id>")
@requires(Permission.VIEW_PLANT)
def machine_detail(machine_id: int) -> Response:
    return _detail(machine_id)


def _local(raw: str | None, field: str, errors: dict) -> dt.datetime | None:
    """A datetime-local input, read in the plant's time zone."""
    if not raw:
        return None
    try:
        return dt.datetime.fromisoformat(raw).replace(tzinfo=plant_tz())
    except ValueError:
        errors[field] = [_l("Enter a date and time.")]
        return None


@bp.route("/<int:machine_id>/downtime", methods=["POST"])
@requires(Permission.SCHEDULE, Permission.ADMIN)
def record_downtime(machine_id: int) -> Response:
    errors: dict[str, list] = {}
    starts = _local(request.form.get("starts_at"), "starts_at", errors)
    ends = _local(request.form.get("ends_at"), "ends_at", errors)
    if not errors:
        try:
            services.record_downtime(machine_id, starts, ends, request.form.get("kind", ""), request.form.get("note"))
            notify(_l("Downtime recorded."))
            return _detail(machine_id)
        except ValidationError as exc:
            errors = exc.fields
    g.keep_target = True
    return _detail(machine_id, status=422, errors=errors, values=request.form)


@bp.route("/<int:machine_id>/downtime/<int:downtime_id>", methods=["POST"])
@requires(Permission.SCHEDULE, Permission.ADMIN)
def update_downtime(machine_id: int, downtime_id: int) -> Response:
    errors: dict[str, list] = {}
    starts = _local(request.form.get("starts_at"), "starts_at", errors)
    ends = _local(request.form.get("ends_at"), "ends_at", errors)
    if errors:
        raise ValidationError(fields=errors)
    services.update_downtime(machine_id, downtime_id, starts, ends, request.form.get("kind", ""),
                             request.form.get("note"))
    notify(_l("Downtime saved."))
    return _detail(machine_id)


@bp.route("/<int:machine_id>/downtime/<int:downtime_id>/end", methods=["POST"])
@requires(Permission.SCHEDULE, Permission.ADMIN)
def end_downtime(machine_id: int, downtime_id: int) -> Response:
    """The machine works again: now, or at the time given."""
    errors: dict[str, list] = {}
    ends = _local(request.form.get("ends_at"), "ends_at", errors)
    if errors:
        raise ValidationError(fields=errors)
    services.end_downtime(machine_id, downtime_id, ends)
    notify(_l("Downtime ended."))
    return _detail(machine_id)


@bp.route("/<int:machine_id>/status", methods=["POST"])
@requires(Permission.SCHEDULE, Permission.ADMIN)
def set_status(machine_id: int) -> Response:
    try:
        status = MachineStatus(request.form.get("status", ""))
    except ValueError:
        raise ValidationError(fields={"status": [_l("Unknown status.")]}) from None
    services.set_status(machine_id, status)
    notify(_l("Status of %(machine)s set to “%(status)s”.", machine=session().get(Machine, machine_id).code, status=status.label))
    return _detail(machine_id)


# --- plant setup: master-data pages ---------------------------------------------------------------
# Work centers, machines and shift calendars: list, create, edit, retire (never delete: history
# refers to them). Admins and planners edit; every edit carries the version it was drawn from.

EDIT = (Permission.SCHEDULE, Permission.ADMIN)


def _may_edit() -> bool:
    return can(Permission.SCHEDULE) or can(Permission.ADMIN)


def _calendar_options(current: int | None = None) -> list[tuple[Any, Any]]:
    calendars = session().scalars(select(WorkCalendar).where(
        (WorkCalendar.active) | (WorkCalendar.id == (current or 0))).order_by(WorkCalendar.code))
    return [("", _l("(none: always available)"))] + [(c.id, f"{c.code} · {c.name}") for c in calendars]


def _form_page(*, title: Any, action: str, fields: list[FormField], values: Any, errors: dict | None = None,
               version: int | None = None, back: tuple[str, Any], submit: Any, status: int = 200,
               record: Any = None, active: bool = True, lifecycle_url: str | None = None,
               retire_hint: Any = None) -> Response:
    return render("record_form.html", "_record_form.html", status=status, title=title, action=action, fields=fields,
                  values=values, errors=errors or {}, version=version, back_url=back[0], back_label=back[1],
                  submit_label=submit, record=record, active=active, lifecycle_url=lifecycle_url,
                  retire_hint=retire_hint)


def _optional_id(name: str) -> int | None:
    raw = form_text(request.form, name)
    if not raw:
        return None
    value = to_int(raw)
    if value is None:
        return -1  # an id that cannot exist: the service names the field
    return value


def _number(name: str, errors: dict, default: int | None = None) -> int | None:
    raw = form_text(request.form, name)
    if not raw:
        return default
    value = to_int(raw, min=-(2**31), max=2**31 - 1)
    if value is None:
        errors[name] = [_l("Enter a whole number.")]
    return value


# work centers


def _center_fields(current_calendar: int | None = None) -> list[FormField]:
    return [
        FormField("code", _l("Code"), required=True),
        FormField("name", _l("Name"), required=True),
        FormField("calendar_id", _l("Shift calendar"), "select", _calendar_options(current_calendar)),
        FormField("default_changeover_minutes", _l("Default changeover (minutes)"), "number",
                  hint=_l("When the product family changes and the setup matrix has no entry.")),
    ]


def _center_input(errors: dict) -> services.WorkCenterInput:
    return services.WorkCenterInput(
        code=form_text(request.form, "code"), name=form_text(request.form, "name"),
        calendar_id=_optional_id("calendar_id"),
        default_changeover_minutes=_number("default_changeover_minutes", errors, 0),
    )


@bp.route("/centers/")
@requires(Permission.VIEW_PLANT)
def work_centers() -> Response:
    centers = session().scalars(select(WorkCenter).options(selectinload(WorkCenter.machines), selectinload(WorkCenter.calendar))
                                .order_by(WorkCenter.active.desc(), WorkCenter.code)).all()
    return render("machines/centers.html", centers=centers, editor=_may_edit())


@bp.route("/centers/new", methods=["GET", "POST"])
@requires(*EDIT)
def new_work_center() -> Response:
    errors: dict[str, list] = {}
    values: Any = {"default_changeover_minutes": 0}
    status = 200
    if request.method == "POST":
        values = request.form
        data = _center_input(errors)
        try:
            if errors:
                raise ValidationError(fields=errors)
            services.create_work_center(data)
            return hx_redirect(url_for("machines.work_centers"))
        except ValidationError as exc:
            errors, status = {**errors, **exc.fields}, 422
    return _form_page(title=_l("New work center"), action=url_for("machines.new_work_center"), fields=_center_fields(),
                      values=values, errors=errors, back=(url_for("machines.work_centers"), _l("Work centers")),
                      submit=_l("Create work center"), status=status)


@bp.route("/centers/<int:center_id>", methods=["GET", "POST"])
@requires(*EDIT)
def edit_work_center(center_id: int) -> Response:
    center = session().get(WorkCenter, center_id)
    if center is None:
        raise NotFound()
    errors: dict[str, list] = {}
    values: Any = {"code": center.code, "name": center.name, "calendar_id": center.calendar_id or "",
                   "default_changeover_minutes": center.default_changeover_minutes}
    status, version = 200, center.version
    if request.method == "POST":
        values = request.form
        data = _center_input(errors)
        try:
            version = form_version()
            if errors:
                raise ValidationError(fields=errors)
            services.update_work_center(center_id, version, data)
            return hx_redirect(url_for("machines.work_centers"))
        except ValidationError as exc:
            errors, status = {**errors, **exc.fields}, 422
    return _form_page(title=_l("Work center %(code)s", code=center.code),
                      action=url_for("machines.edit_work_center", center_id=center_id),
                      fields=_center_fields(center.calendar_id), values=values, errors=errors, version=version,
                      back=(url_for("machines.work_centers"), _l("Work centers")), submit=_l("Save"), status=status,
                      record=center, active=center.active,
                      lifecycle_url=url_for("machines.work_center_lifecycle", center_id=center_id),
                      retire_hint=_l("A retired work center keeps its history but takes no new machines or operations. "
                                     "Retire or move its machines first."))


@bp.route("/centers/<int:center_id>/lifecycle", methods=["POST"])
@requires(*EDIT)
def work_center_lifecycle(center_id: int) -> Response:
    if request.form.get("action") == "reactivate":
        services.reactivate_work_center(center_id, form_version())
    else:
        services.retire_work_center(center_id, form_version())
    return hx_redirect(url_for("machines.work_centers"))


# machines


def _machine_fields(machine: Machine | None = None) -> list[FormField]:
    current_center = machine.work_center_id if machine else 0
    centers = session().scalars(select(WorkCenter).where(WorkCenter.active | (WorkCenter.id == current_center))
                                .order_by(WorkCenter.code))
    statuses = [s for s in MachineStatus if s != MachineStatus.RETIRED or (machine and machine.status == s)]
    return [
        FormField("code", _l("Code"), required=True),
        FormField("name", _l("Name"), required=True),
        FormField("work_center_id", _l("Work center"), "select",
                  [("", "")] + [(c.id, f"{c.code} · {c.name}") for c in centers], required=True),
        FormField("make", _l("Make")),
        FormField("model", _l("Model")),
        FormField("year_built", _l("Year built"), "number"),
        FormField("speed_factor", _l("Speed factor"), hint=_l("1 = the routing's standard times; above 1 faster, below 1 slower.")),
        FormField("calendar_id", _l("Shift calendar"), "select",
                  [("", _l("(the work center's)"))] + _calendar_options(machine.calendar_id if machine else None)[1:]),
        FormField("status", _l("Planning status"), "select", [(s.value, s.label) for s in statuses]),
        FormField("has_data_connection", _l("Sends machine data (MQTT)"), "checkbox"),
    ]


def _machine_input(errors: dict) -> services.MachineInput:
    return services.MachineInput(
        code=form_text(request.form, "code"), name=form_text(request.form, "name"),
        work_center_id=_optional_id("work_center_id"), make=form_text(request.form, "make"),
        model=form_text(request.form, "model"), year_built=_number("year_built", errors),
        speed_factor=form_text(request.form, "speed_factor"), calendar_id=_optional_id("calendar_id"),
        status=form_text(request.form, "status") or MachineStatus.AVAILABLE.value,
        has_data_connection=bool(request.form.get("has_data_connection")),
    )


@bp.route("/new", methods=["GET", "POST"])
@requires(*EDIT)
def new_machine() -> Response:
    errors: dict[str, list] = {}
    values: Any = {"speed_factor": "1", "status": MachineStatus.AVAILABLE.value,
                   "work_center_id": request.args.get("work_center", "")}
    status = 200
    if request.method == "POST":
        values = request.form
        data = _machine_input(errors)
        try:
            if errors:
                raise ValidationError(fields=errors)
            machine_id = services.create_machine(data)
            return hx_redirect(url_for("machines.machine_detail", machine_id=machine_id))
        except ValidationError as exc:
            errors, status = {**errors, **exc.fields}, 422
    return _form_page(title=_l("New machine"), action=url_for("machines.new_machine"), fields=_machine_fields(),
                      values=values, errors=errors, back=(url_for("machines.list_machines"), _l("Machines")),
                      submit=_l("Create machine"), status=status)


@bp.route("/<int:machine_id>/edit", methods=["GET", "POST"])
@requires(*EDIT)
def edit_machine(machine_id: int) -> Response:
    machine = session().get(Machine, machine_id)
    if machine is None:
        raise NotFound()
    errors: dict[str, list] = {}
    values: Any = {"code": machine.code, "name": machine.name, "work_center_id": machine.work_center_id,
                   "make": machine.make or "", "model": machine.model or "", "year_built": machine.year_built or "",
                   "speed_factor": f"{machine.speed_factor.normalize():f}", "calendar_id": machine.calendar_id or "",
                   "status": machine.status.value, "has_data_connection": "1" if machine.has_data_connection else ""}
    status, version = 200, machine.version
    if request.method == "POST":
        values = request.form
        data = _machine_input(errors)
        try:
            version = form_version()
            if errors:
                raise ValidationError(fields=errors)
            services.update_machine(machine_id, version, data)
            return hx_redirect(url_for("machines.machine_detail", machine_id=machine_id))
        except ValidationError as exc:
            errors, status = {**errors, **exc.fields}, 422
    retired = machine.status == MachineStatus.RETIRED
    return _form_page(title=_l("Machine %(code)s", code=machine.code),
                      action=url_for("machines.edit_machine", machine_id=machine_id), fields=_machine_fields(machine),
                      values=values, errors=errors, version=version,
                      back=(url_for("machines.machine_detail", machine_id=machine_id), machine.code),
                      submit=_l("Save"), status=status, record=machine, active=not retired,
                      lifecycle_url=url_for("machines.machine_lifecycle", machine_id=machine_id),
                      retire_hint=_l("A retired machine keeps its history but is no longer planned. Refused while it "
                                     "has planned or running operations."))


@bp.route("/<int:machine_id>/lifecycle", methods=["POST"])
@requires(*EDIT)
def machine_lifecycle(machine_id: int) -> Response:
    if request.form.get("action") == "reactivate":
        services.reactivate_machine(machine_id, form_version())
    else:
        services.retire_machine(machine_id, form_version())
    return hx_redirect(url_for("machines.list_machines"))


# shift calendars


@bp.route("/calendars/")
@requires(Permission.VIEW_PLANT)
def calendars() -> Response:
    rows = session().scalars(select(WorkCalendar).options(selectinload(WorkCalendar.shifts))
                             .order_by(WorkCalendar.active.desc(), WorkCalendar.code)).all()
    return render("machines/calendars.html", calendars=rows, editor=_may_edit(), week_text=_week_text,
                  weekdays=_weekday_names())


def _weekday_names() -> list[Any]:
    return [_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"), _l("Saturday"), _l("Sunday")]


def _week_text(calendar: WorkCalendar) -> dict[int, str]:
    return {d: services.format_spans((s.start_minute, s.end_minute) for s in calendar.shifts if s.weekday == d)
            for d in services.WEEKDAYS}


def _calendar_input() -> services.CalendarInput:
    return services.CalendarInput(code=form_text(request.form, "code"), name=form_text(request.form, "name"),
                                  week={d: form_text(request.form, f"day-{d}") for d in services.WEEKDAYS})


def _calendar_page(calendar: WorkCalendar | None, values: Any, errors: dict, status: int = 200,
                   version: int | None = None, exception_errors: dict | None = None,
                   exception_values: Any = None) -> Response:
    return render("machines/calendar_form.html", "machines/_calendar_form.html", status=status, calendar=calendar,
                  values=values, errors=errors, version=version if version is not None else (calendar.version if calendar else None),
                  weekdays=_weekday_names(), exception_errors=exception_errors or {},
                  exception_values=exception_values or {})


@bp.route("/calendars/new", methods=["GET", "POST"])
@requires(*EDIT)
def new_calendar() -> Response:
    values: Any = {"day-0": "08:00-12:00, 13:00-17:00", "day-1": "08:00-12:00, 13:00-17:00",
                   "day-2": "08:00-12:00, 13:00-17:00", "day-3": "08:00-12:00, 13:00-17:00",
                   "day-4": "08:00-12:00, 13:00-17:00"}
    if request.method == "POST":
        try:
            calendar_id = services.create_calendar(_calendar_input())
            return hx_redirect(url_for("machines.edit_calendar", calendar_id=calendar_id))
        except ValidationError as exc:
            return _calendar_page(None, request.form, exc.fields, 422)
    return _calendar_page(None, values, {})


@bp.route("/calendars/<int:calendar_id>", methods=["GET", "POST"])
@requires(*EDIT)
def edit_calendar(calendar_id: int) -> Response:
    calendar = session().get(WorkCalendar, calendar_id)
    if calendar is None:
        raise NotFound()
    if request.method == "POST":
        version = form_version()
        try:
            services.update_calendar(calendar_id, version, _calendar_input())
            return hx_redirect(url_for("machines.calendars"))
        except ValidationError as exc:
            return _calendar_page(calendar, request.form, exc.fields, 422, version=version)
    values = {"code": calendar.code, "name": calendar.name, **{f"day-{d}": text for d, text in _week_text(calendar).items()}}
    return _calendar_page(calendar, values, {})


@bp.route("/calendars/<int:calendar_id>/exceptions", methods=["POST"])
@requires(*EDIT)
def add_calendar_exception(calendar_id: int) -> Response:
    errors: dict[str, list] = {}
    day = parse_date(request.form.get("day"), "day", errors)
    version = form_version()
    if not errors:
        try:
            services.add_calendar_exception(calendar_id, version, day, request.form.get("working") == "1",
                                            request.form.get("note"))
            return hx_redirect(url_for("machines.edit_calendar", calendar_id=calendar_id))
        except ValidationError as exc:
            errors = exc.fields
    calendar = session().get(WorkCalendar, calendar_id)
    if calendar is None:
        raise NotFound()
    values = {"code": calendar.code, "name": calendar.name, **{f"day-{d}": text for d, text in _week_text(calendar).items()}}
    g.keep_target = True
    return render("machines/calendar_form.html", status=422, calendar=calendar, values=values, errors={},
                  version=calendar.version, weekdays=_weekday_names(), exception_errors=errors,
                  exception_values=request.form)


@bp.route("/calendars/<int:calendar_id>/exceptions/<int:exception_id>/remove", methods=["POST"])
@requires(*EDIT)
def remove_calendar_exception(calendar_id: int, exception_id: int) -> Response:
    services.remove_calendar_exception(calendar_id, form_version(), exception_id)
    return hx_redirect(url_for("machines.edit_calendar", calendar_id=calendar_id))


@bp.route("/calendars/<int:calendar_id>/lifecycle", methods=["POST"])
@requires(*EDIT)
def calendar_lifecycle(calendar_id: int) -> Response:
    if request.form.get("action") == "reactivate":
        services.reactivate_calendar(calendar_id, form_version())
    else:
        services.retire_calendar(calendar_id, form_version())
    return hx_redirect(url_for("machines.calendars"))

# --- reason lists --------------------------------------------------------------------------------


def _reasons_page(status: int = 200, errors: dict | None = None, values: Any = None, edit_id: int | None = None) -> Response:
    rows = session().scalars(select(Reason).order_by(Reason.kind, Reason.sort_order, Reason.code)).all()
    lists = [(kind, [r for r in rows if r.kind == kind]) for kind in ReasonKind]
    return render("machines/reasons.html", "machines/_reasons.html", status=status, lists=lists, kinds=list(ReasonKind),
                  errors=errors or {}, values=values or {}, edit_id=edit_id)


def _reason_input(kind: str = "") -> services.ReasonInput:
    return services.ReasonInput(kind=request.form.get("kind", kind), code=request.form.get("code"),
                                name_en=request.form.get("name_en"), name_zh=request.form.get("name_zh"),
                                sort_order=to_int(request.form.get("sort_order") or "0", min=0, max=MAX_INT))


@bp.route("/reasons", methods=["GET", "POST"])
@requires(Permission.VIEW_PLANT)
def reasons() -> Response:
    """The reason lists the floor offers: why work paused, pieces were scrapped, a machine stopped."""
    if request.method == "POST":
        if not can(Permission.SCHEDULE) and not can(Permission.ADMIN):
            raise Forbidden()
        try:
            services.add_reason(_reason_input())
        except ValidationError as exc:
            g.keep_target = True
            return _reasons_page(422, exc.fields, request.form)
    return _reasons_page()


@bp.route("/reasons/<int:reason_id>", methods=["POST"])
@requires(Permission.SCHEDULE, Permission.ADMIN)
def edit_reason(reason_id: int) -> Response:
    try:
        services.update_reason(reason_id, _reason_input())
    except ValidationError as exc:
        g.keep_target = True
        return _reasons_page(422, exc.fields, request.form, edit_id=reason_id)
    return _reasons_page()


@bp.route("/reasons/<int:reason_id>/active", methods=["POST"])
@requires(Permission.SCHEDULE, Permission.ADMIN)
def reason_active(reason_id: int) -> Response:
    """Retire a reason, or bring a retired one back."""
    services.set_reason_active(reason_id, request.form.get("active") == "1")
    return _reasons_page()
