"""Work order pages."""
from __future__ import annotations

from flask import Blueprint, Response, request

from mes.core.auth import Permission, requires
from mes.core.web import render
from mes.orders import services

bp = Blueprint("orders", __name__, url_prefix="/orders")


@bp.route("/")
@requires(Permission.VIEW_ORDERS)
def list_orders() -> Response:
    f = services.OrderFilter(q=request.args.get("q"), status=request.args.getlist("status"),
                             late=bool(request.args.get("late")))
    rows, total = services.list_orders(f, page=request.args.get("page", 1, type=int))
    return render("orders/list.html", "orders/_results.html", orders=rows, total=total, f=f)
