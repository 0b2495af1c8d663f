"""Shop-floor terminal pages: the dispatch list and the operation card with its actions. Every
action form carries the idempotency key it was drawn with (``request_key``)."""
from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from flask import Blueprint, Response, current_app, g, redirect, request, url_for
from flask_babel import format_date, get_locale, gettext as _, lazy_gettext as _l
from flask_login import current_user

from mes.core.auth import Permission, authorize, can, policy, requires
from mes.core.clock import plant_now
from mes.core.db import session
from mes.core.errors import NotFound, ValidationError
from mes.core.inputs import query_int, query_text, to_int
from mes.core.kiosk import current_kiosk
from mes.core.web import render, wants_fragment
from mes.machines.models import Machine, ReasonKind
from mes.orders.models import Operation, OperationStatus, ProductionReport, WorkOrder
from mes.shopfloor import services
from mes.shopfloor import traveler as travelers

bp = Blueprint("shopfloor", __name__, url_prefix="/floor")

_WHOLE = re.compile(r"\d{1,7}")


@policy(Operation, "view_on_floor")
def _operation_at_this_terminal(user: object, op: Operation) -> bool:
    """A terminal enrolled for a work center shows that center's operations only."""
    kiosk = current_kiosk()
    return kiosk is None or kiosk.work_center_id is None or op.work_center_id == kiosk.work_center_id \
        or any(m.machine.work_center_id == kiosk.work_center_id for m in op.machines)


@bp.before_request
def _terminal_seen() -> None:
    if current_user.is_authenticated:
        services.touch_terminal(current_kiosk())


@bp.app_context_processor
def _floor_context() -> dict[str, Any]:
    def running() -> list[Operation]:
        if not current_user.is_authenticated or not can(Permission.SHOPFLOOR):
            return []
        return services.running_for(current_user.id)

    def reason_name(reason: Any) -> str:
        locale = get_locale()
        return reason.name("zh" if locale and locale.language == "zh" else "en") if reason else ""

    return {"floor_running": running, "reason_name": reason_name, "new_key": lambda: uuid.uuid4().hex}


@bp.route("/")
@requires(Permission.SHOPFLOOR)
def dispatch() -> Response:
    """What to run next at this terminal's work center (all work centers on an office PC)."""
    kiosk = current_kiosk()
    errors = []
    if code := query_text("code", 500):
        # A badge scanner types the traveler's QR code into the scan box and presses Enter.
        op_id = services.operation_from_code(code)
        if op_id is not None and session().get(Operation, op_id) is not None:
            return redirect(url_for("shopfloor.operation", operation_id=op_id))
        errors.append(_("No operation was found for the code “%(code)s”.", code=code[:60]))
    work_center_id = kiosk.work_center_id if kiosk else None
    machine_id = query_int("machine")
    page = services.dispatch_list(work_center_id, machine_id, query_int("page", 1, max=100_000) or 1)
    query = session().query(Machine).order_by(Machine.code)
    machines = query.filter(Machine.work_center_id == work_center_id).all() if work_center_id else query.all()
    return render("shopfloor/dispatch.html", "shopfloor/_dispatch_list.html", status=404 if errors else 200,
                  page=page, items=page.items, kiosk=kiosk, user=current_user, machines=machines,
                  machine_id=machine_id, errors=errors)


def _operation(operation_id: int) -> Operation:
    op = session().get(Operation, operation_id)
    if op is None:
        raise NotFound()
    authorize("view_on_floor", op, Permission.SHOPFLOOR)
    return op


