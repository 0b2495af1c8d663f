"""Schedule pages: the versions the solver proposed, running it, publishing one."""
from __future__ import annotations

from flask import Blueprint, Response
from sqlalchemy import select

from mes.core.auth import Permission, requires
from mes.core.db import session
from mes.core.web import render
from mes.scheduling.models import ScheduleVersion

bp = Blueprint("scheduling", __name__, url_prefix="/schedule")


@bp.route("/")
@requires(Permission.SCHEDULE)
def schedules() -> Response:
    versions = session().scalars(select(ScheduleVersion).order_by(ScheduleVersion.id.desc()).limit(50)).all()
    return render("scheduling/list.html", versions=versions)
