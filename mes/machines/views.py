"""Machine and work center pages."""
from __future__ import annotations

from flask import Blueprint, Response
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from mes.core.auth import Permission, requires
from mes.core.db import session
from mes.core.errors import NotFound
from mes.core.web import render
from mes.machines.models import Machine, WorkCenter

bp = Blueprint("machines", __name__, url_prefix="/machines")


@bp.route("/")
@requires(Permission.VIEW_PLANT)
def list_machines() -> Response:
    centers = session().scalars(
        select(WorkCenter).options(selectinload(WorkCenter.machines)).order_by(WorkCenter.code)
    ).all()
    return render("machines/list.html", centers=centers)


@bp.route("/<int:machine_id>")
@requires(Permission.VIEW_PLANT)
def machine_detail(machine_id: int) -> Response:
    machine = session().get(Machine, machine_id)
    if machine is None:
        raise NotFound()
    return render("machines/detail.html", machine=machine)