def _card(operation_id: int, status: int = 200, message: str | None = None) -> Response:
    session().rollback()  # see what this request's own transaction committed
    op = _operation(operation_id)
    order = op.work_order
    s = session()
    machines = services.eligible_machines(s, op)
    allowed = services.allowed_quantity(order, op)
    return render(
        "shopfloor/operation.html", "shopfloor/_operation_card.html", status=status, op=op, order=order,
        machines=machines, preselected=op.machine_id or services.planned_machine_id(op.id),
        pause_reasons=services.reasons(ReasonKind.PAUSE), scrap_reasons=services.reasons(ReasonKind.SCRAP),
        downtime_reasons=services.reasons(ReasonKind.DOWNTIME), workers=services.workers_on(op.id),
        remaining=max(allowed - op.qty_good - op.qty_scrap, 0), allowed=allowed, message=message,
        clocked=any(c.user_id == current_user.id for c in services.workers_on(op.id)),
        stops=services.unexplained_stops(op.machine_id) if op.status.started else [],
        counted=services.machine_counts(op.id) if op.status in (OperationStatus.IN_PROGRESS, OperationStatus.PAUSED) else None,
        oob=wants_fragment(),  # the swapped card also refreshes the worker's running operations
    )


@bp.route("/operations/<int:operation_id>")
@requires(Permission.SHOPFLOOR)
def operation(operation_id: int) -> Response:
    """One operation as the operator needs it: what, how many, instructions, and its actions."""
    return _card(operation_id)


def _pieces(name: str) -> int:
    """A quantity field: empty is 0; anything but a whole number of 0 or more is refused."""
    raw = (request.form.get(name) or "").strip()
    if not raw:
        return 0
    if not _WHOLE.fullmatch(raw):
        raise ValidationError(_l("Quantities are whole numbers of 0 or more."),
                              fields={name: [_l("Quantities are whole numbers of 0 or more.")]})
    return int(raw)


def _key() -> str | None:
    return (request.form.get("request_key") or request.headers.get("Idempotency-Key") or "").strip() or None


def _act(operation_id: int, action: Any, *args: Any) -> Response:
    _operation(operation_id)
    action(current_user.id, _key(), operation_id, *args)
    return _card(operation_id)


@bp.route("/operations/<int:operation_id>/start", methods=["POST"])
@requires(Permission.SHOPFLOOR)
def start(operation_id: int) -> Response:
    return _act(operation_id, services.start, request.form.get("phase", services.RUN),
                to_int(request.form.get("machine_id")))


@bp.route("/operations/<int:operation_id>/pause", methods=["POST"])
@requires(Permission.SHOPFLOOR)
def pause(operation_id: int) -> Response:
    return _act(operation_id, services.pause, to_int(request.form.get("reason_id")))


@bp.route("/operations/<int:operation_id>/stop", methods=["POST"])
@requires(Permission.SHOPFLOOR)
def stop(operation_id: int) -> Response:
    """The machine stopped (a downtime the scheduler sees until the operation is resumed)."""
    return _act(operation_id, services.stop_machine, to_int(request.form.get("reason_id")))


@bp.route("/operations/<int:operation_id>/stops/<int:downtime_id>", methods=["POST"])
@requires(Permission.SHOPFLOOR)
def explain_stop(operation_id: int, downtime_id: int) -> Response:
    """Why the machine stopped, for a stop it reported itself."""
    return _act(operation_id, services.explain_stop, downtime_id, to_int(request.form.get("reason_id")))


@bp.route("/operations/<int:operation_id>/resume", methods=["POST"])
@requires(Permission.SHOPFLOOR)
def resume(operation_id: int) -> Response:
    return _act(operation_id, services.resume)


@bp.route("/operations/<int:operation_id>/report", methods=["POST"])
@requires(Permission.SHOPFLOOR)
def report(operation_id: int) -> Response:
    return _act(operation_id, services.report, _pieces("good"), _pieces("scrap"), to_int(request.form.get("scrap_reason_id")))


@bp.route("/operations/<int:operation_id>/finish", methods=["POST"])
@requires(Permission.SHOPFLOOR)
def finish(operation_id: int) -> Response:
    return _act(operation_id, services.finish, _pieces("good"), _pieces("scrap"), to_int(request.form.get("scrap_reason_id")))


_CLOCK = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


