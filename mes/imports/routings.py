"""Importing routings: each product's rows become a new routing version (and the product itself
when it is new), checked with the routing services' own rules and written through them."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mes.core.errors import DomainError, ValidationError
from mes.imports.cells import (
    parse_bool,
    parse_int,
    parse_machines,
    parse_minutes_cell,
    parse_predecessors,
    text_of,
)
from mes.imports.reading import Table
from mes.imports.results import RowError, row_error
from mes.imports.rows import Codes, Rollback, RowErrors, domain_errors, products_by_code
from mes.machines.models import Machine, WorkCenter
from mes.operations import graph
from mes.operations import services as operation_services
from mes.routing import services as routing_services
from mes.routing.models import (
    Product,
    ProductFamily,
    Routing,
    RoutingEdge,
    RoutingOperation,
    RoutingOperationMachine,
    RoutingStatus,
)
from mes.operations.rules import MachineTime, OperationInput, validate_operation

MAX_SEQ = 999_999
MAX_CODE = 64
MAX_PRODUCT_NAME = 200

OPERATION_FIELDS = {
    "name": "operation", "work_center_id": "work_center", "setup_minutes": "setup_min", "run_minutes": "run_min",
    "machines": "machines", "machine-*": "machines", "transfer_batch": "transfer_batch", "drawing": "drawing",
    "program_no": "program", "predecessors": "predecessors", "seq": "seq", "instructions": "instructions",
}


@dataclass
class _Op:
    row: int
    seq: int | None
    data: OperationInput


@dataclass
class _RoutingPlan:
    code: str
    first_row: int
    product: Product | None = None
    name: str | None = None
    name_row: int | None = None
    family: ProductFamily | None = None
    family_row: int | None = None
    family_error: bool = False
    ops: list[_Op] = field(default_factory=list)


@dataclass
class Plan:
    """Every problem of every row, or the routing versions to create."""

    errors: list[RowError] = field(default_factory=list)
    routings: list[_RoutingPlan] = field(default_factory=list)


def check(s: Session, table: Table, release: bool) -> Plan:
    """Check every row against the plant's work centers, machines, families and products."""
    plan = Plan()
    centers = Codes(s.scalars(select(WorkCenter)).all())
    machines = Codes(s.scalars(select(Machine)).all())
    families = Codes(s.scalars(select(ProductFamily)).all())
    products = products_by_code(s, {text_of(r.get("product")) for _, r in table.rows} - {""})
    groups: dict[str, _RoutingPlan] = {}
    seen_seq: dict[tuple[str, int], int] = {}

    for number, row in table.rows:
        errors = RowErrors(table, number, plan.errors)
        code = text_of(row.get("product"))
        if not code:
            errors.add("product", _l("This field is required."))
            continue
        product = products.get(code)
        key = product.code if product else code
        group = groups.get(key)
        if group is None:
            group = groups[key] = _RoutingPlan(code=key, first_row=number, product=product)
        _collect_product_fields(group, row, errors, families)

        seq = errors.cell("seq", parse_int, row.get("seq"))
        if seq is None and "seq" not in errors.columns:
            errors.add("seq", _l("This field is required."))
        elif seq is not None and not 0 < seq <= MAX_SEQ:
            errors.add("seq", _l("Enter a number between 1 and %(max)s.", max=MAX_SEQ))
            seq = None
        elif seq is not None:
            first = seen_seq.setdefault((key, seq), number)
            if first != number:
                errors.add("seq", _l("Operation %(seq)s of product %(code)s is already in row %(row)s.",
                                     seq=seq, code=key, row=first))
                seq = None

        wc_code = text_of(row.get("work_center"))
        center = centers.get(wc_code) if wc_code else None
        if wc_code and center is None:
            errors.add("work_center", _l("Unknown work center %(code)s.", code=wc_code))
        setup = errors.cell("setup_min", parse_minutes_cell, row.get("setup_min"), Decimal(0))
        run = errors.cell("run_min", parse_minutes_cell, row.get("run_min"), Decimal(0))

        entries = errors.cell("machines", parse_machines, row.get("machines"), [])
        chosen: list[MachineTime] = []
        labels: dict[str, str] = {}
        unknown = []
        for entry in entries:
            machine = machines.get(entry.code)
            if machine is None:
                unknown.append(entry.code)
                continue
            chosen.append(MachineTime(machine.id, setup if entry.setup is None else entry.setup,
                                      run if entry.run is None else entry.run))
            labels[f"machine-{machine.id}-setup_minutes"] = labels[f"machine-{machine.id}-run_minutes"] = machine.code
        if unknown:
            errors.add("machines", _l("Unknown machine %(codes)s.", codes=", ".join(unknown)))

        predecessors = errors.cell("predecessors", parse_predecessors, row.get("predecessors"))
        data = OperationInput(
            name=text_of(row.get("operation")),
            work_center_id=center.id if center else None,
            setup_minutes=setup,
            run_minutes=run,
            machines=chosen,
            instructions=text_of(row.get("instructions")) or None,
            transfer_batch=errors.cell("transfer_batch", parse_int, row.get("transfer_batch")),
            inspection_required=errors.cell("inspection", parse_bool, row.get("inspection"), False),
            drawing=text_of(row.get("drawing")) or None,
            program_no=text_of(row.get("program")) or None,
            follows_previous=predecessors is None,
            predecessors=predecessors or [],
        )
        fields = validate_operation(data)
        if not fields:
            try:
                operation_services.validate_input(s, data)
            except ValidationError as exc:
                fields = exc.fields
        errors.add_fields(fields, OPERATION_FIELDS, labels)
        group.ops.append(_Op(number, seq, data))

    for group in groups.values():
        _check_product(table, group, plan.errors)
        _check_precedence(table, group, plan.errors)
    plan.routings = list(groups.values())
    return plan


