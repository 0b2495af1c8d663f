"""The API's representation of an operation, shared by routings and work order changes:
machines and work centers are named by code, predecessors by sequence number."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import marshmallow as ma
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from mes.core.db import session
from mes.core.errors import ValidationError
from mes.core.fields import Count, Text
from mes.machines.models import Machine, WorkCenter
from mes.operations.rules import MachineTime, OperationInput


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
