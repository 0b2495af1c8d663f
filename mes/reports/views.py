"""The owner's pages: the start page with the plant's figures."""
from __future__ import annotations

from flask import Blueprint, Response, redirect, url_for
from flask_login import current_user

from mes.core.auth import Permission, can, login_required
from mes.core.services import home_endpoint
from mes.core.web import render
from mes.reports.overview import overview as plant_overview
from mes.reports.overview import setup_steps

bp = Blueprint("reports", __name__)


@bp.route("/")
@login_required
def overview() -> Response:
    """The plant's figures; while the plant is being set up, for those who set it up, the steps to
    the first published plan and which are done."""
    steps = setup_steps() if can(Permission.SCHEDULE) or can(Permission.ADMIN) else []
    setting_up = bool(steps) and not all(step.done for step in steps)
    if not setting_up and current_user.roles and home_endpoint(current_user) != "reports.overview":
        return redirect(url_for(home_endpoint(current_user)))
    return render("reports/overview.html", overview=plant_overview(), steps=steps if setting_up else [])
