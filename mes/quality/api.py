"""JSON API of quality: the inspections due on an operation and recording their results (send an
``Idempotency-Key``; a value far outside its limits is refused with code ``implausible`` until
it is sent again with ``confirmed: true``), a work order's results, and nonconformance reports
with their disposition (quality staff)."""
from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import jsonify, request
from flask_smorest import Blueprint

from mes.core.api import token_required
from mes.core.auth import Permission, current_principal
from mes.core.db import session
from mes.core.errors import NotFound
from mes.core.fields import Count, Id, Text
from mes.orders.models import WorkOrder
from mes.quality import inspections, services
from mes.quality.models import Disposition, NcrStatus

blp = Blueprint("api_quality", __name__, url_prefix="/api/v1/quality", description="Quality")

_KEY_DOC = [{"in": "header", "name": "Idempotency-Key", "schema": {"type": "string"}, "required": False,
             "description": "Retrying with the same key returns the first response instead of acting twice."}]


class ResultSchema(ma.Schema):
    characteristic_id = Id(required=True)
    frequency = ma.fields.String(required=True, validate=ma.validate.OneOf(["first", "every_n", "last", "lot"]))
    sample_no = Count(load_default=1, max=1_000_000)
    value = ma.fields.Decimal(load_default=None, allow_none=True, allow_nan=False, places=None, as_string=True,
                              metadata={"description": "Measured characteristics: the value."})
    passed = ma.fields.Boolean(load_default=None, allow_none=True,
                               metadata={"description": "Attributes: the worker's judgement."})
    defect = Text(120, load_default=None, allow_none=True)
    confirmed = ma.fields.Boolean(load_default=False, metadata={"description": "Keep a value far outside its limits."})


class NcrSchema(ma.Schema):
    work_order_id = Id(load_default=None, allow_none=True)
    operation_id = Id(load_default=None, allow_none=True)
    inspection_result_id = Id(load_default=None, allow_none=True)
    production_report_id = Id(load_default=None, allow_none=True)
    quantity = Count(required=True, max=1_000_000)
    defect = Text(120, load_default=None, allow_none=True)
    description = Text(4000, load_default=None, allow_none=True)


class NcrQuerySchema(ma.Schema):
    status = ma.fields.String(load_default=None, validate=ma.validate.OneOf([s.value for s in NcrStatus]))


class DispositionSchema(ma.Schema):
    version = Count(required=True)
    disposition = ma.fields.String(required=True, validate=ma.validate.OneOf([d.value for d in Disposition]))
    reason = Text(500, load_default=None, allow_none=True)


def _num(value: Any) -> str | None:
    return None if value is None else str(value)


def _result_json(r: Any) -> dict[str, Any]:
    c = r.characteristic
    return {"id": r.id, "operation_id": r.operation_id, "characteristic_id": r.characteristic_id,
            "characteristic": c.name, "frequency": r.frequency.value, "sample_no": r.sample_no, "value": _num(r.value),
            "lower_limit": _num(c.lower_limit), "upper_limit": _num(c.upper_limit), "unit": c.unit, "passed": r.passed,
            "defect": r.defect, "confirmed": r.confirmed, "pieces": r.pieces,
            "user": r.user.display_name if r.user else None, "recorded_at": r.recorded_at.isoformat()}


def _ncr_json(n: Any) -> dict[str, Any]:
    return {"id": n.id, "version": n.version, "source": n.source.value, "status": n.status.value,
            "work_order_id": n.work_order_id, "operation_id": n.operation_id,
            "inspection_result_id": n.inspection_result_id, "production_report_id": n.production_report_id,
            "quantity": n.quantity, "defect": n.defect, "description": n.description, "has_photo": bool(n.photo_type),
            "disposition": n.disposition.value if n.disposition else None, "disposition_reason": n.disposition_reason,
            "rework_operation_id": n.rework_operation_id, "created_at": n.created_at.isoformat(),
            "disposed_at": n.disposed_at.isoformat() if n.disposed_at else None}


