"""What quality staff analyse: scrap and defects counted by reason, product, machine or week
(for a Pareto), and the measured values of one characteristic across orders (for its control
chart and capability)."""
from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from mes.core.clock import plant_tz
from mes.core.db import session
from mes.core.errors import NotFound
from mes.machines.models import Machine, Reason, ReasonKind
from mes.operations.models import CharacteristicKind
from mes.orders.models import (
    Operation,
    OperationCharacteristic,
    ProductionReport,
    WorkOrder,
)
from mes.quality import spc
from mes.quality.models import InspectionResult, Nonconformance
from mes.routing.models import Product, RoutingCharacteristic, RoutingOperation

BY = ("reason", "product", "machine", "week")
KINDS = ("scrap", "defects")
MAX_POINTS = 250


def week_of(moment: dt.datetime) -> str:
    year, week, _day = moment.astimezone(plant_tz()).isocalendar()
    return f"{year}-W{week:02d}"


def counts(kind: str, by: str, start: dt.datetime, end: dt.datetime,
           reason_label: Callable[[Reason], str]) -> Counter[str]:
    """Pieces per group in [start, end): scrap reported (corrections included), or defects
    (nonconforming pieces, plus failed inspections no report was raised for)."""
    s = session()
    machines = {m.id: m.code for m in s.scalars(select(Machine))}
    out: Counter[str] = Counter()
    if kind == "scrap":
        reasons = {r.code: reason_label(r) for r in s.scalars(select(Reason).where(Reason.kind == ReasonKind.SCRAP))}
        rows = s.execute(
            select(ProductionReport.scrap_qty, ProductionReport.scrap_reason, ProductionReport.machine_id,
                   ProductionReport.reported_at, Product.code)
            .join(WorkOrder, WorkOrder.id == ProductionReport.work_order_id).join(Product, Product.id == WorkOrder.product_id)
            .where(ProductionReport.scrap_qty != 0, ProductionReport.reported_at >= start, ProductionReport.reported_at < end)
        ).all()
        for qty, reason, machine_id, at, product in rows:
            label = {"reason": reasons.get(reason or "", reason or "—"), "product": product,
                     "machine": machines.get(machine_id, "—"), "week": week_of(at)}[by]
            out[label] += qty
        return out
    ncr_rows = s.execute(
        select(Nonconformance.quantity, Nonconformance.defect, Operation.machine_id, Nonconformance.created_at,
               Product.code)
        .join(WorkOrder, WorkOrder.id == Nonconformance.work_order_id).join(Product, Product.id == WorkOrder.product_id)
        .outerjoin(Operation, Operation.id == Nonconformance.operation_id)
        .where(Nonconformance.created_at >= start, Nonconformance.created_at < end)
    ).all()
    raised = select(Nonconformance.inspection_result_id).where(Nonconformance.inspection_result_id.is_not(None))
    result_rows = s.execute(
        select(InspectionResult.defect, OperationCharacteristic.name, InspectionResult.machine_id,
               InspectionResult.recorded_at, Product.code)
        .join(OperationCharacteristic, OperationCharacteristic.id == InspectionResult.characteristic_id)
        .join(WorkOrder, WorkOrder.id == InspectionResult.work_order_id).join(Product, Product.id == WorkOrder.product_id)
        .where(InspectionResult.passed.is_(False), InspectionResult.id.not_in(raised),
               InspectionResult.recorded_at >= start, InspectionResult.recorded_at < end)
    ).all()
    for qty, defect, machine_id, at, product in ncr_rows:
        out[{"reason": defect, "product": product, "machine": machines.get(machine_id, "—"), "week": week_of(at)}[by]] += qty
    for defect, name, machine_id, at, product in result_rows:
        label = {"reason": defect or name, "product": product, "machine": machines.get(machine_id, "—"),
                 "week": week_of(at)}[by]
        out[label] += 1
    return out


def charted_characteristics() -> list[tuple[RoutingCharacteristic, int]]:
    """Measured characteristics of routings with how many values were recorded against them."""
    s = session()
    rows = s.scalars(
        select(RoutingCharacteristic).where(RoutingCharacteristic.kind == CharacteristicKind.MEASURED)
        .options(joinedload(RoutingCharacteristic.operation).joinedload(RoutingOperation.routing))
        .order_by(RoutingCharacteristic.id)
    ).all()
    values = Counter(s.scalars(
        select(OperationCharacteristic.source_characteristic_id)
        .join(InspectionResult, InspectionResult.characteristic_id == OperationCharacteristic.id)
        .where(InspectionResult.value.is_not(None))
    ).all())
    return [(r, values.get(r.id, 0)) for r in rows]


@dataclass
class ControlData:
    characteristic: RoutingCharacteristic
    product: Product
    results: list[InspectionResult]
    chart: spc.Chart | None
    capability: spc.Capability | None
    subgroup: int


def control_data(characteristic_id: int, subgroup: int = 1) -> ControlData:
    """The latest measured values of a routing characteristic over all orders, charted as
    individuals (subgroup 1) or X-bar/R of consecutive subgroups, with Cp/Cpk."""
    s = session()
    char = s.get(RoutingCharacteristic, characteristic_id)
    if char is None:
        raise NotFound()
    product = char.operation.routing.product
    results = list(s.scalars(
        select(InspectionResult)
        .join(OperationCharacteristic, OperationCharacteristic.id == InspectionResult.characteristic_id)
        .where(OperationCharacteristic.source_characteristic_id == char.id, InspectionResult.value.is_not(None))
        .options(joinedload(InspectionResult.user)).order_by(InspectionResult.recorded_at.desc(), InspectionResult.id.desc())
        .limit(MAX_POINTS)
    ))[::-1]
    values = [float(r.value) for r in results if r.value is not None]
    chart = None
    sigma = None
    if subgroup > 1 and len(values) >= 2 * subgroup:
        groups = [values[i:i + subgroup] for i in range(0, len(values) - len(values) % subgroup, subgroup)]
        chart = spc.xbar_r(groups)
        sigma = chart.sigma * (subgroup ** 0.5)
    elif len(values) >= 2:
        subgroup = 1
        chart = spc.individuals(values)
        sigma = chart.sigma
    lower = float(char.lower_limit) if char.lower_limit is not None else None
    upper = float(char.upper_limit) if char.upper_limit is not None else None
    capability = spc.capability(values, lower, upper, sigma) if chart is not None else None
    return ControlData(char, product, results, chart, capability, subgroup)
