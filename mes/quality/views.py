"""Quality pages: the inspection panel of the terminal's operation card (due checks, keypad,
limits, pass/fail at once), and the pages of quality staff (alerts, nonconformances, analysis)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request
from flask_login import current_user

from mes.core.auth import Permission, authorize, requires
from mes.core.db import session
from mes.core.errors import NotFound
from mes.core.inputs import to_int
from mes.core.web import render
from mes.orders.models import Operation
from mes.quality import inspections

bp = Blueprint("quality", __name__, url_prefix="/quality")


def _key() -> str | None:
    return (request.form.get("request_key") or request.headers.get("Idempotency-Key") or "").strip() or None


# --- the terminal's inspection panel ---------------------------------------------------------------


def _floor_operation(operation_id: int) -> Operation:
    op = session().get(Operation, operation_id)
    if op is None:
        raise NotFound()
    authorize("view_on_floor", op, Permission.SHOPFLOOR)
    return op


def _panel(operation_id: int, **context: Any) -> Response:
    session().rollback()  # see what this request's own transaction committed
    _floor_operation(operation_id)
    op, due, blocking = inspections.due_on(operation_id)
    return render("quality/floor_inspections.html", "quality/_floor_inspections.html", op=op, order=op.work_order,
                  due=due, blocking=blocking, **context)


@bp.route("/floor/operations/<int:operation_id>/inspections")
@requires(Permission.SHOPFLOOR)
def floor_inspections(operation_id: int) -> Response:
    """The inspections due on the operation now (the card loads this panel)."""
    return _panel(operation_id)


@bp.route("/floor/operations/<int:operation_id>/inspections", methods=["POST"])
@requires(Permission.SHOPFLOOR)
def record_inspection(operation_id: int) -> Response:
    """Record one due inspection; a value far off is asked again before it is saved."""
    _floor_operation(operation_id)
    form = request.form
    passed_raw = form.get("passed")
    data = inspections.ResultInput(
        characteristic_id=to_int(form.get("characteristic_id")), frequency=form.get("frequency"),
        sample_no=to_int(form.get("sample_no")), value=form.get("value") if "value" in form else None,
        passed=None if passed_raw is None else passed_raw == "1", defect=form.get("defect"),
        confirmed=form.get("confirmed") == "1",
    )
    try:
        result = inspections.record(current_user.id, _key(), operation_id, data)
    except inspections.Implausible as exc:
        return _panel(operation_id, confirm={"text": exc.text(), "characteristic_id": data.characteristic_id,
                                             "frequency": data.frequency, "sample_no": data.sample_no,
                                             "value": data.value})
    return _panel(operation_id, result=result)


# --- quality staff ---------------------------------------------------------------------------------


@bp.route("/")
@requires(Permission.QUALITY)
def overview() -> Response:
    """What needs quality's attention: operations held by their first article."""
    return render("quality/overview.html", alerts=inspections.first_article_alerts())

