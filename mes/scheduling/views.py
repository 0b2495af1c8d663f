"""Schedule pages: run the optimizer (in the background, the page polls its progress), look at a
proposed plan per machine with its figures, and publish it to the shop floor."""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for
from flask_babel import format_date, format_time
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from mes.core.auth import Permission, requires
from mes.core.clock import day_end, plant_tz
from mes.core.db import session, utcnow
from mes.core.i18n import format_moment
from mes.core.errors import NotFound, ValidationError
from mes.core.forms import parse_date
from mes.core.inputs import date_in_range, form_int, query_int, required_version, to_int
from mes.core.web import hx_redirect, notify, render
from mes.machines.models import Machine, WorkCenter
from mes.orders.models import Operation, WorkOrder
from mes.routing.models import Product
from mes.scheduling import board as board_view
from mes.scheduling import dispatch as dispatch_view
from mes.scheduling import moves, services, what_if
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
    if request.form.get("from") == "board":  # the board shows the run's progress and its Stop
        return hx_redirect(url_for("scheduling.board"))
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
                  published_id=board_view.published_id(session()), what_if=what_if.description(version.what_if_json),
                  figures=_figures(version), late_orders=len(late), progress=progress, count=len(rows),
                  notes=services.notes(version), solver_status_label=solver_status_label, phase_label=phase_label)


@bp.route("/<int:schedule_id>/stop", methods=["POST"])
@requires(Permission.SCHEDULE)
def stop(schedule_id: int) -> Response:
    services.request_stop(schedule_id)
    notify(_l("Stopping: the best plan found so far is kept."))
    if request.args.get("from") == "board":
        return progress(schedule_id)
    return detail(schedule_id)


@bp.route("/<int:schedule_id>/progress")
@requires(Permission.VIEW_SCHEDULE)
def progress(schedule_id: int) -> Response:
    """A run's progress for the board (polled every second while it runs)."""
    services.fail_dead_runs()
    session().expire_all()
    run = session().get(ScheduleVersion, schedule_id)
    if run is None:
        raise NotFound()
    return render("scheduling/_run_progress.html", run=run, notes=services.notes,
                  progress=json.loads(run.progress_json) if run.progress_json else None)


@bp.route("/<int:schedule_id>/publish", methods=["POST"])
@requires(Permission.SCHEDULE)
def publish(schedule_id: int) -> Response:
    # ``published``: the plan published when the page was drawn (0: none), so that a second
    # planner publishing at the same time gets a conflict instead of overwriting the first.
    expected_published = form_int("published", min=0) if request.form.get("published") is not None else None
    services.publish(schedule_id, required_version(), expected_published)
    notify(_l("Plan published to the shop floor."))
    if request.form.get("from") == "compare":
        return hx_redirect(url_for("scheduling.board"))
    return detail(schedule_id)


@bp.route("/<int:schedule_id>/compare")
@requires(Permission.VIEW_SCHEDULE)
def compare(schedule_id: int) -> Response:
    base_id = query_int("with")
    if request.args.get("with") and base_id is None:
        raise NotFound()
    comparison = board_view.compare(session(), schedule_id, base_id)
    published_id = board_view.published_id(session())
    return render("scheduling/compare.html", "scheduling/_compare.html", c=comparison, published_id=published_id,
                  what_if=what_if.description(comparison.draft.what_if_json))


@bp.route("/<int:schedule_id>/discard", methods=["POST"])
@requires(Permission.SCHEDULE)
def discard(schedule_id: int) -> Response:
    moves.discard(schedule_id, required_version())
    notify(_l("Draft discarded."))
    return hx_redirect(url_for("scheduling.schedules"))


# --- the planner board ----------------------------------------------------------------------------


