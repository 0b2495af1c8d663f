"""Machine use cases: its planning status and recorded downtime (breakdowns, maintenance)."""
from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l

from mes.core.db import transaction, utcnow
from mes.core.errors import NotFound, ValidationError
from mes.machines.models import Machine, MachineDowntime, MachineStatus

DOWNTIME_KINDS = ("breakdown", "maintenance")
# How far from today a downtime may be recorded: beyond this it is a typing error, not a plan.
DOWNTIME_REACH = dt.timedelta(days=366)


def set_status(machine_id: int, status: MachineStatus) -> None:
    with transaction() as s:
        machine = s.get(Machine, machine_id)
        if machine is None:
            raise NotFound()
        machine.status = status


def _check_downtime(starts_at: dt.datetime | None, ends_at: dt.datetime | None, kind: str) -> None:
    errors: dict[str, list] = {}
    now = utcnow()
    if starts_at is None:
        errors["starts_at"] = [_l("This field is required.")]
    elif not now - DOWNTIME_REACH <= starts_at <= now + DOWNTIME_REACH:
        errors["starts_at"] = [_l("Enter a date within a year from today.")]
    if ends_at is not None and starts_at is not None and ends_at <= starts_at:
        errors["ends_at"] = [_l("The end must be after the start.")]
    elif ends_at is not None and ends_at > now + 2 * DOWNTIME_REACH:
        errors["ends_at"] = [_l("Enter a date within a year from today.")]
    if kind not in DOWNTIME_KINDS:
        errors["kind"] = [_l("Unknown kind.")]
    if errors:
        raise ValidationError(fields=errors)


def record_downtime(machine_id: int, starts_at: dt.datetime | None, ends_at: dt.datetime | None, kind: str,
                    note: str | None) -> int:
    """A period the machine cannot work; the scheduler plans around it. Without an end it lasts
    until someone ends it."""
    _check_downtime(starts_at, ends_at, kind)
    with transaction() as s:
        if s.get(Machine, machine_id) is None:
            raise NotFound()
        row = MachineDowntime(machine_id=machine_id, starts_at=starts_at, ends_at=ends_at, kind=kind,
                              note=(note or "").strip() or None)
        s.add(row)
        s.flush()
        return row.id


def _downtime_of(s, machine_id: int, downtime_id: int) -> MachineDowntime:  # type: ignore[no-untyped-def]
    row = s.get(MachineDowntime, downtime_id, with_for_update=True)
    if row is None or row.machine_id != machine_id:
        raise NotFound()
    return row


def update_downtime(machine_id: int, downtime_id: int, starts_at: dt.datetime | None, ends_at: dt.datetime | None,
                    kind: str, note: str | None) -> None:
    """Correct a recorded downtime (its span, kind or note); the audit log keeps what it was."""
    _check_downtime(starts_at, ends_at, kind)
    with transaction() as s:
        row = _downtime_of(s, machine_id, downtime_id)
        row.starts_at, row.ends_at, row.kind = starts_at, ends_at, kind
        row.note = (note or "").strip() or None


def end_downtime(machine_id: int, downtime_id: int, ends_at: dt.datetime | None = None) -> None:
    """The machine works again (now, or at ``ends_at``)."""
    ends_at = ends_at or utcnow()
    with transaction() as s:
        row = _downtime_of(s, machine_id, downtime_id)
        if ends_at <= row.starts_at:
            raise ValidationError(fields={"ends_at": [_l("The end must be after the start.")]})
        if ends_at > utcnow() + 2 * DOWNTIME_REACH:
            raise ValidationError(fields={"ends_at": [_l("Enter a date within a year from today.")]})
        row.ends_at = ends_at
