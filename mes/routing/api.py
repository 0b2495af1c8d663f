"""JSON API: routings (get, create a version, release) and the operation data shared with work
order changes. Machines and work centers are named by code, predecessors by sequence number."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import marshmallow as ma
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint
from sqlalchemy import select

from mes.api.auth import token_required
from mes.core.fields import Count, Id, PlantDate, Text
from mes.core.auth import Permission
from mes.core.db import session
from mes.core.errors import NotFound, ValidationError
from mes.machines.models import Machine, WorkCenter
from mes.routing import graph, services
from mes.routing.models import Product, Routing, RoutingStatus
from mes.routing.rules import MachineTime, OperationInput

blp = Blueprint("api_routings", __name__, url_prefix="/api/v1/routings", description="Routings")


class MachineTimeSchema(ma.Schema):
    machine = Text(32, required=True, metadata={"description": "Machine code."})
    setup_minutes = ma.fields.Decimal(required=True, as_string=True, places=3)
    run_minutes = ma.fields.Decimal(required=True, as_string=True, places=3)


class OperationSchema(ma.Schema):
    seq = Count()
    name = Text(120, min_length=1, required=True)
    work_center = Text(32, required=True, metadata={"description": "Work center code."})
    setup_minutes = ma.fields.Decimal(load_default=Decimal(0), as_string=True, places=3,
                                      metadata={"description": "Default setup when no machines are listed."})
    run_minutes = ma.fields.Decimal(load_default=Decimal(0), as_string=True, places=3,
                                    metadata={"description": "Default run minutes per piece when no machines are listed."})
    machines = ma.fields.List(ma.fields.Nested(MachineTimeSchema), load_default=list,
                              metadata={"description": "Eligible machines with their times; empty: any machine of the work center."})
    predecessors = ma.fields.List(Count(), allow_none=True, load_default=None,
                                  metadata={"description": "Sequence numbers this operation waits for; null: the previous one."})
    transfer_batch = Count(allow_none=True, load_default=None)
    inspection_required = ma.fields.Boolean(load_default=False)
    drawing = Text(120, allow_none=True, load_default=None)
    program_no = Text(64, allow_none=True, load_default=None)
    instructions = Text(4000, allow_none=True, load_default=None)


class RoutingSummarySchema(ma.Schema):
    id = ma.fields.Integer()
    product = ma.fields.String()
    version_no = ma.fields.Integer()
    status = ma.fields.Enum(RoutingStatus, by_value=True)
    effective_from = ma.fields.Date(allow_none=True)
    note = ma.fields.String(allow_none=True)
    version = ma.fields.Integer(metadata={"description": "Send it back when changing the routing."})


class RoutingSchema(RoutingSummarySchema):
    operations = ma.fields.List(ma.fields.Nested(OperationSchema))


class RoutingCreateSchema(ma.Schema):
    product = Text(64, required=True, metadata={"description": "Product code."})
    note = Text(2000, allow_none=True)
    copy_from = Id(allow_none=True, metadata={"description": "Routing id to copy (default: the newest version)."})
    operations = ma.fields.List(ma.fields.Nested(OperationSchema), load_default=None,
                                metadata={"description": "When given, the new version holds exactly these operations."})


class ReleaseSchema(ma.Schema):
    version = Count(required=True)
    effective_from = PlantDate(allow_none=True, load_default=None)


class RoutingQuerySchema(ma.Schema):
    product = Text(64, metadata={"description": "Product code."})
    status = ma.fields.Enum(RoutingStatus, by_value=True)


def operation_input(data: dict[str, Any], prefix: str = "") -> OperationInput:
    """An OperationInput from the API's JSON (codes resolved to ids); unknown codes are field errors."""
    errors: dict[str, list] = {}
    wc_id = session().scalar(select(WorkCenter.id).where(WorkCenter.code == data["work_center"]))
    if wc_id is None:
        errors[f"{prefix}work_center"] = [_l("Unknown work center %(code)s.", code=data["work_center"])]
    machines = []
    for i, m in enumerate(data.get("machines") or []):
        machine_id = session().scalar(select(Machine.id).where(Machine.code == m["machine"]))
        if machine_id is None:
            errors[f"{prefix}machines.{i}.machine"] = [_l("Unknown machine %(code)s.", code=m["machine"])]
            continue
        machines.append(MachineTime(machine_id, m["setup_minutes"], m["run_minutes"]))
    if errors:
        raise ValidationError(fields=errors)
    preds = data.get("predecessors")
    return OperationInput(
        name=data["name"], work_center_id=wc_id, setup_minutes=data["setup_minutes"], run_minutes=data["run_minutes"],
        machines=machines, instructions=data.get("instructions"), transfer_batch=data.get("transfer_batch"),
        inspection_required=data.get("inspection_required", False), drawing=data.get("drawing"),
        program_no=data.get("program_no"), follows_previous=preds is None, predecessors=list(preds or []),
    )


