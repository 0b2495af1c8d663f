"""Inspections on the floor: what is due on an operation now, recording a result (with the
idempotency key its form was drawn with, like every floor action), and the first-article gate
the shop floor asks before it accepts good pieces (plugged in by the app factory)."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from mes.core import idempotency
from mes.core.db import session
from mes.core.errors import InvalidTransition, NotFound, ValidationError
from mes.operations.inspection import parse_decimal
from mes.operations.models import CharacteristicKind, Frequency
from mes.orders.models import (
    ACTIVE_STATUSES,
    Operation,
    OperationCharacteristic,
    OperationStatus,
    WorkOrder,
)
from mes.quality import due as rules
from mes.quality.models import InspectionResult
from mes.shopfloor import services as floor

MAX_DEFECT = 120


class Implausible(ValidationError):
    """A value so far off that it is more likely a typing error: asked again before it is saved."""

    code = "implausible"


@dataclass
class DueInspection:
    characteristic: OperationCharacteristic
    frequency: Frequency
    sample_no: int
    last: InspectionResult | None  # the latest result of this occasion (a failed first piece)

    @property
    def key(self) -> str:
        return f"{self.characteristic.id}-{self.frequency.value}-{self.sample_no}"


def plan_of(op: Operation) -> list[rules.PlanLine]:
    return [rules.PlanLine(c.id, c.frequency.value, c.every_n) for c in op.characteristics]


def latest_results(s: Session, op_id: int) -> dict[rules.Occasion, InspectionResult]:
    """The latest result of each occasion recorded on the operation."""
    latest: dict[rules.Occasion, InspectionResult] = {}
    for r in s.scalars(select(InspectionResult).where(InspectionResult.operation_id == op_id).order_by(InspectionResult.id)):
        latest[rules.Occasion(r.characteristic_id, r.frequency.value, r.sample_no)] = r
    return latest


def _due(s: Session, op: Operation, order: WorkOrder, finishing: bool = False) -> list[DueInspection]:
    latest = latest_results(s, op.id)
    by_id = {c.id: c for c in op.characteristics}
    # The last piece is the lot's last: fewer than the order quantity when earlier steps scrapped.
    occasions = rules.due(plan_of(op), op.qty_good + op.qty_scrap, floor.lot_size(order, op),
                          {k: v.passed for k, v in latest.items()}, finishing)
    return [DueInspection(by_id[o.key], Frequency(o.frequency), o.sample_no, latest.get(o)) for o in occasions]


def due_on(op_id: int) -> tuple[Operation, list[DueInspection], list[OperationCharacteristic]]:
    """The operation, its inspections due now (for the terminal card), and the first-piece
    characteristics still holding back good pieces (empty when not gated)."""
    s = session()
    op = s.get(Operation, op_id, options=[joinedload(Operation.work_order)])
    if op is None:
        raise NotFound()
    latest = {k: v.passed for k, v in latest_results(s, op.id).items()}
    blocking = _blocking(op, latest)
    if op.status not in (OperationStatus.IN_PROGRESS, OperationStatus.PAUSED) or op.work_order.status not in ACTIVE_STATUSES:
        return op, [], blocking
    return op, _due(s, op, op.work_order), blocking


def _blocking(op: Operation, latest: dict[rules.Occasion, bool]) -> list[OperationCharacteristic]:
    if not op.inspection_required:
        return []
    by_id = {c.id: c for c in op.characteristics}
    return [by_id[k] for k in rules.first_article_open(plan_of(op), latest)]


def check_first_article(s: Session, op: Operation) -> None:
    """Refuse good pieces on a gated operation while a first-piece inspection is missing or
    failed. The shop floor calls it inside its report's transaction (op is locked)."""
    blocking = _blocking(op, {k: v.passed for k, v in latest_results(s, op.id).items()})
    if blocking:
        raise InvalidTransition(
            _l("First-article inspection of %(names)s is missing or failed: no good pieces can be reported until it passes."),
            names=", ".join(c.name for c in blocking),
        )


def first_article_alerts() -> list[tuple[Operation, list[OperationCharacteristic], InspectionResult | None]]:
    """Running gated operations held back by a missing or failed first piece (quality's alert list),
    with the latest failed first-piece result if any."""
    s = session()
    ops = s.scalars(
        select(Operation).join(WorkOrder)
        .where(Operation.inspection_required, WorkOrder.status.in_(ACTIVE_STATUSES),
               Operation.status.in_([OperationStatus.IN_PROGRESS, OperationStatus.PAUSED]))
        .options(joinedload(Operation.work_order), joinedload(Operation.machine))
        .order_by(Operation.id)
    ).unique().all()
    alerts = []
    for op in ops:
        latest = latest_results(s, op.id)
        blocking = _blocking(op, {k: v.passed for k, v in latest.items()})
        if blocking:
            failed = next((r for k, r in latest.items() if k.frequency == rules.FIRST and not r.passed), None)
            alerts.append((op, blocking, failed))
    return alerts