def _collect_product_fields(group: _RoutingPlan, row: dict[str, Any], errors: RowErrors, families: Codes) -> None:
    """A new product's name and family may be on any of its rows, but must agree between them.
    For a product that exists they are not needed and not checked."""
    if group.product is not None:
        return
    name = text_of(row.get("product_name"))
    if name:
        if group.name is None:
            group.name, group.name_row = name, errors.row
        elif name != group.name:
            errors.add("product_name", _l("Differs from the name in row %(row)s.", row=group.name_row))
    family_code = text_of(row.get("family"))
    if family_code:
        family = families.get(family_code)
        if family is None:
            errors.add("family", _l("Unknown product family %(code)s.", code=family_code))
            group.family_error = True
        elif group.family is None:
            group.family, group.family_row = family, errors.row
        elif family.id != group.family.id:
            errors.add("family", _l("Differs from the family in row %(row)s.", row=group.family_row))


def _check_product(table: Table, group: _RoutingPlan, sink: list[RowError]) -> None:
    if group.product is not None:
        return
    row = group.first_row
    if len(group.code) > MAX_CODE:
        sink.append(row_error(row, table.column("product"), _l("At most %(n)s characters.", n=MAX_CODE)))
    if not group.name:
        sink.append(row_error(row, table.column("product_name"), _l(
            "Product %(code)s does not exist. Give its name and family to create it.", code=group.code)))
    elif len(group.name) > MAX_PRODUCT_NAME:
        sink.append(row_error(group.name_row, table.column("product_name"), _l("At most %(n)s characters.", n=MAX_PRODUCT_NAME)))
    if group.family is None and not group.family_error:
        sink.append(row_error(row, table.column("family"), _l(
            "Product %(code)s does not exist. Give its product family to create it.", code=group.code)))


