"""Product and routing pages (the editor comes with the routing issue's pages)."""
from __future__ import annotations

from flask import Blueprint, Response
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from mes.core.auth import Permission, requires
from mes.core.db import session
from mes.core.web import render
from mes.routing.models import Product

bp = Blueprint("routing", __name__, url_prefix="/routings")


@bp.route("/")
@requires(Permission.VIEW_ROUTINGS)
def list_products() -> Response:
    products = session().scalars(select(Product).options(joinedload(Product.family)).order_by(Product.code)).all()
    return render("routing/products.html", products=products)
