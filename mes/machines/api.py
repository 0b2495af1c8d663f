"""JSON API: machines."""
from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from mes.core.api import token_required
from mes.core.auth import Permission
from mes.core.fields import Text
from mes.core.db import session
from mes.core.errors import NotFound
from mes.machines.models import Machine, MachineStatus, WorkCenter

blp = Blueprint("api_machines", __name__, url_prefix="/api/v1/machines", description="Machines and work centers")


class MachineSchema(ma.Schema):
    id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()
    work_center = ma.fields.Function(lambda m: m.work_center.code)
    work_center_id = ma.fields.Integer()
    make = ma.fields.String(allow_none=True)
    model = ma.fields.String(allow_none=True)
    year_built = ma.fields.Integer(allow_none=True)
    has_data_connection = ma.fields.Boolean()
    status = ma.fields.Enum(MachineStatus, by_value=True)


class MachineQuerySchema(ma.Schema):
    work_center = Text(32)
    status = ma.fields.Enum(MachineStatus, by_value=True)


@blp.route("/", methods=["GET"])
@token_required(Permission.VIEW_PLANT, Permission.SHOPFLOOR)
@blp.arguments(MachineQuerySchema, location="query")
@blp.response(200, MachineSchema(many=True))
def list_machines(args: dict[str, Any]) -> list[Machine]:
    query = select(Machine).join(WorkCenter).options(joinedload(Machine.work_center)).order_by(Machine.code)
    if "work_center" in args:
        query = query.where(WorkCenter.code == args["work_center"])
    if "status" in args:
        query = query.where(Machine.status == args["status"])
    return list(session().scalars(query))


@blp.route("/<int:machine_id>", methods=["GET"])
@token_required(Permission.VIEW_PLANT, Permission.SHOPFLOOR)
@blp.response(200, MachineSchema)
def get_machine(machine_id: int) -> Machine:
    machine = session().get(Machine, machine_id)
    if machine is None:
        raise NotFound()
    return machine