def _board_window(args: Mapping[str, str]) -> tuple[str, dt.datetime, int, str]:
    """Window (shift/day/week), its start (plant time, ``start=YYYY-MM-DDTHH:MM``), zoom and colouring."""
    span = args.get("span") if args.get("span") in board_view.SPANS else "day"
    zoom = to_int(args.get("zoom"), 1, min=1, max=4) or 1
    colour_by = "family" if args.get("colour") == "family" else "order"
    tz = plant_tz()
    start = None
    raw = (args.get("start") or "").strip()[:16]
    if raw:
        try:
            start = dt.datetime.strptime(raw, "%Y-%m-%dT%H:%M").replace(tzinfo=tz)
        except ValueError:
            start = None
        if start is not None and not date_in_range(start):
            start = None
    if start is None:
        now = utcnow().astimezone(tz)
        start = now.replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=1) if span == "shift" else \
            now.replace(hour=0, minute=0, second=0, microsecond=0)
    return span, start.astimezone(dt.UTC), zoom, colour_by


def _board_context(args: Mapping[str, str]) -> dict[str, Any]:
    span, start, zoom, colour_by = _board_window(args)
    schedule_id = to_int(args.get("schedule"))
    if args.get("schedule") and schedule_id is None:
        raise NotFound()
    s = session()
    b = board_view.board(s, schedule_id, start, board_view.SPANS[span])
    now = utcnow()
    tz = plant_tz()
    nav = {k: args[k] for k in ("span", "start", "zoom", "colour") if args.get(k)}
    if b is not None:
        nav["schedule"] = str(b.version.id)
    context: dict[str, Any] = dict(board=b, nav=nav, span=span, zoom=zoom, colour_by=colour_by, spans=board_view.SPANS,
                                   start_local=start.astimezone(tz).strftime("%Y-%m-%dT%H:%M"))
    step = dt.timedelta(minutes=board_view.SPANS[span])
    context["prev_args"] = dict(nav, start=(start - step).astimezone(tz).strftime("%Y-%m-%dT%H:%M"))
    context["next_args"] = dict(nav, start=(start + step).astimezone(tz).strftime("%Y-%m-%dT%H:%M"))
    running_run = s.scalar(select(ScheduleVersion).where(ScheduleVersion.status == ScheduleStatus.RUNNING)
                           .order_by(ScheduleVersion.id.desc()).limit(1))
    context["running_run"] = running_run
    context["running_progress"] = json.loads(running_run.progress_json) if running_run and running_run.progress_json else None
    context["notes"] = services.notes
    context["drafts"] = s.scalars(select(ScheduleVersion).where(
        ScheduleVersion.status.in_([ScheduleStatus.DRAFT, ScheduleStatus.PUBLISHED]))
        .order_by(ScheduleVersion.id.desc()).limit(20)).all()
    if b is not None:
        labels = {row.machine_id: row.code for row in b.rows}
        eligible = moves.eligible_machines(s, [x.operation_id for row in b.rows for x in row.bars]) \
            if b.version.status == ScheduleStatus.DRAFT else {}
        context["layout"] = board_view.layout(b, span, zoom, colour_by, now, labels,
                                              lambda t: format_time(t, "HH:mm") if t.hour else format_date(t, "MM-dd"), eligible)
        context["machines"] = [(row.machine_id, row.code) for row in b.rows]
        context["what_if"] = what_if.description(b.version.what_if_json)
        context["products"] = s.execute(select(Product.id, Product.code, Product.name).order_by(Product.code)).all()
        context["plant_tz"] = str(tz)
        context["figures"] = _figures(b.version)
        context["late_orders"] = len({x.order_id for x in b.bars if x.late})
        context["risk_orders"] = len({x.order_id for x in b.bars if x.at_risk})
    return context


@bp.route("/board")
@requires(Permission.VIEW_SCHEDULE)
def board() -> Response:
    return render("scheduling/board.html", "scheduling/_board.html", **_board_context(request.args))


