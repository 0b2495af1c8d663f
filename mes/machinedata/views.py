"""Machine-data pages: the administrator's topic mappings and dead-letter list."""
from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, Response, current_app, g, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from mes.core.auth import Permission, authorize, public, requires
from mes.core.db import session, utcnow
from mes.core.errors import NotFound, ValidationError
from mes.core.forms import form_text
from mes.core.inputs import query_int, required_version, to_int
from mes.core.web import hx_redirect, notify, render
from mes.machinedata import andon, facts, services
from mes.machinedata.models import DisplayLink, MachineLive, TopicMapping
from mes.machinedata.payloads import REASONS
from mes.machines.models import Machine, MachineStatus, WorkCenter
from mes.orders.models import Operation

bp = Blueprint("machinedata", __name__, url_prefix="/machine-data")
#: The andon board for big screens: /andon, /andon/wc/<id>, and display links /andon/d/<token>.
andon_bp = Blueprint("andon", __name__, url_prefix="/andon")

REASON_LABELS = {
    "not_json": _l("Not JSON"),
    "missing_field": _l("A field is missing"),
    "wrong_type": _l("A field has the wrong type"),
    "unknown_state": _l("Unknown state value"),
    "bad_timestamp": _l("Unreadable timestamp"),
    "future_timestamp": _l("Timestamp far in the future"),
    "unknown_machine": _l("Unknown machine"),
    "unknown_topic": _l("Unknown topic"),
    "implausible_jump": _l("Counter jump not plausible"),
    "too_large": _l("Payload too large"),
    "failed": _l("Could not be stored"),
}
assert set(REASON_LABELS) == set(REASONS)


@bp.route("/mappings")
@requires(Permission.ADMIN)
def mappings() -> Response:
    machines = session().scalars(select(Machine).where(Machine.status != MachineStatus.RETIRED)
                                 .options(selectinload(Machine.work_center)).order_by(Machine.code)).all()
    maps = {m.machine_id: m for m in session().scalars(select(TopicMapping))}
    live = {row.machine_id: row for row in session().scalars(select(MachineLive))}
    tolerance = current_app.config["MQTT_CLOCK_TOLERANCE_SECONDS"]
    return render("machinedata/mappings.html", machines=machines, maps=maps, live=live, tolerance=tolerance)


def _form(machine: Machine, row: TopicMapping | None, values: services.MappingInput, status: int = 200,
          errors: dict | None = None) -> Response:
    return render("machinedata/mapping_form.html", "machinedata/_mapping_form.html", status=status, machine=machine,
                  row=row, values=values, errors=errors or {}, states=("running", "idle", "setup", "down", "off"))


def _machine(machine_id: int) -> tuple[Machine, TopicMapping | None]:
    machine = session().get(Machine, machine_id)
    if machine is None:
        raise NotFound()
    row = session().scalar(select(TopicMapping).where(TopicMapping.machine_id == machine_id))
    return machine, row


@bp.route("/machines/<int:machine_id>/mapping", methods=["GET", "POST"])
@requires(Permission.ADMIN)
def edit_mapping(machine_id: int) -> Response:
    machine, row = _machine(machine_id)
    if request.method == "GET":
        return _form(machine, row, services.mapping_input(row))
    values = services.MappingInput(**{name: form_text(request.form, name)
                                      for name in services.MappingInput.__dataclass_fields__})
    raw_version = request.form.get("version", "")
    version = required_version() if raw_version else None
    try:
        services.save_mapping(machine_id, values, version)
    except ValidationError as exc:
        g.keep_target = True
        return _form(machine, row, values, status=422, errors=exc.fields)
    notify(_l("Mapping saved. The workers use it within a few seconds."))
    return hx_redirect(url_for("machinedata.mappings"))


@bp.route("/machines/<int:machine_id>/mapping/delete", methods=["POST"])
@requires(Permission.ADMIN)
def delete_mapping(machine_id: int) -> Response:
    services.delete_mapping(machine_id, required_version())
    notify(_l("Mapping removed: the machine publishes on the default topics."))
    return hx_redirect(url_for("machinedata.mappings"))


