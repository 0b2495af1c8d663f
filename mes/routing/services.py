"""Use cases on products, routings and setup matrices: one function per planner action, each
owning its transaction. Only draft routings are edited; releasing one retires the version in force."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from mes.core.audit import check_version, current_actor, touch
from mes.core.clock import plant_today
from mes.core.db import transaction
from mes.core.errors import InvalidTransition, NotFound, ValidationError
from mes.machines.models import Machine, MachineStatus, WorkCenter
from mes.routing import graph
from mes.routing.models import (
    Product,
    ProductFamily,
    Routing,
    RoutingEdge,
    RoutingOperation,
    RoutingOperationMachine,
    RoutingStatus,
    SetupMatrixEntry,
)
from mes.routing.rules import MachineTime, OperationInput, validate_operation

SEQ_STEP = 10


def _load(s: Session, routing_id: int, expected_version: int | None, *, draft: bool = True) -> Routing:
    routing = s.scalars(
        select(Routing)
        .where(Routing.id == routing_id)
        .options(selectinload(Routing.operations).selectinload(RoutingOperation.machines), selectinload(Routing.edges))
        .with_for_update()
    ).one_or_none()
    if routing is None:
        raise NotFound()
    check_version(routing, expected_version)
    if draft and routing.status != RoutingStatus.DRAFT:
        raise InvalidTransition(_l("Only a draft routing can be changed. Create a new version to change it."))
    return routing


def nodes_of(ops: Sequence[RoutingOperation], edges: Sequence[RoutingEdge]) -> list[graph.Node[int]]:
    preds: dict[int, list[int]] = {}
    for e in edges:
        preds.setdefault(e.successor_id, []).append(e.predecessor_id)
    return [graph.Node(op.id, op.seq, op.follows_previous, tuple(sorted(preds.get(op.id, [])))) for op in ops]


def _check_graph(routing: Routing) -> None:
    nodes = nodes_of(routing.operations, routing.edges)
    cycle = graph.find_cycle([n.key for n in nodes], graph.effective_edges(nodes))
    if cycle:
        seqs = {op.id: op.seq for op in routing.operations}
        raise ValidationError(
            _l("The predecessors form a cycle: %(ops)s."),
            fields={"predecessors": [_l("The predecessors form a cycle.")]},
            ops=" → ".join(str(seqs[k]) for k in cycle),
        )


def _check_references(s: Session, data: OperationInput) -> dict[str, list]:
    errors: dict[str, list] = {}
    if data.work_center_id and s.get(WorkCenter, data.work_center_id) is None:
        errors["work_center_id"] = [_l("Unknown work center.")]
    for m in data.machines:
        machine = s.get(Machine, m.machine_id)
        if machine is None:
            errors.setdefault("machines", []).append(_l("Unknown machine."))
        elif machine.status == MachineStatus.RETIRED:
            errors.setdefault("machines", []).append(_l("Machine %(code)s is retired.", code=machine.code))
    if not data.machines and data.work_center_id and not errors:
        usable = s.scalar(
            select(func.count()).select_from(Machine).where(
                Machine.work_center_id == data.work_center_id, Machine.status != MachineStatus.RETIRED
            )
        )
        if not usable:
            errors["machines"] = [_l("No machine can do this operation: the work center has no machines. Pick machines.")]
    return errors


def validate_input(s: Session, data: OperationInput) -> None:
    errors = validate_operation(data)
    if not errors:
        errors = _check_references(s, data)
    if errors:
        raise ValidationError(fields=errors)


def apply_input(op: Any, data: OperationInput, machine_row: type) -> None:
    """Write an operation's data onto a routing or work order operation (``machine_row`` is the
    eligible-machine class of that kind), changing only the machine rows that differ."""
    op.name = data.name.strip()
    op.instructions = (data.instructions or "").strip() or None
    op.work_center_id = data.work_center_id
    op.setup_minutes = data.setup_minutes
    op.run_minutes = data.run_minutes
    op.transfer_batch = data.transfer_batch
    op.inspection_required = data.inspection_required
    op.drawing = (data.drawing or "").strip() or None
    op.program_no = (data.program_no or "").strip() or None
    op.follows_previous = data.follows_previous
    existing = {m.machine_id: m for m in op.machines}
    wanted = {m.machine_id: m for m in data.machines}
    op.machines = [m for m in op.machines if m.machine_id in wanted]
    for machine_id, m in wanted.items():
        row = existing.get(machine_id)
        if row is None:
            op.machines.append(machine_row(machine_id=machine_id, setup_minutes=m.setup_minutes, run_minutes=m.run_minutes))
        elif (row.setup_minutes, row.run_minutes) != (m.setup_minutes, m.run_minutes):
            row.setup_minutes, row.run_minutes = m.setup_minutes, m.run_minutes


def set_predecessors(s: Session, owner: Any, op: Any, data: OperationInput, make_edge: Callable[[int, int], Any]) -> None:
    """Replace ``op``'s explicit predecessors (sequence numbers in ``data``) in ``owner.edges``;
    ``owner`` is a routing or a work order, ``make_edge(pred_id, succ_id)`` builds its edge row."""
    by_seq = {o.seq: o for o in owner.operations}
    if data.follows_previous and not any(e.successor_id == op.id for e in owner.edges):
        return
    owner.edges = [e for e in owner.edges if e.successor_id != op.id]
    s.flush()  # the unit of work inserts before it deletes: drop the old edges first
    if data.follows_previous:
        return
    for seq in sorted(set(data.predecessors)):
        pred = by_seq.get(seq)
        if pred is None:
            raise ValidationError(fields={"predecessors": [_l("There is no operation %(seq)s.", seq=seq)]})
        if pred is op:
            raise ValidationError(fields={"predecessors": [_l("An operation cannot precede itself.")]})
        owner.edges.append(make_edge(pred.id, op.id))


_COPIED = ("seq", "name", "instructions", "work_center_id", "setup_minutes", "run_minutes", "transfer_batch",
           "inspection_required", "drawing", "program_no", "follows_previous")


def copy_operation(source: Any, op_class: type, machine_row: type, **overrides: Any) -> Any:
    """A new operation of ``op_class`` with ``source``'s data and eligible machines (routing to
    routing, routing to work order, work order to a split lot)."""
    fields = {name: getattr(source, name) for name in _COPIED}
    fields.update(overrides)
    return op_class(**fields, machines=[
        machine_row(machine_id=m.machine_id, setup_minutes=m.setup_minutes, run_minutes=m.run_minutes) for m in source.machines
    ])


def _apply(op: RoutingOperation, data: OperationInput) -> None:
    apply_input(op, data, RoutingOperationMachine)


def _set_predecessors(s: Session, routing: Routing, op: RoutingOperation, data: OperationInput) -> None:
    set_predecessors(s, routing, op, data,
                     lambda pred, succ: RoutingEdge(routing_id=routing.id, predecessor_id=pred, successor_id=succ))


# --- routing versions ---------------------------------------------------------------------------


def create_version(product_id: int, copy_from_id: int | None = None, note: str | None = None) -> int:
    """A new draft version of a product's routing, copied from ``copy_from_id`` (or the newest)."""
    with transaction() as s:
        return create_version_in(s, product_id, copy_from_id, note)


