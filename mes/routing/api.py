"""JSON API: routings (get, create a version, release). Operations are named as in
:mod:`mes.operations.schemas`: machines and work centers by code, predecessors by sequence number."""
from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint
from sqlalchemy import select

from mes.core.api import token_required
from mes.core.fields import Count, Id, PlantDate, Text
from mes.core.auth import Permission
from mes.core.db import session
from mes.core.errors import NotFound, ValidationError
from mes.operations import services as operations
from mes.operations.schemas import OperationSchema, operation_input, operation_json
from mes.routing import services
from mes.routing.models import Product, Routing, RoutingStatus

blp = Blueprint("api_routings", __name__, url_prefix="/api/v1/routings", description="Routings")


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


def _routing_json(routing_id: int) -> dict[str, Any]:
    session().expire_all()
    routing = session().get(Routing, routing_id)
    if routing is None:
        raise NotFound()
    preds = operations.predecessor_seqs(routing)
    return {
        "id": routing.id, "product": routing.product.code, "version_no": routing.version_no, "status": routing.status,
        "effective_from": routing.effective_from, "note": routing.note, "version": routing.version,
        "operations": [operation_json(op, preds.get(op.id, [])) for op in routing.operations],
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


