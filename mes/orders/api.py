"""JSON API: work orders (list, get, create, change status)."""
from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import jsonify, request
from flask_smorest import Blueprint
from sqlalchemy import select

from mes.core import idempotency
from mes.core.api import PageQuerySchema, token_required
from mes.core.fields import Count, PlantDate, Text
from mes.core.inputs import MAX_INT
from mes.core.auth import Permission, current_principal
from mes.core.db import session
from mes.core.errors import NotFound, ValidationError
from mes.operations.schemas import OperationSchema, operation_input, operation_json
from mes.orders import changes, lifecycle, queries, services
from mes.orders.models import Priority, WorkOrder, WorkOrderStatus
from mes.routing.models import Product

blp = Blueprint("api_orders", __name__, url_prefix="/api/v1/work-orders", description="Work orders")


class WorkOrderSchema(ma.Schema):
    id = ma.fields.Integer()
    number = ma.fields.String()
    product_id = ma.fields.Integer()
    product = ma.fields.Function(lambda o: o.product.code)
    quantity = ma.fields.Integer()
    release_date = ma.fields.Date(allow_none=True)
    due_date = ma.fields.Date()
    priority = ma.fields.Enum(Priority, by_value=True)
    customer = ma.fields.String(allow_none=True)
    note = ma.fields.String(allow_none=True)
    status = ma.fields.Enum(WorkOrderStatus, by_value=True)
    parent_id = ma.fields.Integer(allow_none=True)
    version = ma.fields.Integer(metadata={"description": "Send it back when changing the order (optimistic locking)."})
    updated_at = ma.fields.DateTime()


class WorkOrderPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(WorkOrderSchema))
    total = ma.fields.Integer()
    page = ma.fields.Integer()
    page_size = ma.fields.Integer()


class WorkOrderQuerySchema(PageQuerySchema):
    q = Text(200, metadata={"description": "Search number, customer, product code or name."})
    status = ma.fields.List(ma.fields.Enum(WorkOrderStatus, by_value=True))
    product = Text(64, metadata={"description": "Product code."})
    due_from = PlantDate()
    due_to = PlantDate()
    late = ma.fields.Boolean(load_default=False)
    sort = ma.fields.String(load_default="due", validate=ma.validate.OneOf(list(queries.SORTS)))


class WorkOrderCreateSchema(ma.Schema):
    number = Text(40, metadata={"description": "Generated when left out."})
    product = Text(64, required=True, metadata={"description": "Product code."})
    quantity = Count(required=True, strict=True, min=-MAX_INT)  # the service explains a wrong quantity
    due_date = PlantDate(required=True)
    release_date = PlantDate(allow_none=True)
    priority = ma.fields.Enum(Priority, by_value=True, load_default=Priority.NORMAL)
    customer = Text(120, allow_none=True)
    note = Text(2000, allow_none=True)


class StatusChangeSchema(ma.Schema):
    action = ma.fields.String(required=True, validate=ma.validate.OneOf([a.value for a in lifecycle.STATUS_ACTIONS]))
    version = Count(required=True, metadata={"description": "The version you read."})
    reason = Text(500, allow_none=True)


def product_id_for(code: str) -> int:
    product_id = session().scalar(select(Product.id).where(Product.code == code))
    if product_id is None:
        raise ValidationError(fields={"product": [f"Unknown product: {code}"]})
    return product_id


def _fresh(order_id: int) -> WorkOrder:
    session().expire_all()
    order = session().get(WorkOrder, order_id)
    if order is None:
        raise NotFound()
    return order


@blp.route("/", methods=["GET"])
@token_required(Permission.VIEW_ORDERS)
@blp.arguments(WorkOrderQuerySchema, location="query")
@blp.response(200, WorkOrderPageSchema)
def list_work_orders(args: dict[str, Any]) -> dict[str, Any]:
    f = queries.OrderFilter(
        q=args.get("q"), status=[s.value for s in args.get("status", [])],
        product_id=product_id_for(args["product"]) if args.get("product") else None,
        due_from=args.get("due_from"), due_to=args.get("due_to"), late=args["late"], sort=args["sort"],
    )
    rows, total = queries.list_orders(f, page=args["page"], per_page=args["page_size"])
    return {"items": rows, "total": total, "page": args["page"], "page_size": args["page_size"]}


@blp.route("/<int:order_id>", methods=["GET"])
@token_required(Permission.VIEW_ORDERS)
@blp.response(200, WorkOrderSchema)
def get_work_order(order_id: int) -> WorkOrder:
    order = session().get(WorkOrder, order_id)
    if order is None:
        raise NotFound()
    return order


@blp.route("/", methods=["POST"])
@token_required(Permission.EDIT_ORDERS)
@blp.arguments(WorkOrderCreateSchema)
@blp.response(201, WorkOrderSchema)
@blp.doc(parameters=[{"in": "header", "name": "Idempotency-Key", "schema": {"type": "string"}, "required": False,
                      "description": "Retrying with the same key returns the first response instead of creating twice."}])
