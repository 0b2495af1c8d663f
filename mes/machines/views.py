"""Machine and work center pages."""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, g, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from mes.core.auth import Permission, can, requires
from mes.core.db import session
from mes.core.clock import plant_tz
from mes.core.errors import Forbidden, NotFound, ValidationError
from mes.core.inputs import MAX_INT, to_int
from mes.core.web import render
from mes.machines import services
from mes.machines.models import Machine, MachineDowntime, MachineStatus, Reason, ReasonKind, WorkCenter

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
    return _detail(machine_id)


@bp.route("/<int:machine_id>/status", methods=["POST"])
@requires(Permission.SCHEDULE, Permission.ADMIN)
def set_status(machine_id: int) -> Response:
    try:
        status = MachineStatus(request.form.get("status", ""))
    except ValueError:
        raise ValidationError(fields={"status": [_l("Unknown status.")]}) from None
    services.set_status(machine_id, status)
    return _detail(machine_id)


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
