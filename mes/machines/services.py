"""Machine use cases: its planning status, recorded downtime (breakdowns, maintenance), and the
plant's reason lists (pause, scrap, downtime)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from mes.core.db import transaction, utcnow
from mes.core.errors import NotFound, ValidationError
from mes.machines.models import DEFAULT_REASONS, Machine, MachineDowntime, MachineStatus, Reason, ReasonKind

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


# --- reason lists --------------------------------------------------------------------------------


@dataclass
class ReasonInput:
    kind: str
    code: str | None
    name_en: str | None
    name_zh: str | None
    sort_order: int | None = 0


def _check_reason(s, data: ReasonInput, reason_id: int | None = None) -> dict[str, list]:  # type: ignore[no-untyped-def]
    errors: dict[str, list] = {}
    if data.kind not in {k.value for k in ReasonKind}:
        errors["kind"] = [_l("Unknown kind.")]
    code = (data.code or "").strip()
    if not code:
        errors["code"] = [_l("This field is required.")]
    elif len(code) > 32:
        errors["code"] = [_l("At most %(n)s characters.", n=32)]
    elif "kind" not in errors:
        taken = s.scalar(select(Reason.id).where(Reason.kind == data.kind, Reason.code == code))
        if taken and taken != reason_id:
            errors["code"] = [_l("This code is already used in this list.")]
    for field in ("name_en", "name_zh"):
        value = (getattr(data, field) or "").strip()
        if not value:
            errors[field] = [_l("This field is required.")]
        elif len(value) > 120:
            errors[field] = [_l("At most %(n)s characters.", n=120)]
    if data.sort_order is None:
        errors["sort_order"] = [_l("Enter a whole number.")]
    return errors


def add_reason(data: ReasonInput) -> int:
    """A new entry of a reason list (both names required)."""
    with transaction() as s:
        errors = _check_reason(s, data)
        if errors:
            raise ValidationError(fields=errors)
        row = Reason(kind=ReasonKind(data.kind), code=(data.code or "").strip(), name_en=(data.name_en or "").strip(),
                     name_zh=(data.name_zh or "").strip(), sort_order=data.sort_order or 0, active=True)
        s.add(row)
        s.flush()
        return row.id


def update_reason(reason_id: int, data: ReasonInput) -> None:
    """Rename or re-order a reason; its kind stays (reports already point at it)."""
    with transaction() as s:
        row = s.get(Reason, reason_id, with_for_update=True)
        if row is None:
            raise NotFound()
        data.kind = row.kind.value
        errors = _check_reason(s, data, reason_id)
        if errors:
            raise ValidationError(fields=errors)
        row.code, row.name_en, row.name_zh = (data.code or "").strip(), (data.name_en or "").strip(), (data.name_zh or "").strip()
        row.sort_order = data.sort_order or 0


def set_reason_active(reason_id: int, active: bool) -> None:
    """Retire a reason (the floor no longer offers it) or bring it back."""
    with transaction() as s:
        row = s.get(Reason, reason_id, with_for_update=True)
        if row is None:
            raise NotFound()
        row.active = active


def seed_reasons() -> int:
    """Add the default reasons a list is missing (first-run safe: existing codes are kept)."""
    added = 0
    with transaction() as s:
        existing = {(str(kind), code) for kind, code in s.execute(select(Reason.kind, Reason.code))}
        for i, (kind, code, en, zh) in enumerate(DEFAULT_REASONS):
            if (kind, code) not in existing:
                s.add(Reason(kind=ReasonKind(kind), code=code, name_en=en, name_zh=zh, sort_order=(i + 1) * 10))
                added += 1
    return added
