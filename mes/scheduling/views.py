"""Schedule pages: run the optimizer (in the background, the page polls its progress), look at a
proposed plan per machine with its figures, and publish it to the shop floor."""
from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from mes.core.auth import Permission, requires
from mes.core.clock import day_end
from mes.core.db import session
from mes.core.errors import NotFound, ValidationError
from mes.core.inputs import form_int, required_version
from mes.core.web import hx_redirect, notify, render
from mes.orders.models import Operation, WorkOrder
from mes.scheduling import services
from mes.scheduling.models import ScheduledOperation, ScheduleStatus, ScheduleVersion, phase_label, solver_status_label

bp = Blueprint("scheduling", __name__, url_prefix="/schedule")

OBJECTIVES = ("tardiness_makespan", "tardiness_flow")


@bp.route("/")
@requires(Permission.VIEW_SCHEDULE)
def schedules() -> Response:
    services.fail_dead_runs()
    versions = session().scalars(select(ScheduleVersion).order_by(ScheduleVersion.id.desc()).limit(30)).all()
    return render("scheduling/list.html", "scheduling/_versions.html", versions=versions, notes=services.notes,
                  running=any(v.status == ScheduleStatus.RUNNING for v in versions), objectives=OBJECTIVES,
                  solver_status_label=solver_status_label)


@bp.route("/run", methods=["POST"])
@requires(Permission.SCHEDULE)
def run() -> Response:
    time_limit = form_int("time_limit", max=600) if request.form.get("time_limit") else 30
    if time_limit is None:
        raise ValidationError(fields={"time_limit": [ValidationError.default_message]})
    frozen_hours = form_int("frozen_hours", min=0, max=168) if request.form.get("frozen_hours") else 0
    if frozen_hours is None:
        raise ValidationError(fields={"frozen_hours": [ValidationError.default_message]})
    objective = request.form.get("objective") if request.form.get("objective") in OBJECTIVES else OBJECTIVES[0]
    schedule_id = services.start_run(time_limit=time_limit, options=services.BuildOptions(
        objective=objective, use_previous=request.form.get("stable") == "1", frozen_minutes=frozen_hours * 60))
    return hx_redirect(url_for("scheduling.detail", schedule_id=schedule_id))


def _figures(version: ScheduleVersion) -> dict[str, Any]:
    return json.loads(version.objective_json) if version.objective_json else {}


@bp.route("/<int:schedule_id>")
@requires(Permission.VIEW_SCHEDULE)
def detail(schedule_id: int) -> Response:
    services.fail_dead_runs()  # the progress poll of a run whose process died ends here
    version = session().get(ScheduleVersion, schedule_id)
    if version is None:
        raise NotFound()
    rows = session().scalars(
        select(ScheduledOperation).where(ScheduledOperation.schedule_id == schedule_id)
        .options(joinedload(ScheduledOperation.machine),
                 joinedload(ScheduledOperation.operation).joinedload(Operation.work_order).joinedload(WorkOrder.product))
        .order_by(ScheduledOperation.machine_id, ScheduledOperation.start_at)
    ).all()
    by_machine: dict[str, list[ScheduledOperation]] = {}
    late: dict[int, Any] = {}
    for row in rows:
        by_machine.setdefault(row.machine.code, []).append(row)
        order = row.operation.work_order
        if row.end_at > day_end(order.due_date):
            late[order.id] = max(late.get(order.id, row.end_at), row.end_at)
    progress = json.loads(version.progress_json) if version.progress_json else None
    return render("scheduling/detail.html", "scheduling/_detail_body.html", version=version, by_machine=by_machine,
                  figures=_figures(version), late_orders=len(late), progress=progress, count=len(rows),
                  notes=services.notes(version), solver_status_label=solver_status_label, phase_label=phase_label)


@bp.route("/<int:schedule_id>/publish", methods=["POST"])
@requires(Permission.SCHEDULE)
def publish(schedule_id: int) -> Response:
    services.publish(schedule_id, required_version())
    notify(_l("Plan published to the shop floor."))
    return detail(schedule_id)
