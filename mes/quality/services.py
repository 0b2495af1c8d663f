"""Nonconformance reports: raised from a failed inspection, from scrap, or by hand; disposed by
quality staff (scrap, rework, use as is, return to supplier), which closes them. A rework adds an
operation to the order's remaining route through the orders' operation-change service, in the
same transaction, so the next scheduler run plans it. Everything is audited."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from mes.core import audit, idempotency
from mes.core.db import session, transaction, utcnow
from mes.core.errors import InvalidTransition, NotFound, ValidationError
from mes.core.locking import check_version, touch
from mes.operations import services as operations
from mes.orders import changes
from mes.orders.models import Operation, OperationStatus, ProductionReport, WorkOrder
from mes.orders.services import load as load_order
from mes.quality.models import (
    Disposition,
    InspectionResult,
    NcrSource,
    NcrStatus,
    Nonconformance,
)
from mes.quality.photos import check_photo

MAX_QUANTITY = 1_000_000
THOUSANDTH = Decimal("0.001")


@dataclass
class NcrInput:
    work_order_id: int | None = None
    operation_id: int | None = None
    inspection_result_id: int | None = None
    production_report_id: int | None = None
    quantity: int | None = None
    defect: str | None = None
    description: str | None = None
    photo: bytes | None = None


def _clean(data: NcrInput) -> dict[str, list]:
    errors: dict[str, list] = {}
    if data.quantity is None or not 1 <= data.quantity <= MAX_QUANTITY:
        errors["quantity"] = [_l("Between %(min)s and %(max)s.", min=1, max=MAX_QUANTITY)]
    if data.defect and len(data.defect.strip()) > 120:
        errors["defect"] = [_l("At most %(n)s characters.", n=120)]
    if data.description and len(data.description) > 4000:
        errors["description"] = [_l("At most %(n)s characters.", n=4000)]
    return errors


def raise_ncr(user_id: int, data: NcrInput, key: str | None = None) -> int:
    """A new open nonconformance: from a failed inspection result, from a production report's
    scrap, or by hand on a work order (and optionally one of its operations). With ``key`` (the
    API's Idempotency-Key) a retry returns the first report instead of raising a second."""
    errors = _clean(data)
    photo_type = check_photo(data.photo) if data.photo else None
    if errors:
        raise ValidationError(fields=errors)
    assert data.quantity is not None
    quantity = data.quantity

    def work(s: Any) -> tuple[int, dict[str, Any]]:
        source, order_id, op_id, defect = NcrSource.MANUAL, data.work_order_id, data.operation_id, (data.defect or "").strip()
        if data.inspection_result_id:
            result = s.get(InspectionResult, data.inspection_result_id)
            if result is None:
                raise NotFound()
            if result.passed:
                raise InvalidTransition(_l("This inspection passed: there is nothing nonconforming."))
            source, order_id, op_id = NcrSource.INSPECTION, result.work_order_id, result.operation_id
            defect = defect or result.defect or result.characteristic.name
        elif data.production_report_id:
            report = s.get(ProductionReport, data.production_report_id)
            if report is None:
                raise NotFound()
            if report.scrap_qty <= 0:
                raise InvalidTransition(_l("This report has no scrap."))
            if quantity > report.scrap_qty:
                raise ValidationError(fields={"quantity": [_l("At most %(n)s pieces.", n=report.scrap_qty)]})
            source, order_id, op_id = NcrSource.SCRAP, report.work_order_id, report.operation_id
            defect = defect or report.scrap_reason or ""
        order = s.get(WorkOrder, order_id) if order_id else None
        if order is None:
            raise ValidationError(fields={"work_order_id": [_l("Choose a work order.")]})
        if op_id is not None:
            op = s.get(Operation, op_id)
            if op is None or op.work_order_id != order.id:
                raise ValidationError(fields={"operation_id": [_l("Choose an operation of this work order.")]})
        if not defect:
            raise ValidationError(fields={"defect": [_l("Describe the defect.")]})
        row = Nonconformance(
            source=source, work_order_id=order.id, operation_id=op_id, inspection_result_id=data.inspection_result_id,
            production_report_id=data.production_report_id, quantity=quantity, defect=defect[:120],
            description=(data.description or "").strip() or None, photo=data.photo, photo_type=photo_type,
            created_by_id=user_id, updated_by_id=user_id,
        )
        s.add(row)
        s.flush()
        return 201, {"id": row.id}

    payload = {k: v for k, v in vars(data).items() if k != "photo"}
    payload["photo"] = hashlib.sha256(data.photo).hexdigest() if data.photo else None
    _status, body, _replayed = idempotency.run(user_id, key, "quality.ncr", payload, work)
    return int(body["id"])


def dispose(user_id: int, ncr_id: int, expected_version: int | None, disposition: str | None,
            reason: str | None) -> int | None:
    """Decide what happens to the pieces and close the report (quality staff; the view checks
    the role). Rework adds a rework operation to the order's remaining route; returns its id."""
    try:
        decided = Disposition(disposition or "")
    except ValueError:
        raise ValidationError(fields={"disposition": [_l("Choose a disposition.")]}) from None
    why = (reason or "").strip()
    if decided == Disposition.USE_AS_IS and not why:
        raise ValidationError(_l("Using nonconforming pieces as they are needs a reason."),
                              fields={"reason": [_l("Give a reason for this change.")]})
    if len(why) > 500:
        raise ValidationError(fields={"reason": [_l("At most %(n)s characters.", n=500)]})
    with audit.reason(why or decided.value), transaction() as s:
        ncr = s.get(Nonconformance, ncr_id, with_for_update=True, populate_existing=True)
        if ncr is None:
            raise NotFound()
        check_version(ncr, expected_version)
        if ncr.status != NcrStatus.OPEN:
            raise InvalidTransition(_l("This nonconformance is already closed."))
        rework_id = None
        if decided == Disposition.REWORK:
            rework_id = _add_rework(s, ncr, why).id
        ncr.disposition, ncr.disposition_reason = decided, why or None
        ncr.status, ncr.disposed_by_id, ncr.disposed_at = NcrStatus.CLOSED, user_id, utcnow()
        ncr.rework_operation_id = rework_id
        touch(ncr)
        return rework_id


def _add_rework(s: Any, ncr: Nonconformance, why: str) -> Operation:
    """A rework step like the nonconforming operation, for the pieces of the report: placed right
    after that operation while its successors have not started, else at the end of the route.
    Its run time is scaled to the reworked pieces (the scheduler plans per order quantity)."""
    order = load_order(s, ncr.work_order_id, None)
    source = next((o for o in order.operations if o.id == ncr.operation_id), None)
    if source is None:
        raise InvalidTransition(_l("Rework needs the operation the pieces came from."))
    data = operations.input_from(source)
    share = Decimal(min(ncr.quantity, order.quantity)) / Decimal(order.quantity)
    data.name = f"{_('Rework')} {source.name}"[:120]
    data.run_minutes = (source.run_minutes * share).quantize(THOUSANDTH)
    for m in data.machines:
        m.run_minutes = (m.run_minutes * share).quantize(THOUSANDTH)
    data.inspection_required = False
    data.instructions = f"NCR {ncr.id}: {ncr.defect}" + (f" · {why}" if why else "")
    later = sorted((o for o in order.operations if o.seq > source.seq), key=lambda o: o.seq)
    used = {o.seq for o in order.operations}
    seq = source.seq + 1 if source.seq + 1 not in used and not any(o.status.started for o in later) else None
    return changes.insert_operation_in(s, order, data, seq)


# --- reading -------------------------------------------------------------------------------------------


def ncrs(status: NcrStatus | None = None, limit: int = 200) -> list[Nonconformance]:
    query = select(Nonconformance).options(joinedload(Nonconformance.work_order), joinedload(Nonconformance.operation),
                                           joinedload(Nonconformance.created_by))
    if status:
        query = query.where(Nonconformance.status == status)
    return list(session().scalars(query.order_by(Nonconformance.status.desc(), Nonconformance.id.desc()).limit(limit)))


def ncr(ncr_id: int) -> Nonconformance:
    row = session().get(Nonconformance, ncr_id)
    if row is None:
        raise NotFound()
    return row


def ncrs_of_order(order_id: int) -> list[Nonconformance]:
    return list(session().scalars(select(Nonconformance).where(Nonconformance.work_order_id == order_id)
                                  .options(joinedload(Nonconformance.operation), joinedload(Nonconformance.disposed_by))
                                  .order_by(Nonconformance.id)))


def failed_results(limit: int = 50) -> list[InspectionResult]:
    """Recent failed inspections without a nonconformance yet (quality raises one from here)."""
    raised = select(Nonconformance.inspection_result_id).where(Nonconformance.inspection_result_id.is_not(None))
    return list(session().scalars(
        select(InspectionResult).where(InspectionResult.passed.is_(False), InspectionResult.id.not_in(raised))
        .options(joinedload(InspectionResult.characteristic), joinedload(InspectionResult.operation)
                 .joinedload(Operation.work_order), joinedload(InspectionResult.user))
        .order_by(InspectionResult.id.desc()).limit(limit)
    ).unique())


def unraised_scrap(limit: int = 50) -> list[ProductionReport]:
    """Recent reports with scrap not yet taken into a nonconformance."""
    raised = select(Nonconformance.production_report_id).where(Nonconformance.production_report_id.is_not(None))
    return list(session().scalars(
        select(ProductionReport).where(ProductionReport.scrap_qty > 0, ProductionReport.id.not_in(raised))
        .options(joinedload(ProductionReport.operation).joinedload(Operation.work_order), joinedload(ProductionReport.user))
        .order_by(ProductionReport.id.desc()).limit(limit)
    ).unique())


def order_operations(order_id: int | None) -> list[Operation]:
    if not order_id:
        return []
    return list(session().scalars(select(Operation).where(Operation.work_order_id == order_id,
                                                          Operation.status != OperationStatus.SKIPPED)
                                  .order_by(Operation.seq)))