def create_version_in(s: Session, product_id: int, copy_from_id: int | None = None, note: str | None = None,
                      copy: bool = True) -> int:
    if s.get(Product, product_id) is None:
        raise NotFound()
    source = None
    if copy_from_id:
        source = s.get(Routing, copy_from_id)
        if source is None or source.product_id != product_id:
            raise ValidationError(fields={"copy_from": [_l("That routing belongs to another product.")]})
    elif copy:
        source = s.scalar(select(Routing).where(Routing.product_id == product_id).order_by(Routing.version_no.desc()).limit(1))
    last = s.scalar(select(func.max(Routing.version_no)).where(Routing.product_id == product_id)) or 0
    routing = Routing(product_id=product_id, version_no=last + 1, status=RoutingStatus.DRAFT, note=note,
                      updated_by_id=current_actor().user_id)
    s.add(routing)
    s.flush()
    if source is not None:
        _copy_operations(s, source, routing)
    return routing.id


def _copy_operations(s: Session, source: Routing, target: Routing) -> None:
    mapping: dict[int, RoutingOperation] = {}
    for op in source.operations:
        new = copy_operation(op, RoutingOperation, RoutingOperationMachine)
        target.operations.append(new)
        mapping[op.id] = new
    s.flush()
    for e in source.edges:
        target.edges.append(RoutingEdge(routing_id=target.id, predecessor_id=mapping[e.predecessor_id].id, successor_id=mapping[e.successor_id].id))


def update_header(routing_id: int, expected_version: int | None, effective_from: dt.date | None, note: str | None) -> None:
    with transaction() as s:
        routing = _load(s, routing_id, expected_version)
        routing.effective_from = effective_from
        routing.note = (note or "").strip() or None
        touch(routing)


def add_operation(routing_id: int, expected_version: int | None, data: OperationInput, seq: int | None = None) -> int:
    with transaction() as s:
        routing = _load(s, routing_id, expected_version)
        op_id = add_operation_in(s, routing, data, seq)
        touch(routing)
        return op_id


def choose_seq(used: set[int], seq: int | None) -> int:
    """The sequence number for a new operation: ``seq`` if free and positive, else the next step."""
    if seq is None:
        return (max(used) if used else 0) + SEQ_STEP
    if seq in used:
        raise ValidationError(fields={"seq": [_l("Sequence number %(seq)s is taken.", seq=seq)]})
    if seq <= 0:
        raise ValidationError(fields={"seq": [_l("Must be a positive number.")]})
    return seq


