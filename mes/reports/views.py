"""The owner's pages: the start page with the plant's figures."""
from __future__ import annotations

from flask import Blueprint, Response, redirect, url_for
from flask_login import current_user

from mes.core.auth import login_required
from mes.core.services import home_endpoint
from mes.core.web import render
from mes.reports.overview import overview as plant_overview

bp = Blueprint("reports", __name__)


@bp.route("/")
@login_required
def overview() -> Response:
    if current_user.roles and home_endpoint(current_user) != "reports.overview":
        return redirect(url_for(home_endpoint(current_user)))
    return render("reports/overview.html", overview=plant_overview())
