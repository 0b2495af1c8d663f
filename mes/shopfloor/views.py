"""Shop-floor terminal pages."""
from __future__ import annotations

from flask import Blueprint, Response
from flask_login import current_user

from mes.core.auth import Permission, requires
from mes.core.kiosk import current_kiosk
from mes.core.web import render
from mes.shopfloor import services

bp = Blueprint("shopfloor", __name__, url_prefix="/floor")


@bp.route("/")
@requires(Permission.SHOPFLOOR)
def dispatch() -> Response:
    """What to run next at this terminal's work center (all work centers on an office PC)."""
    kiosk = current_kiosk()
    work_center_id = kiosk.work_center_id if kiosk else None
    return render("shopfloor/dispatch.html", "shopfloor/_dispatch_list.html",
                  items=services.dispatch_list(work_center_id), kiosk=kiosk, user=current_user)