def add_operation_in(s: Session, routing: Routing, data: OperationInput, seq: int | None = None) -> int:
    validate_input(s, data)
    seq = choose_seq({o.seq for o in routing.operations}, seq)
    op = RoutingOperation(seq=seq, name="", work_center_id=data.work_center_id)
    _apply(op, data)
    routing.operations.append(op)
    s.flush()
    _set_predecessors(s, routing, op, data)
    s.flush()
    s.refresh(routing, ["operations", "edges"])
    _check_graph(routing)
    return op.id


def create_version_with_operations(product_id: int, operations: list[tuple[int | None, OperationInput]],
                                   note: str | None = None) -> int:
    """A new draft holding exactly ``operations`` (seq, data); predecessors may name any of them."""
    with transaction() as s:
        routing_id = create_version_in(s, product_id, note=note, copy=False)
        routing = _load(s, routing_id, None)
        explicit = []
        for seq, data in operations:
            chained = OperationInput(**{**data.__dict__, "follows_previous": True, "predecessors": []})
            op_id = add_operation_in(s, routing, chained, seq)
            if not data.follows_previous:
                explicit.append((op_id, data))
        for op_id, data in explicit:
            op = next(o for o in routing.operations if o.id == op_id)
            op.follows_previous = False
            _set_predecessors(s, routing, op, data)
        s.flush()
        s.refresh(routing, ["operations", "edges"])
        _check_graph(routing)
        return routing_id


def update_operation(routing_id: int, operation_id: int, expected_version: int | None, data: OperationInput) -> None:
    with transaction() as s:
        routing = _load(s, routing_id, expected_version)
        op = next((o for o in routing.operations if o.id == operation_id), None)
        if op is None:
            raise NotFound()
        validate_input(s, data)
        _apply(op, data)
        _set_predecessors(s, routing, op, data)
        s.flush()
        _check_graph(routing)
        touch(routing)


def remove_operation(routing_id: int, operation_id: int, expected_version: int | None) -> None:
    with transaction() as s:
        routing = _load(s, routing_id, expected_version)
        op = next((o for o in routing.operations if o.id == operation_id), None)
        if op is None:
            raise NotFound()
        # Operations that waited for this one now wait for its predecessors.
        nodes = nodes_of(routing.operations, routing.edges)
        bridged = graph.bypass(graph.effective_edges(nodes), {op.id})
        routing.operations.remove(op)
        _rewrite_explicit_edges(s, routing, bridged)
        s.flush()
        touch(routing)


def _rewrite_explicit_edges(s: Session, routing: Routing, edges: list[tuple[int, int]]) -> None:
    ordered = sorted(routing.operations, key=lambda o: o.seq)
    encoded = graph.encode([o.id for o in ordered], edges)
    routing.edges = []
    s.flush()  # the unit of work inserts before it deletes: clear the old edges first
    for op in ordered:
        op.follows_previous, preds = encoded[op.id]
        routing.edges.extend(RoutingEdge(routing_id=routing.id, predecessor_id=p, successor_id=op.id) for p in preds)


def move_operation(routing_id: int, operation_id: int, expected_version: int | None, direction: int) -> None:
    """Swap an operation with its neighbour in sequence (``direction`` -1 up, +1 down)."""
    with transaction() as s:
        routing = _load(s, routing_id, expected_version)
        ops = sorted(routing.operations, key=lambda o: o.seq)
        index = next((i for i, o in enumerate(ops) if o.id == operation_id), None)
        if index is None:
            raise NotFound()
        other = index + (1 if direction > 0 else -1)
        if not 0 <= other < len(ops):
            return
        a, b = ops[index], ops[other]
        seq_a, seq_b = a.seq, b.seq
        # Two steps because (routing_id, seq) is unique.
        a.seq = -seq_a
        s.flush()
        b.seq = seq_a
        s.flush()
        a.seq = seq_b
        s.flush()
        _check_graph(routing)
        touch(routing)


def release(routing_id: int, expected_version: int | None, effective_from: dt.date | None = None) -> None:
    """Put a draft in force from ``effective_from`` (today by default). Versions it supersedes
    become obsolete once it is effective."""
    with transaction() as s:
        release_in(s, routing_id, expected_version, effective_from)