@dataclass
class ResultInput:
    characteristic_id: int | None
    frequency: str | None
    sample_no: int | None
    value: str | None = None  # measured: as typed
    passed: bool | None = None  # attribute: the worker's judgement
    defect: str | None = None
    confirmed: bool = False


def record(user_id: int, key: str | None, op_id: int, data: ResultInput) -> dict[str, Any]:
    """Record one due inspection. A measured value is judged against the limits at once; a value
    beyond any plausible range is refused with ``Implausible`` unless confirmed."""
    try:
        value = parse_decimal(data.value) if data.value is not None else None
    except ValueError:
        raise ValidationError(_l("Enter a number."), fields={"value": [_l("Enter a number.")]}) from None
    defect = (data.defect or "").strip() or None
    if defect and len(defect) > MAX_DEFECT:
        raise ValidationError(fields={"defect": [_l("At most %(n)s characters.", n=MAX_DEFECT)]})

    def work(s: Session) -> tuple[int, dict[str, Any]]:
        op = s.get(Operation, op_id, with_for_update=True, populate_existing=True)
        if op is None:
            raise NotFound()
        order = s.get(WorkOrder, op.work_order_id)
        assert order is not None
        if order.status not in ACTIVE_STATUSES or op.status not in (OperationStatus.IN_PROGRESS, OperationStatus.PAUSED):
            raise InvalidTransition(_l("Start the operation before inspecting on it."))
        char = next((c for c in op.characteristics if c.id == data.characteristic_id), None)
        if char is None:
            raise NotFound()
        occasion = next((d for d in _due(s, op, order)
                         if d.characteristic.id == char.id and d.frequency.value == data.frequency
                         and d.sample_no == data.sample_no), None)
        if occasion is None:
            raise InvalidTransition(_l("This inspection is not due (already recorded?)."))
        if char.kind == CharacteristicKind.MEASURED:
            if value is None:
                raise ValidationError(_l("Enter the measured value."), fields={"value": [_l("Enter the measured value.")]})
            if abs(value) > Decimal(999999999):
                raise ValidationError(_l("Too large."), fields={"value": [_l("Too large.")]})
            if not data.confirmed and not rules.plausible(value, char.lower_limit, char.upper_limit, char.nominal):
                raise Implausible(_l("%(value)s %(unit)s is far outside %(lower)s – %(upper)s. Is the value right?"),
                                  value=value, unit=char.unit or "", lower=_num(char.lower_limit), upper=_num(char.upper_limit))
            passed = rules.judge(value, char.lower_limit, char.upper_limit)
        else:
            if data.passed is None:
                raise ValidationError(_l("Mark the piece as pass or fail."))
            passed = data.passed
            if not passed and char.defect_list and defect not in char.defect_list:
                raise ValidationError(_l("Choose the defect."), fields={"defect": [_l("Choose the defect.")]})
        kept = value if char.kind == CharacteristicKind.MEASURED else None
        row = InspectionResult(
            operation_id=op.id, work_order_id=order.id, characteristic_id=char.id, frequency=occasion.frequency,
            sample_no=occasion.sample_no, pieces=op.qty_good + op.qty_scrap, value=kept, passed=passed,
            defect=defect if not passed else None, confirmed=data.confirmed and kept is not None,
            user_id=user_id, machine_id=op.machine_id,
        )
        s.add(row)
        s.flush()
        return 201, {"result_id": row.id, "passed": passed, "characteristic": char.name,
                     "value": str(kept) if kept is not None else None}

    payload = {"op": op_id, "char": data.characteristic_id, "freq": data.frequency, "n": data.sample_no,
               "value": str(value) if value is not None else None, "passed": data.passed, "defect": defect,
               "confirmed": data.confirmed}
    _status, body, _replayed = idempotency.run(user_id, key, "quality.inspect", payload, work)
    return body


def _num(value: Decimal | None) -> str:
    return "" if value is None else f"{value.normalize():f}"


def results_of_order(order_id: int) -> list[InspectionResult]:
    return list(session().scalars(
        select(InspectionResult).where(InspectionResult.work_order_id == order_id)
        .options(joinedload(InspectionResult.characteristic), joinedload(InspectionResult.user),
                 joinedload(InspectionResult.operation))
        .order_by(InspectionResult.operation_id, InspectionResult.id)
    ))
