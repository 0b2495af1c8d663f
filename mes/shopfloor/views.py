"""Shop-floor terminal pages."""
from __future__ import annotations

from flask import Blueprint, Response
from flask_login import current_user

from mes.core.auth import Permission, authorize, policy, requires
from mes.core.db import session
from mes.core.errors import NotFound
from mes.core.kiosk import current_kiosk
from mes.orders.models import Operation
from mes.core.web import render
from mes.shopfloor import services

bp = Blueprint("shopfloor", __name__, url_prefix="/floor")


@policy(Operation, "view_on_floor")
def _operation_at_this_terminal(user: object, op: Operation) -> bool:
    """A terminal enrolled for a work center shows that center's operations only."""
    kiosk = current_kiosk()
    return kiosk is None or kiosk.work_center_id is None or op.work_center_id == kiosk.work_center_id \
        or any(m.machine.work_center_id == kiosk.work_center_id for m in op.machines)


@bp.route("/")
@requires(Permission.SHOPFLOOR)
def dispatch() -> Response:
    """What to run next at this terminal's work center (all work centers on an office PC)."""
    kiosk = current_kiosk()
    work_center_id = kiosk.work_center_id if kiosk else None
    return render("shopfloor/dispatch.html", "shopfloor/_dispatch_list.html",
                  items=services.dispatch_list(work_center_id), kiosk=kiosk, user=current_user)


@bp.route("/operations/<int:operation_id>")
@requires(Permission.SHOPFLOOR)
def operation(operation_id: int) -> Response:
    """One operation as the operator needs it: what, how many, instructions, drawing, program."""
    op = session().get(Operation, operation_id)
    if op is None:
        raise NotFound()
    authorize("view_on_floor", op, Permission.SHOPFLOOR)
    return render("shopfloor/operation.html", op=op, order=op.work_order)
