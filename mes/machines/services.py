"""Machine use cases: its planning status and recorded downtime (breakdowns, maintenance)."""
from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l

from mes.core.db import transaction
from mes.core.errors import NotFound, ValidationError
from mes.machines.models import Machine, MachineDowntime, MachineStatus

DOWNTIME_KINDS = ("breakdown", "maintenance")


def set_status(machine_id: int, status: MachineStatus) -> None:
    with transaction() as s:
        machine = s.get(Machine, machine_id)
        if machine is None:
            raise NotFound()
        machine.status = status


def record_downtime(machine_id: int, starts_at: dt.datetime | None, ends_at: dt.datetime | None, kind: str,
                    note: str | None) -> int:
    """A period the machine cannot work; the scheduler plans around it."""
    errors: dict[str, list] = {}
    if starts_at is None:
        errors["starts_at"] = [_l("This field is required.")]
    if ends_at is not None and starts_at is not None and ends_at <= starts_at:
        errors["ends_at"] = [_l("The end must be after the start.")]
    if kind not in DOWNTIME_KINDS:
        errors["kind"] = [_l("Unknown kind.")]
    if errors:
        raise ValidationError(fields=errors)
    with transaction() as s:
        if s.get(Machine, machine_id) is None:
            raise NotFound()
        row = MachineDowntime(machine_id=machine_id, starts_at=starts_at, ends_at=ends_at, kind=kind,
                              note=(note or "").strip() or None)
        s.add(row)
        s.flush()
        return row.id


def end_downtime(downtime_id: int, ends_at: dt.datetime) -> None:
    with transaction() as s:
        row = s.get(MachineDowntime, downtime_id)
        if row is None:
            raise NotFound()
        if ends_at <= row.starts_at:
            raise ValidationError(fields={"ends_at": [_l("The end must be after the start.")]})
        row.ends_at = ends_at
