"""JSON API: schedule runs (start, progress, stop), plans with their operations, comparing two
plans, publishing, and pinning operations of a draft (moves re-time the draft at once)."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

import marshmallow as ma
from flask_smorest import Blueprint
from sqlalchemy import select

from mes.core.api import token_required
from mes.core.auth import Permission
from mes.core.db import session
from mes.core.errors import NotFound
from mes.core.fields import Count
from mes.core.inputs import MAX_INT
from mes.scheduling import board, moves, services
from mes.scheduling.models import ScheduleVersion

blp = Blueprint("api_schedules", __name__, url_prefix="/api/v1/schedules",
                description="Schedule runs and plans: run, progress, stop, compare, publish, pins")


class RunSchema(ma.Schema):
    time_limit = ma.fields.Integer(load_default=30, validate=ma.validate.Range(min=1, max=600),
                                   metadata={"description": "Seconds the optimizer may take."})
    objective = ma.fields.String(load_default="tardiness_makespan",
                                 validate=ma.validate.OneOf(["tardiness_makespan", "tardiness_flow"]))
    frozen_hours = ma.fields.Integer(load_default=0, validate=ma.validate.Range(min=0, max=168),
                                     metadata={"description": "Keep the published plan for this many hours."})
    stable = ma.fields.Boolean(load_default=True, metadata={"description": "Stay close to the published plan."})
    repair_of = ma.fields.Integer(load_default=None, allow_none=True,
                                  metadata={"description": "Repair this draft (keep its pins, stay close to it)."})


class ProgressSchema(ma.Schema):
    phase = ma.fields.String()
    objective = ma.fields.List(ma.fields.Integer())
    lower_bound = ma.fields.Integer(allow_none=True)
    seconds = ma.fields.Float()


class ScheduleSchema(ma.Schema):
    id = ma.fields.Integer()
    status = ma.fields.Function(lambda v: str(v.status))
    version = ma.fields.Integer(metadata={"description": "Send it back when publishing or moving (optimistic locking)."})
    created_at = ma.fields.DateTime()
    origin = ma.fields.DateTime()
    time_limit_s = ma.fields.Integer()
    solver_status = ma.fields.String(allow_none=True)
    phase = ma.fields.String(allow_none=True)
    objective = ma.fields.Function(lambda v: json.loads(v.objective_json) if v.objective_json else None)
    lower_bound = ma.fields.Integer(allow_none=True)
    seconds = ma.fields.Float(allow_none=True)
    progress = ma.fields.Function(lambda v: json.loads(v.progress_json) if v.progress_json else None)
    stop_requested_at = ma.fields.DateTime(allow_none=True)
    published_at = ma.fields.DateTime(allow_none=True)
    notes = ma.fields.Function(lambda v: services.notes(v))


class PlanOperationSchema(ma.Schema):
    operation_id = ma.fields.Integer()
    order_id = ma.fields.Integer()
    order = ma.fields.String()
    seq = ma.fields.Integer()
    name = ma.fields.String()
    machine_id = ma.fields.Integer()
    setup_start = ma.fields.DateTime()
    start = ma.fields.DateTime()
    end = ma.fields.DateTime()
    late = ma.fields.Boolean()
    at_risk = ma.fields.Boolean()
    pinned = ma.fields.Boolean()


class PlanSchema(ScheduleSchema):
    operations = ma.fields.List(ma.fields.Nested(PlanOperationSchema))


class CompareQuerySchema(ma.Schema):
    with_ = ma.fields.Integer(data_key="with", load_default=None,
                              metadata={"description": "The plan to compare with (default: the published one)."})


class PublishSchema(ma.Schema):
    version = Count(required=True, metadata={"description": "The version you read."})
    published = ma.fields.Integer(load_default=None, allow_none=True, validate=ma.validate.Range(min=0, max=MAX_INT),
                                  metadata={"description": "The plan published when you compared (0: none). "
                                                           "If another was published since, you get 409."})


class PinSchema(ma.Schema):
    version = Count(required=True)
    operation_id = Count(required=True)
    machine_id = Count(required=True)
    position = ma.fields.Integer(load_default=None, allow_none=True, validate=ma.validate.Range(min=0, max=100_000),
                                 metadata={"description": "Place in the machine's queue, 0 first; none: last."})
    start_at = ma.fields.AwareDateTime(load_default=None, allow_none=True, default_timezone=dt.UTC,
                                       metadata={"description": "Pin the start too (not in the past, not off shift)."})
    published = ma.fields.Integer(load_default=None, allow_none=True, validate=ma.validate.Range(min=0, max=MAX_INT))


class UnpinQuerySchema(ma.Schema):
    version = Count(required=True)


class _Plan:
    """A schedule version with its operations, for PlanSchema."""

    def __init__(self, version: ScheduleVersion, operations: list[dict[str, Any]]) -> None:
        self._version, self.operations = version, operations

    def __getattr__(self, name: str) -> Any:
        return getattr(self._version, name)


def _version(schedule_id: int) -> ScheduleVersion:
    session().expire_all()
    version = session().get(ScheduleVersion, schedule_id)
    if version is None:
        raise NotFound()
    return version


@blp.route("/", methods=["GET"])
@token_required(Permission.VIEW_SCHEDULE)
@blp.response(200, ScheduleSchema(many=True))
def list_schedules() -> list[ScheduleVersion]:
    services.fail_dead_runs()
    return list(session().scalars(select(ScheduleVersion).order_by(ScheduleVersion.id.desc()).limit(50)))


@blp.route("/", methods=["POST"])
@token_required(Permission.SCHEDULE)
@blp.arguments(RunSchema)
@blp.response(202, ScheduleSchema)
def run(data: dict[str, Any]) -> ScheduleVersion:
    if data.get("repair_of") is not None:
        _version(data["repair_of"])
    schedule_id = services.start_run(time_limit=data["time_limit"], options=services.BuildOptions(
        objective=data["objective"], frozen_minutes=data["frozen_hours"] * 60,
        use_previous=data["stable"] or data.get("repair_of") is not None, previous_schedule_id=data.get("repair_of")))
    return _version(schedule_id)


@blp.route("/<int:schedule_id>", methods=["GET"])
@token_required(Permission.VIEW_SCHEDULE)
@blp.response(200, ScheduleSchema)
def get_schedule(schedule_id: int) -> ScheduleVersion:
    """Status and progress (best objective, lower bound) of a run, or the figures of a plan."""
    services.fail_dead_runs()
    return _version(schedule_id)


@blp.route("/<int:schedule_id>/plan", methods=["GET"])
@token_required(Permission.VIEW_SCHEDULE)
@blp.response(200, PlanSchema)
def get_plan(schedule_id: int) -> _Plan:
    version = _version(schedule_id)
    return _Plan(version, [{"operation_id": b.operation_id, "order_id": b.order_id, "order": b.order, "seq": b.seq,
                          "name": b.name, "machine_id": b.machine_id, "setup_start": b.setup_start, "start": b.start,
                          "end": b.end, "late": b.late, "at_risk": b.at_risk, "pinned": b.pinned}
                           for b in board.plan_bars(session(), version.id)])


@blp.route("/<int:schedule_id>/stop", methods=["POST"])
@token_required(Permission.SCHEDULE)
@blp.response(202, ScheduleSchema)
def stop(schedule_id: int) -> ScheduleVersion:
    """End the run now, keeping the best plan found (within about a second)."""
    services.request_stop(schedule_id)
    return _version(schedule_id)


@blp.route("/<int:schedule_id>/compare", methods=["GET"])
@token_required(Permission.VIEW_SCHEDULE)
@blp.arguments(CompareQuerySchema, location="query")
def compare(args: dict[str, Any], schedule_id: int) -> dict[str, Any]:
    """Late orders, weighted tardiness, makespan, setups; moved operations; orders whose completion changes."""
    return board.comparison_json(board.compare(session(), schedule_id, args.get("with_")))


@blp.route("/<int:schedule_id>/publish", methods=["POST"])
@token_required(Permission.SCHEDULE)
@blp.arguments(PublishSchema)
@blp.response(200, ScheduleSchema)
def publish(data: dict[str, Any], schedule_id: int) -> ScheduleVersion:
    services.publish(schedule_id, data["version"], data.get("published"))
    return _version(schedule_id)


@blp.route("/<int:schedule_id>/pins", methods=["POST"])
@token_required(Permission.SCHEDULE)
@blp.arguments(PinSchema)
@blp.response(200, ScheduleSchema)
def pin(data: dict[str, Any], schedule_id: int) -> ScheduleVersion:
    """Move an operation of a draft to a machine (and place, and start), pin it, re-time the draft."""
    moves.move_operation(schedule_id, data["version"], moves.Move(
        data["operation_id"], data["machine_id"], data.get("position"), data.get("start_at")),
        expected_published=data.get("published"))
    return _version(schedule_id)


@blp.route("/<int:schedule_id>/pins/<int:operation_id>", methods=["DELETE"])
@token_required(Permission.SCHEDULE)
@blp.arguments(UnpinQuerySchema, location="query")
@blp.response(200, ScheduleSchema)
def unpin(args: dict[str, Any], schedule_id: int, operation_id: int) -> ScheduleVersion:
    moves.unpin(schedule_id, args["version"], operation_id)
    return _version(schedule_id)
