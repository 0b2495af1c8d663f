"""JSON API of the shop floor: start, pause, resume, report, finish an operation and enter time (for
machine-side terminals and integrations). Send an ``Idempotency-Key`` header: a retry with the
same key returns the first answer and counts nothing twice."""
from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import jsonify, request
from flask_smorest import Blueprint

from mes.core.api import token_required
from mes.core.auth import Permission, current_principal
from mes.core.fields import Count, Id
from mes.shopfloor import services

blp = Blueprint("api_floor", __name__, url_prefix="/api/v1/floor", description="Shop floor")

_KEY_DOC = [{"in": "header", "name": "Idempotency-Key", "schema": {"type": "string"}, "required": False,
             "description": "Retrying with the same key returns the first response instead of acting twice."}]


class StartSchema(ma.Schema):
    phase = ma.fields.String(load_default=services.RUN, validate=ma.validate.OneOf(services.PHASES))
    machine_id = Id(load_default=None, allow_none=True)


class ReasonSchema(ma.Schema):
    reason_id = Id(required=True)


class QuantitySchema(ma.Schema):
    good = Count(min=0, max=9_999_999, load_default=0)
    scrap = Count(min=0, max=9_999_999, load_default=0)
    scrap_reason_id = Id(load_default=None, allow_none=True)


class TimeSchema(QuantitySchema):
    phase = ma.fields.String(load_default=services.RUN, validate=ma.validate.OneOf(services.PHASES))
    minutes = Count(min=1, max=services.MAX_MINUTES, required=True)
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=500))
    ended_at = ma.fields.AwareDateTime(load_default=None, allow_none=True,
                                       metadata={"description": "When the work ended (ISO 8601 with offset); now if left out."})




def _answer(body: dict[str, Any]) -> Any:
    return jsonify(body)


def _key() -> str | None:
    return request.headers.get("Idempotency-Key")


@blp.route("/operations/<int:operation_id>/start", methods=["POST"])
@token_required(Permission.SHOPFLOOR)
@blp.arguments(StartSchema)
@blp.doc(parameters=_KEY_DOC)
def start(data: dict[str, Any], operation_id: int) -> Any:
    return _answer(services.start(current_principal().id, _key(), operation_id, data["phase"], data["machine_id"]))


@blp.route("/operations/<int:operation_id>/pause", methods=["POST"])
@token_required(Permission.SHOPFLOOR)
@blp.arguments(ReasonSchema)
@blp.doc(parameters=_KEY_DOC)
def pause(data: dict[str, Any], operation_id: int) -> Any:
    return _answer(services.pause(current_principal().id, _key(), operation_id, data["reason_id"]))


@blp.route("/operations/<int:operation_id>/resume", methods=["POST"])
@token_required(Permission.SHOPFLOOR)
@blp.doc(parameters=_KEY_DOC)
def resume(operation_id: int) -> Any:
    return _answer(services.resume(current_principal().id, _key(), operation_id))


@blp.route("/operations/<int:operation_id>/report", methods=["POST"])
@token_required(Permission.SHOPFLOOR)
@blp.arguments(QuantitySchema)
@blp.doc(parameters=_KEY_DOC)
def report(data: dict[str, Any], operation_id: int) -> Any:
    body = services.report(current_principal().id, _key(), operation_id, data["good"], data["scrap"],
                           data["scrap_reason_id"])
    response = _answer(body)
    response.status_code = 201
    return response


@blp.route("/operations/<int:operation_id>/finish", methods=["POST"])
@token_required(Permission.SHOPFLOOR)
@blp.arguments(QuantitySchema)
@blp.doc(parameters=_KEY_DOC)
def finish(data: dict[str, Any], operation_id: int) -> Any:
    return _answer(services.finish(current_principal().id, _key(), operation_id, data["good"], data["scrap"],
                                   data["scrap_reason_id"]))


@blp.route("/operations/<int:operation_id>/time", methods=["POST"])
@token_required(Permission.SHOPFLOOR)
@blp.arguments(TimeSchema)
@blp.doc(parameters=_KEY_DOC)
def book_time(data: dict[str, Any], operation_id: int) -> Any:
    """Minutes (and pieces) entered after the fact, with a reason; the period must not already be booked."""
    body = services.book_time(current_principal().id, _key(), operation_id, data["phase"], data["minutes"], data["good"],
                              data["scrap"], data["scrap_reason_id"], data["reason"], data["ended_at"])
    response = _answer(body)
    response.status_code = 201
    return response