def operation_json(op: Any, predecessors: list[int]) -> dict[str, Any]:
    return {
        "seq": op.seq, "name": op.name, "work_center": op.work_center.code, "setup_minutes": op.setup_minutes,
        "run_minutes": op.run_minutes,
        "machines": [{"machine": m.machine.code, "setup_minutes": m.setup_minutes, "run_minutes": m.run_minutes} for m in op.machines],
        "predecessors": None if op.follows_previous else predecessors, "transfer_batch": op.transfer_batch,
        "inspection_required": op.inspection_required, "drawing": op.drawing, "program_no": op.program_no,
        "instructions": op.instructions,
    }


def _routing_json(routing_id: int) -> dict[str, Any]:
    session().expire_all()
    routing = session().get(Routing, routing_id)
    if routing is None:
        raise NotFound()
    seqs = {op.id: op.seq for op in routing.operations}
    preds: dict[int, list[int]] = {}
    for p, q in graph.effective_edges(services.nodes_of(routing.operations, routing.edges)):
        preds.setdefault(q, []).append(seqs[p])
    return {
        "id": routing.id, "product": routing.product.code, "version_no": routing.version_no, "status": routing.status,
        "effective_from": routing.effective_from, "note": routing.note, "version": routing.version,
        "operations": [operation_json(op, sorted(preds.get(op.id, []))) for op in routing.operations],
    }


@blp.route("/", methods=["GET"])
@token_required(Permission.VIEW_ROUTINGS)
@blp.arguments(RoutingQuerySchema, location="query")
@blp.response(200, RoutingSummarySchema(many=True))
def list_routings(args: dict[str, Any]) -> list[dict[str, Any]]:
    query = select(Routing).join(Product).order_by(Product.code, Routing.version_no)
    if args.get("product"):
        query = query.where(Product.code == args["product"])
    if args.get("status"):
        query = query.where(Routing.status == args["status"])
    return [{**{c: getattr(r, c) for c in ("id", "version_no", "status", "effective_from", "note", "version")},
             "product": r.product.code} for r in session().scalars(query)]


@blp.route("/<int:routing_id>", methods=["GET"])
@token_required(Permission.VIEW_ROUTINGS)
@blp.response(200, RoutingSchema)
def get_routing(routing_id: int) -> dict[str, Any]:
    return _routing_json(routing_id)


@blp.route("/", methods=["POST"])
@token_required(Permission.EDIT_ROUTINGS)
@blp.arguments(RoutingCreateSchema)
@blp.response(201, RoutingSchema)
def create_routing(data: dict[str, Any]) -> tuple[dict[str, Any], int]:
    product_id = session().scalar(select(Product.id).where(Product.code == data["product"]))
    if product_id is None:
        raise ValidationError(fields={"product": [_l("Unknown product %(code)s.", code=data["product"])]})
    if data.get("operations") is None:
        routing_id = services.create_version(product_id, copy_from_id=data.get("copy_from"), note=data.get("note"))
    else:
        ops = []
        for i, op in enumerate(data["operations"]):
            ops.append((op.get("seq"), operation_input(op, prefix=f"operations.{i}.")))
        try:
            routing_id = services.create_version_with_operations(product_id, ops, note=data.get("note"))
        except ValidationError as exc:
            raise _with_prefix(exc, ops) from None
    return _routing_json(routing_id), 201


def _with_prefix(exc: ValidationError, ops: list) -> ValidationError:  # type: ignore[type-arg]
    """Name the operation a field error belongs to when a whole list was sent."""
    if not exc.fields:
        return exc
    return ValidationError(exc.message if exc.message is not type(exc).default_message else None,
                           fields={f"operations.{k}": v for k, v in exc.fields.items()}, **exc.params)


@blp.route("/<int:routing_id>/release", methods=["POST"])
@token_required(Permission.EDIT_ROUTINGS)
@blp.arguments(ReleaseSchema)
@blp.response(200, RoutingSchema)
def release_routing(data: dict[str, Any], routing_id: int) -> dict[str, Any]:
    services.release(routing_id, data["version"], data.get("effective_from"))
    return _routing_json(routing_id)


