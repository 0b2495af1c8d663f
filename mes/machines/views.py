"""Machine and work center pages."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, g, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from mes.core.auth import Permission, requires
from mes.core.db import session
from mes.core.clock import plant_tz
from mes.core.errors import NotFound, ValidationError
from mes.core.web import notify, render
from mes.machines import services
from mes.machines.models import Machine, MachineDowntime, MachineStatus, WorkCenter

bp = Blueprint("machines", __name__, url_prefix="/machines")


@bp.route("/")
@requires(Permission.VIEW_PLANT)
def list_machines() -> Response:
    centers = session().scalars(
        select(WorkCenter).options(selectinload(WorkCenter.machines)).order_by(WorkCenter.code)
    ).all()
    return render("machines/list.html", centers=centers)


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