@blp.route("/operations/<int:operation_id>/inspections", methods=["GET"])
@token_required(Permission.SHOPFLOOR, Permission.QUALITY)
def due(operation_id: int) -> Any:
    """The inspections due on the operation now, and whether its first article holds back good pieces."""
    op, items, blocking = inspections.due_on(operation_id)
    return jsonify({
        "operation_id": op.id, "first_article_blocking": [c.name for c in blocking],
        "due": [{"characteristic_id": d.characteristic.id, "characteristic": d.characteristic.name,
                 "kind": d.characteristic.kind.value, "frequency": d.frequency.value, "sample_no": d.sample_no,
                 "nominal": _num(d.characteristic.nominal), "lower_limit": _num(d.characteristic.lower_limit),
                 "upper_limit": _num(d.characteristic.upper_limit), "unit": d.characteristic.unit,
                 "defects": d.characteristic.defect_list} for d in items],
    })


@blp.route("/operations/<int:operation_id>/inspections", methods=["POST"])
@token_required(Permission.SHOPFLOOR)
@blp.arguments(ResultSchema)
@blp.doc(parameters=_KEY_DOC)
def record(data: dict[str, Any], operation_id: int) -> Any:
    body = inspections.record(current_principal().id, request.headers.get("Idempotency-Key"), operation_id,
                              inspections.ResultInput(
                                  data["characteristic_id"], data["frequency"], data["sample_no"],
                                  value=_num(data["value"]), passed=data["passed"], defect=data["defect"],
                                  confirmed=data["confirmed"]))
    response = jsonify(body)
    response.status_code = 201
    return response


@blp.route("/orders/<int:order_id>/inspections", methods=["GET"])
@token_required(Permission.QUALITY, Permission.VIEW_ORDERS)
def order_results(order_id: int) -> Any:
    """Every inspection result of a work order, with its limits, verdict, who and when."""
    if session().get(WorkOrder, order_id) is None:
        raise NotFound()
    return jsonify({"items": [_result_json(r) for r in inspections.results_of_order(order_id)]})


@blp.route("/ncrs", methods=["GET"])
@token_required(Permission.QUALITY)
@blp.arguments(NcrQuerySchema, location="query")
def list_ncrs(query: dict[str, Any]) -> Any:
    return jsonify({"items": [_ncr_json(n) for n in services.ncrs(NcrStatus(query["status"]) if query["status"] else None)]})


@blp.route("/ncrs", methods=["POST"])
@token_required(Permission.QUALITY, Permission.SHOPFLOOR)
@blp.arguments(NcrSchema)
@blp.doc(parameters=_KEY_DOC)
def raise_ncr(data: dict[str, Any]) -> Any:
    """Raise a nonconformance from a failed inspection, from scrap, or by hand on a work order."""
    ncr_id = services.raise_ncr(current_principal().id, services.NcrInput(**data), request.headers.get("Idempotency-Key"))
    response = jsonify(_ncr_json(services.ncr(ncr_id)))
    response.status_code = 201
    return response


@blp.route("/ncrs/<int:ncr_id>", methods=["GET"])
@token_required(Permission.QUALITY)
def get_ncr(ncr_id: int) -> Any:
    return jsonify(_ncr_json(services.ncr(ncr_id)))


@blp.route("/ncrs/<int:ncr_id>/disposition", methods=["POST"])
@token_required(Permission.QUALITY)
@blp.arguments(DispositionSchema)
def dispose(data: dict[str, Any], ncr_id: int) -> Any:
    """Decide (scrap, rework, use_as_is with a reason, return_to_supplier) and close the report;
    ``version`` is the report's version as read (a stale one is a 409)."""
    services.ncr(ncr_id)
    services.dispose(current_principal().id, ncr_id, data["version"], data["disposition"], data["reason"])
    session().rollback()
    return jsonify(_ncr_json(services.ncr(ncr_id)))