def create_work_order(data: dict[str, Any]) -> Any:
    product_id = product_id_for(data["product"])
    payload = WorkOrderCreateSchema().dump(data)

    def work(s):  # type: ignore[no-untyped-def]
        order_id = services.create_in(s, services.WorkOrderInput(
            product_id=product_id, quantity=data["quantity"], due_date=data["due_date"], number=data.get("number"),
            release_date=data.get("release_date"), priority=data["priority"], customer=data.get("customer"),
            note=data.get("note"),
        ))
        s.flush()
        # The stored response is what a retry gets back, byte for byte.
        return 201, WorkOrderSchema().dump(s.get(WorkOrder, order_id))

    status, body, replayed = idempotency.run(
        current_principal().id, request.headers.get("Idempotency-Key"), "work_order.create", payload, work
    )
    response = jsonify(body)
    response.status_code = status
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@blp.route("/<int:order_id>/status", methods=["POST"])
@token_required(Permission.EDIT_ORDERS)
@blp.arguments(StatusChangeSchema)
@blp.response(200, WorkOrderSchema)
def change_status(data: dict[str, Any], order_id: int) -> Any:
    services.change_status(order_id, data["action"], data["version"], data.get("reason"))
    return _fresh(order_id)


# --- the operations of one order, and changes to the remaining ones ------------------------------

class OperationProgressSchema(OperationSchema):
    id = ma.fields.Integer()
    status = ma.fields.String()
    good = ma.fields.Integer()
    scrap = ma.fields.Integer()
    remaining = ma.fields.Integer()
    planned_start = ma.fields.DateTime(allow_none=True)
    planned_end = ma.fields.DateTime(allow_none=True)
    planned_machine = ma.fields.String(allow_none=True)


class OperationChangeSchema(ma.Schema):
    version = Count(required=True, metadata={"description": "The work order version you read."})
    reason = Text(500, min_length=1, required=True)
    operation = ma.fields.Nested(OperationSchema, required=True)


class OperationActionSchema(ma.Schema):
    version = Count(required=True)
    reason = Text(500, min_length=1, required=True)
    direction = ma.fields.String(validate=ma.validate.OneOf(["up", "down"]), metadata={"description": "For move."})


def _operations_json(order_id: int) -> list[dict[str, Any]]:
    session().expire_all()
    order = queries.get(order_id)
    out = []
    for p in queries.progress(order):
        row = operation_json(p.operation, p.predecessors)
        row.update(id=p.operation.id, status=p.operation.status.value, good=p.good, scrap=p.scrap, remaining=p.remaining,
                   planned_start=p.planned_start, planned_end=p.planned_end, planned_machine=p.planned_machine)
        out.append(row)
    return out


@blp.route("/<int:order_id>/operations", methods=["GET"])
@token_required(Permission.VIEW_ORDERS)
@blp.response(200, OperationProgressSchema(many=True))
def list_operations(order_id: int) -> list[dict[str, Any]]:
    return _operations_json(order_id)


@blp.route("/<int:order_id>/operations", methods=["POST"])
@token_required(Permission.EDIT_ORDERS)
@blp.arguments(OperationChangeSchema)
@blp.response(201, OperationProgressSchema(many=True))
def insert_operation(data: dict[str, Any], order_id: int) -> tuple[list[dict[str, Any]], int]:
    op = data["operation"]
    changes.insert_operation(order_id, data["version"], operation_input(op), op.get("seq"), data["reason"])
    return _operations_json(order_id), 201


@blp.route("/<int:order_id>/operations/<int:operation_id>", methods=["PUT"])
@token_required(Permission.EDIT_ORDERS)
@blp.arguments(OperationChangeSchema)
@blp.response(200, OperationProgressSchema(many=True))
def change_operation(data: dict[str, Any], order_id: int, operation_id: int) -> list[dict[str, Any]]:
    changes.change_operation(order_id, operation_id, data["version"], operation_input(data["operation"]), data["reason"])
    return _operations_json(order_id)


@blp.route("/<int:order_id>/operations/<int:operation_id>/<any(skip, restore, move):action>", methods=["POST"])
@token_required(Permission.EDIT_ORDERS)
@blp.arguments(OperationActionSchema)
@blp.response(200, OperationProgressSchema(many=True))
def operation_action(data: dict[str, Any], order_id: int, operation_id: int, action: str) -> list[dict[str, Any]]:
    if action == "skip":
        changes.skip_operation(order_id, operation_id, data["version"], data["reason"])
    elif action == "restore":
        changes.restore_operation(order_id, operation_id, data["version"], data["reason"])
    else:
        if "direction" not in data:
            raise ValidationError(fields={"direction": ["Missing data for required field."]})
        changes.move_operation(order_id, operation_id, data["version"], -1 if data["direction"] == "up" else 1, data["reason"])
    return _operations_json(order_id)