def _ended_at() -> dt.datetime | None:
    """When after-the-fact work ended, typed as the plant's clock time (empty: now). A time
    later than now is yesterday's: a night shift booking its last hours after midnight."""
    raw = (request.form.get("ended") or "").strip()
    if not raw:
        return None
    match = _CLOCK.fullmatch(raw)
    if not match:
        message = _l("Enter the time as hours:minutes, e.g. 14:30.")
        raise ValidationError(message, fields={"ended": [message]})
    now = plant_now()
    moment = now.replace(hour=int(match[1]), minute=int(match[2]), second=0, microsecond=0)
    if moment > now:
        moment -= dt.timedelta(days=1)
    return moment.astimezone(dt.UTC)


@bp.route("/operations/<int:operation_id>/time", methods=["POST"])
@requires(Permission.SHOPFLOOR)
def book_time(operation_id: int) -> Response:
    """Minutes and pieces entered after the fact, with a reason."""
    minutes = _pieces("minutes")
    return _act(operation_id, services.book_time, request.form.get("phase", services.RUN), minutes,
                _pieces("good"), _pieces("scrap"), to_int(request.form.get("scrap_reason_id")), request.form.get("reason"),
                _ended_at())


@bp.route("/operations/<int:operation_id>/reports")
@requires(Permission.QUALITY, Permission.EDIT_ORDERS)
def reports(operation_id: int) -> Response:
    """The production reports of an operation, each reversible by a correction with a reason."""
    op = session().get(Operation, operation_id)
    if op is None:
        raise NotFound()
    rows = services.reports_of(operation_id)
    reversed_ids = {r.reverses_id for r in rows if r.reverses_id}
    return render("shopfloor/reports.html", "shopfloor/_reports.html", op=op, order=op.work_order, rows=rows,
                  reversed_ids=reversed_ids)


@bp.route("/reports/<int:report_id>/reverse", methods=["POST"])
@requires(Permission.QUALITY, Permission.EDIT_ORDERS)
def reverse(report_id: int) -> Response:
    row = session().get(ProductionReport, report_id)
    if row is None:
        raise NotFound()
    services.correct(current_user.id, _key(), report_id, request.form.get("reason"))
    session().rollback()
    g.pop("keep_target", None)
    return reports(row.operation_id)


@bp.app_template_global("floor_page_url")
def floor_page_url(page: int, machine_id: int | None) -> str:
    return url_for("shopfloor.dispatch", page=page, machine=machine_id)


def _card_address(operation_id: int) -> str:
    """The address a traveler's QR code holds: on ``MES_PUBLIC_URL`` when set (the address the
    tablets reach the server by), else on the host the sheet is printed from."""
    base = current_app.config.get("PUBLIC_URL")
    if base:
        return base.rstrip("/") + url_for("shopfloor.operation", operation_id=operation_id)
    return url_for("shopfloor.operation", operation_id=operation_id, _external=True)


@bp.route("/orders/<int:order_id>/traveler.pdf")
@requires(Permission.SHOPFLOOR, Permission.VIEW_ORDERS)
def traveler(order_id: int) -> Response:
    """The printed job traveler: a QR code per operation opens its card on a tablet."""
    order = session().get(WorkOrder, order_id)
    if order is None:
        raise NotFound()
    sheet = travelers.Traveler(
        number=order.number, product=f"{order.product.code} {order.product.name}", quantity=order.quantity,
        due=format_date(order.due_date, "medium"), customer=order.customer or "",
        steps=[travelers.TravelerStep(
            op.seq, op.name, op.work_center.name, ", ".join(m.machine.code for m in op.machines) or _("any"),
            _card_address(op.id), op.instructions or "",
        ) for op in order.operations if op.status != OperationStatus.SKIPPED],
    )
    labels = {"title": _("Job traveler"), "product": _("Product"), "quantity": _("Quantity"), "due": _("Due date"),
              "customer": _("Customer"), "work_center": _("Work center"), "machines": _("Machines"),
              "good": _("Good"), "scrap": _("Scrap"), "signature": _("Signature")}
    response = Response(travelers.render(sheet, labels), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="traveler-{order.id}.pdf"'
    return response
