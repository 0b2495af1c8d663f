"""Validation of one operation's data, shared by routings, work order changes and imports.
Pure: returns field errors as lazy messages, never touches the database."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l

# More than a week per piece or for a setup is a typing error, not a process.
MAX_MINUTES = Decimal(10080)
MAX_TRANSFER_BATCH = 1_000_000


@dataclass
class MachineTime:
    machine_id: int
    setup_minutes: Decimal
    run_minutes: Decimal


@dataclass
class OperationInput:
    name: str
    work_center_id: int | None
    setup_minutes: Decimal = Decimal(0)
    run_minutes: Decimal = Decimal(0)
    machines: list[MachineTime] = field(default_factory=list)
    instructions: str | None = None
    transfer_batch: int | None = None
    inspection_required: bool = False
    drawing: str | None = None
    program_no: str | None = None
    follows_previous: bool = True
    predecessors: list[int] = field(default_factory=list)  # seq numbers when not following


def parse_minutes(raw: object) -> Decimal:
    """Minutes from a form or file cell; raises ValueError for anything not a number."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return Decimal(0)
    try:
        value = Decimal(str(raw).strip().replace(",", "."))
    except InvalidOperation as exc:
        raise ValueError(str(raw)) from exc
    if not value.is_finite() or abs(value) >= MAX_MINUTES * 1000:
        raise ValueError(str(raw))  # also keeps quantize() within the decimal context's precision
    return value.quantize(Decimal("0.001"))


def _check_minutes(errors: dict[str, list], key: str, value: Decimal) -> None:
    if value < 0:
        errors.setdefault(key, []).append(_l("Times cannot be negative."))
    elif value > MAX_MINUTES:
        errors.setdefault(key, []).append(_l("More than %(max)s minutes is not plausible.", max=int(MAX_MINUTES)))


def validate_operation(op: OperationInput) -> dict[str, list]:
    errors: dict[str, list] = {}
    if not op.name or not op.name.strip():
        errors["name"] = [_l("This field is required.")]
    elif len(op.name) > 120:
        errors["name"] = [_l("At most %(n)s characters.", n=120)]
    if not op.work_center_id:
        errors["work_center_id"] = [_l("Choose a work center.")]
    _check_minutes(errors, "setup_minutes", op.setup_minutes)
    _check_minutes(errors, "run_minutes", op.run_minutes)
    seen: set[int] = set()
    for m in op.machines:
        _check_minutes(errors, f"machine-{m.machine_id}-setup_minutes", m.setup_minutes)
        _check_minutes(errors, f"machine-{m.machine_id}-run_minutes", m.run_minutes)
        if m.run_minutes == 0 and m.setup_minutes == 0:
            errors.setdefault(f"machine-{m.machine_id}-run_minutes", []).append(_l("Give a run or setup time."))
        if m.machine_id in seen:
            errors.setdefault("machines", []).append(_l("A machine is listed twice."))
        seen.add(m.machine_id)
    if not op.machines and op.run_minutes == 0 and op.setup_minutes == 0:
        errors.setdefault("run_minutes", []).append(_l("Give a run or setup time."))
    if op.transfer_batch is not None and not (1 <= op.transfer_batch <= MAX_TRANSFER_BATCH):
        errors["transfer_batch"] = [_l("A transfer batch is at least 1 piece.")]
    if op.program_no and len(op.program_no) > 64:
        errors["program_no"] = [_l("At most %(n)s characters.", n=64)]
    if op.drawing and len(op.drawing) > 120:
        errors["drawing"] = [_l("At most %(n)s characters.", n=120)]
    return errors