@bp.route("/dead-letters")
@requires(Permission.ADMIN)
def dead_letters() -> Response:
    page = query_int("page", 1, max=100000) or 1
    rows, total = services.dead_letters(session(), page)
    pages = max(math.ceil(total / 50), 1)
    return render("machinedata/dead_letters.html", "machinedata/_dead_letters.html", rows=rows, total=total,
                  page=page, pages=pages, labels=REASON_LABELS,
                  page_url=lambda p: url_for("machinedata.dead_letters", page=p),
                  machines=dict(session().execute(select(Machine.id, Machine.code)).all()))


@bp.route("/dead-letters/clear", methods=["POST"])
@requires(Permission.ADMIN)
def clear_dead_letters() -> Response:
    upto = to_int(request.form.get("upto"))
    if upto is None:
        raise ValidationError(_l("Nothing to remove."))
    removed = services.clear_dead_letters(upto)
    notify(_l("%(n)s entries removed.", n=removed))
    return hx_redirect(url_for("machinedata.dead_letters"))




# --- the andon board -----------------------------------------------------------------------------

STATE_LABELS = {
    "running": _l("Running"), "idle": _l("Idle"), "setup": _l("Setup"), "down": _l("Down"), "off": _l("Off"),
    "manual": _l("Reported by hand"),
}


def _andon(work_center_id: int | None, poll_url: str, title: Any) -> Response:
    tiles = andon.board(work_center_id)
    return render("machinedata/andon.html", "machinedata/_andon_board.html", tiles=tiles, poll_url=poll_url,
                  title=title, labels=STATE_LABELS, now=utcnow())


def _center(work_center_id: int) -> WorkCenter:
    center = session().get(WorkCenter, work_center_id)
    if center is None:
        raise NotFound()
    return center


@andon_bp.route("/")
@requires(Permission.VIEW_PLANT)
def board() -> Response:
    return _andon(None, url_for("andon.board"), _l("All machines"))


@andon_bp.route("/wc/<int:work_center_id>")
@requires(Permission.VIEW_PLANT)
def work_center(work_center_id: int) -> Response:
    center = _center(work_center_id)
    return _andon(center.id, url_for("andon.work_center", work_center_id=center.id), center.name)


@andon_bp.route("/d/<token>")
@public
def display(token: str) -> Response:
    """A TV's board through its display link (no login; the administrator can revoke it)."""
    link = andon.link_for(token)
    if link is None:
        raise NotFound()
    title = _center(link.work_center_id).name if link.work_center_id else _l("All machines")
    response = _andon(link.work_center_id, url_for("andon.display", token=token), title)
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in the URL
    return response


@bp.route("/displays", methods=["GET", "POST"])
@requires(Permission.ADMIN)
def displays() -> Response:
    created = None
    errors: dict = {}
    status = 200
    if request.method == "POST":
        try:
            token = andon.create_link(form_text(request.form, "name"), to_int(request.form.get("work_center_id")),
                                      current_user.id)
            created = url_for("andon.display", token=token, _external=True)
            notify(_l("Display link created. Copy it now: it is shown only once."))
        except ValidationError as exc:
            errors, status = exc.fields, 422
    links = session().scalars(select(DisplayLink).order_by(DisplayLink.id.desc())).all()
    centers = session().scalars(select(WorkCenter).where(WorkCenter.active).order_by(WorkCenter.code)).all()
    return render("machinedata/displays.html", status=status, links=links, centers=centers, created=created,
                  errors=errors, names={c.id: c.name for c in centers})


@bp.route("/displays/<int:link_id>/revoke", methods=["POST"])
@requires(Permission.ADMIN)
def revoke_display(link_id: int) -> Response:
    andon.revoke_link(link_id)
    notify(_l("Display link revoked."))
    return hx_redirect(url_for("machinedata.displays"))


@bp.route("/operations/<int:operation_id>/confirm-counts", methods=["POST"])
@requires(Permission.SHOPFLOOR)
def confirm_counts(operation_id: int) -> Response:
    """The worker takes what the machine counted as the operation's reported quantity."""
    op = session().get(Operation, operation_id)
    if op is None:
        raise NotFound()
    authorize("view_on_floor", op, Permission.SHOPFLOOR)
    key = (request.form.get("request_key") or request.headers.get("Idempotency-Key") or "").strip() or None
    facts.confirm_counts(current_user.id, key, operation_id)
    notify(_l("Counted pieces reported."))
    return hx_redirect(url_for("shopfloor.operation", operation_id=operation_id))