@bp.route("/board.json")
@requires(Permission.VIEW_SCHEDULE)
def board_json() -> Response:
    span, start, _zoom, _colour = _board_window(request.args)
    schedule_id = query_int("schedule")
    if request.args.get("schedule") and schedule_id is None:
        raise NotFound()
    b = board_view.board(session(), schedule_id, start, board_view.SPANS[span])
    if b is None:
        return jsonify({"schedule": None, "operations": [], "work_centers": []})
    return jsonify(board_view.as_json(b, utcnow()))


def _local_moment(name: str) -> dt.datetime | None:
    """A ``datetime-local`` form field in plant time, as UTC (None when empty)."""
    raw = (request.form.get(name) or "").strip()[:16]
    if not raw:
        return None
    try:
        value = dt.datetime.strptime(raw, "%Y-%m-%dT%H:%M").replace(tzinfo=plant_tz())
    except ValueError:
        raise ValidationError(fields={name: [ValidationError.default_message]}) from None
    if not date_in_range(value):
        raise ValidationError(fields={name: [ValidationError.default_message]})
    return value.astimezone(dt.UTC)


def _board_of(schedule_id: int) -> Response:
    """The board of this draft, keeping the window the form was sent from."""
    args = {k: v for k, v in request.args.items()}
    args["schedule"] = str(schedule_id)
    return render("scheduling/board.html", "scheduling/_board.html", **_board_context(args))


@bp.route("/board/<int:schedule_id>/copy", methods=["POST"])
@requires(Permission.SCHEDULE)
def board_copy(schedule_id: int) -> Response:
    draft_id = moves.copy_to_draft(schedule_id)
    return hx_redirect(url_for("scheduling.board", schedule=draft_id))


@bp.route("/board/<int:schedule_id>/move", methods=["POST"])
@requires(Permission.SCHEDULE)
def board_move(schedule_id: int) -> Response:
    operation_id = form_int("operation_id")
    machine_id = form_int("machine_id")
    if operation_id is None or machine_id is None:
        raise ValidationError(fields={"machine_id": [_l("Choose an operation on the board, then a machine.")]})
    position = form_int("position", max=100_000) if request.form.get("position") else None
    if request.form.get("position") and position is None:
        raise ValidationError(fields={"position": [ValidationError.default_message]})
    published = form_int("published", min=0)
    moves.move_operation(schedule_id, required_version(), moves.Move(
        operation_id, machine_id, None if position is None else position - 1, _local_moment("start_at")),
        expected_published=published)
    notify(_l("Operation moved and pinned; the plan is re-timed."))
    return _board_of(schedule_id)


@bp.route("/board/<int:schedule_id>/unpin", methods=["POST"])
@requires(Permission.SCHEDULE)
def board_unpin(schedule_id: int) -> Response:
    operation_id = form_int("operation_id")
    if operation_id is None:
        raise NotFound()
    moves.unpin(schedule_id, required_version(), operation_id)
    notify(_l("Pin removed: the next repair may move this operation."))
    return _board_of(schedule_id)


@bp.route("/board/<int:schedule_id>/repair", methods=["POST"])
@requires(Permission.SCHEDULE)
def board_repair(schedule_id: int) -> Response:
    time_limit = form_int("time_limit", max=600) if request.form.get("time_limit") else 10
    frozen_hours = form_int("frozen_hours", min=0, max=168) if request.form.get("frozen_hours") else 0
    if time_limit is None or frozen_hours is None:
        raise ValidationError(fields={"time_limit": [ValidationError.default_message]})
    if session().get(ScheduleVersion, schedule_id) is None:
        raise NotFound()
    new_id = services.start_run(time_limit=time_limit, options=services.BuildOptions(
        use_previous=True, previous_schedule_id=schedule_id, frozen_minutes=frozen_hours * 60))
    return hx_redirect(url_for("scheduling.detail", schedule_id=new_id))


# --- dispatch lists from the published plan -------------------------------------------------------