def _check_precedence(table: Table, group: _RoutingPlan, sink: list[RowError]) -> None:
    """Predecessors name operations of the same product, and the graph has no cycle."""
    column = table.column("predecessors")
    known = {op.seq for op in group.ops if op.seq is not None}
    nodes = []
    for op in group.ops:
        if op.seq is None:
            continue
        valid = []
        for p in op.data.predecessors:
            if p == op.seq:
                sink.append(row_error(op.row, column, _l("An operation cannot precede itself.")))
            elif p not in known:
                sink.append(row_error(op.row, column, _l("Product %(code)s has no operation %(seq)s.", code=group.code, seq=p)))
            else:
                valid.append(p)
        nodes.append(graph.Node(op.seq, op.seq, op.data.follows_previous, tuple(valid)))
    cycle = graph.find_cycle([n.key for n in nodes], graph.effective_edges(nodes))
    if cycle:
        rows = {op.seq: op.row for op in group.ops}
        path = " → ".join(str(k) for k in cycle)
        for seq in sorted(set(cycle)):
            sink.append(row_error(rows[seq], column, _l("The predecessors form a cycle: %(ops)s.", ops=path)))


def summary(s: Session, plan: Plan, release: bool) -> list[dict[str, Any]]:
    """A line per routing version the file makes."""
    out = []
    for g in plan.routings:
        last = 0
        if g.product is not None:
            last = s.scalar(select(func.max(Routing.version_no)).where(Routing.product_id == g.product.id)) or 0
        out.append({
            "product": g.code, "product_name": g.product.name if g.product else g.name,
            "new_product": g.product is None, "version_no": last + 1, "operations": len(g.ops),
            "status": (RoutingStatus.RELEASED if release else RoutingStatus.DRAFT).value, "routing_id": None,
        })
    return out


def write(s: Session, table: Table, plan: Plan, release: bool, filename: str) -> list[dict[str, Any]]:
    """Create the routing versions (and new products); Rollback when a service refuses one."""
    return [_write_routing(s, table, g, release, filename) for g in plan.routings]


def _write_routing(s: Session, table: Table, group: _RoutingPlan, release: bool, filename: str) -> dict[str, Any]:
    product = group.product
    if product is None:
        assert group.name and group.family  # checked
        product = Product(code=group.code, name=group.name, family_id=group.family.id)
        s.add(product)
        s.flush()
    try:
        routing_id = routing_services.create_version_in(
            s, product.id, copy=False, note=_("Imported from %(file)s.", file=filename))
        routing = s.get(Routing, routing_id)
        assert routing is not None
        by_seq: dict[int, RoutingOperation] = {}
        for op in sorted(group.ops, key=lambda o: o.seq or 0):
            d = op.data
            row = RoutingOperation(
                seq=op.seq, name=d.name.strip(), instructions=d.instructions, work_center_id=d.work_center_id,
                setup_minutes=d.setup_minutes, run_minutes=d.run_minutes, transfer_batch=d.transfer_batch,
                inspection_required=d.inspection_required, drawing=d.drawing, program_no=d.program_no,
                follows_previous=d.follows_previous,
                machines=[RoutingOperationMachine(machine_id=m.machine_id, setup_minutes=m.setup_minutes,
                                                  run_minutes=m.run_minutes) for m in d.machines],
            )
            routing.operations.append(row)
            by_seq[op.seq or 0] = row
        s.flush()
        for op in group.ops:
            for p in sorted(set(op.data.predecessors)):
                routing.edges.append(RoutingEdge(routing_id=routing.id, predecessor_id=by_seq[p].id,
                                                 successor_id=by_seq[op.seq or 0].id))
        s.flush()
        if release:
            routing_services.release_in(s, routing_id)
    except DomainError as exc:
        raise Rollback(domain_errors(table, group.first_row, exc, OPERATION_FIELDS)) from None
    return {
        "product": product.code, "product_name": product.name, "new_product": group.product is None,
        "version_no": routing.version_no, "operations": len(group.ops), "status": routing.status.value,
        "routing_id": routing.id,
    }