def release_in(s: Session, routing_id: int, expected_version: int | None = None,
               effective_from: dt.date | None = None) -> None:
    routing = _load(s, routing_id, expected_version)
    if not routing.operations:
        raise ValidationError(_l("A routing needs at least one operation before it can be released."))
    for op in routing.operations:
        data = OperationInput(name=op.name, work_center_id=op.work_center_id, setup_minutes=op.setup_minutes,
                              run_minutes=op.run_minutes, machines=[_mt(m) for m in op.machines])
        errors = validate_operation(data) or _check_references(s, data)
        if errors:
            raise ValidationError(
                _l("Operation %(seq)s is incomplete: %(problem)s"), seq=op.seq,
                problem="; ".join(str(m) for msgs in errors.values() for m in msgs),
            )
    _check_graph(routing)
    today = plant_today()
    routing.status = RoutingStatus.RELEASED
    routing.effective_from = effective_from or today
    touch(routing)
    s.flush()
    _retire_superseded(s, routing.product_id, today)


def _retire_superseded(s: Session, product_id: int, today: dt.date) -> None:
    in_force = routing_in_force(s, product_id, today)
    if in_force is None:
        return
    for old in s.scalars(
        select(Routing).where(Routing.product_id == product_id, Routing.status == RoutingStatus.RELEASED, Routing.id != in_force.id)
    ):
        if old.effective_from is None or (old.effective_from, old.version_no) < (in_force.effective_from, in_force.version_no):
            old.status = RoutingStatus.OBSOLETE
            touch(old)


def routing_in_force(s: Session, product_id: int, on: dt.date) -> Routing | None:
    return s.scalar(
        select(Routing)
        .where(Routing.product_id == product_id, Routing.status == RoutingStatus.RELEASED, Routing.effective_from <= on)
        .order_by(Routing.effective_from.desc(), Routing.version_no.desc())
        .limit(1)
    )


def _mt(m: RoutingOperationMachine) -> MachineTime:
    return MachineTime(m.machine_id, m.setup_minutes, m.run_minutes)


def make_obsolete(routing_id: int, expected_version: int | None) -> None:
    with transaction() as s:
        routing = _load(s, routing_id, expected_version, draft=False)
        if routing.status == RoutingStatus.OBSOLETE:
            return
        routing.status = RoutingStatus.OBSOLETE
        touch(routing)


# --- products and setup matrices ---------------------------------------------------------------


@dataclass
class ProductInput:
    code: str
    name: str
    family_id: int
    drawing: str | None = None


def create_product(data: ProductInput) -> int:
    with transaction() as s:
        errors: dict[str, list] = {}
        if not data.code.strip():
            errors["code"] = [_l("This field is required.")]
        elif s.scalar(select(Product.id).where(Product.code == data.code.strip())):
            errors["code"] = [_l("This code is taken.")]
        if not data.name.strip():
            errors["name"] = [_l("This field is required.")]
        if s.get(ProductFamily, data.family_id) is None:
            errors["family_id"] = [_l("Unknown product family.")]
        if errors:
            raise ValidationError(fields=errors)
        product = Product(code=data.code.strip(), name=data.name.strip(), family_id=data.family_id, drawing=data.drawing)
        s.add(product)
        s.flush()
        return product.id


def set_changeovers(work_center_id: int, values: dict[tuple[int, int], int | None], default: int | None = None) -> None:
    """Save a work center's setup matrix: minutes per (from family, to family); None clears a cell
    (the work center's default applies)."""
    errors = {f"m-{a}-{b}": [_l("Between 0 and 10080 minutes.")] for (a, b), v in values.items()
              if v is not None and not 0 <= v <= 10080}
    if default is not None and not 0 <= default <= 10080:
        errors["default"] = [_l("Between 0 and 10080 minutes.")]
    if errors:
        raise ValidationError(fields=errors)
    with transaction() as s:
        center = s.get(WorkCenter, work_center_id)
        if center is None:
            raise NotFound()
        if default is not None:
            center.default_changeover_minutes = default
        families = set(s.scalars(select(ProductFamily.id)))
        rows = {(r.from_family_id, r.to_family_id): r for r in
                s.scalars(select(SetupMatrixEntry).where(SetupMatrixEntry.work_center_id == work_center_id))}
        for (a, b), minutes in values.items():
            if a not in families or b not in families:
                raise NotFound()
            row = rows.get((a, b))
            if minutes is None:
                if row is not None:
                    s.delete(row)
            elif row is None:
                s.add(SetupMatrixEntry(work_center_id=work_center_id, from_family_id=a, to_family_id=b, minutes=minutes))
            elif row.minutes != minutes:
                row.minutes = minutes


def changeover_minutes(s: Session, work_center_id: int) -> tuple[int, dict[tuple[int, int], int]]:
    """The default and the (from family, to family) entries of a work center's setup matrix."""
    wc = s.get(WorkCenter, work_center_id)
    default = wc.default_changeover_minutes if wc else 0
    rows = s.scalars(select(SetupMatrixEntry).where(SetupMatrixEntry.work_center_id == work_center_id)).all()
    return default, {(r.from_family_id, r.to_family_id): r.minutes for r in rows}