DISPATCH_HEADERS = (_l("Machine"), _l("No."), _l("Work order"), _l("Product"), _l("Operation"), _l("Planned start"),
                    _l("Planned end"), _l("Setup (minutes)"), _l("Good / quantity"), _l("Documents"))


def _dispatch_scope() -> tuple[int | None, int | None, str]:
    machine_id, center_id = query_int("machine"), query_int("work_center")
    if (request.args.get("machine") and machine_id is None) or (request.args.get("work_center") and center_id is None):
        raise NotFound()
    s = session()
    if machine_id is not None:
        machine = s.get(Machine, machine_id)
        if machine is None:
            raise NotFound()
        what = f"{machine.code} {machine.name}"
        return machine_id, None, str(_l("Dispatch list of %(what)s", what=what))
    if center_id is not None:
        center = s.get(WorkCenter, center_id)
        if center is None:
            raise NotFound()
        what = f"{center.code} {center.name}"
        return None, center_id, str(_l("Dispatch list of %(what)s", what=what))
    return None, None, str(_l("Dispatch list of all machines"))


@bp.route("/dispatch")
@requires(Permission.VIEW_SCHEDULE)
def dispatch() -> Response:
    machine_id, center_id, title = _dispatch_scope()
    s = session()
    lines = dispatch_view.dispatch_lines(s, machine_id, center_id)
    machines = s.scalars(select(Machine).order_by(Machine.code)).all()
    centers = s.scalars(select(WorkCenter).order_by(WorkCenter.code)).all()
    return render("scheduling/dispatch.html", "scheduling/_dispatch.html", lines=lines, title=title, machines=machines,
                  centers=centers, machine_id=machine_id, center_id=center_id, headers=DISPATCH_HEADERS,
                  published=board_view.pick_version(s, None))


@bp.route("/dispatch.pdf")
@requires(Permission.VIEW_SCHEDULE)
def dispatch_pdf() -> Response:
    machine_id, center_id, title = _dispatch_scope()
    s = session()
    lines = dispatch_view.dispatch_lines(s, machine_id, center_id)
    published = board_view.pick_version(s, None)
    subtitle = str(_l("Published plan %(id)s, printed %(when)s", id=published.id if published else "–",
                      when=format_moment(utcnow())))
    pdf = dispatch_view.dispatch_pdf(title, subtitle, [str(h) for h in DISPATCH_HEADERS], lines, format_moment)
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = "inline; filename=dispatch.pdf"
    return response


# --- what-if plans ----------------------------------------------------------------------------------


@bp.route("/what-if", methods=["POST"])
@requires(Permission.SCHEDULE)
def what_if_run() -> Response:
    rush = down = None
    errors: dict[str, list[Any]] = {}
    if request.form.get("product_id"):
        product_id = form_int("product_id")
        quantity = form_int("quantity", max=1_000_000)
        due = parse_date(request.form.get("due_date"), "due_date", errors)
        if product_id is None:
            errors["product_id"] = [ValidationError.default_message]
        if quantity is None:
            errors["quantity"] = [ValidationError.default_message]
        if (due is None or not date_in_range(due)) and "due_date" not in errors:
            errors["due_date"] = [ValidationError.default_message]
        if not errors:
            rush = what_if.RushOrder(product_id, quantity, due)  # type: ignore[arg-type]
    if request.form.get("machine_id"):
        machine_id = form_int("machine_id")
        starts, ends = _local_moment("down_from"), _local_moment("down_until")
        if machine_id is None or starts is None or ends is None:
            errors["machine_id"] = [ValidationError.default_message]
        else:
            down = what_if.MachineDown(machine_id, starts, ends)
    if errors:
        raise ValidationError(fields=errors)
    time_limit = form_int("time_limit", max=600) if request.form.get("time_limit") else 10
    if time_limit is None:
        raise ValidationError(fields={"time_limit": [ValidationError.default_message]})
    schedule_id = what_if.start(rush, down, time_limit)
    return hx_redirect(url_for("scheduling.detail", schedule_id=schedule_id))
