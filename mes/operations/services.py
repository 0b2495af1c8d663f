"""Writing operations of a routing or a work order: checking their data against the plant,
applying it, linking predecessors, copying, re-ordering. The owner's service opens the
transaction and passes its rows; these functions never commit."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.interfaces import LoaderOption

from mes.core.errors import NotFound, ValidationError
from mes.core.locking import check_version
from mes.machines.models import Machine, MachineStatus, WorkCenter
from mes.operations import graph
from mes.operations.models import CHARACTERISTIC_FIELDS, COPIED_FIELDS
from mes.operations.rules import MachineTime, OperationInput, validate_operation

#: Gap between sequence numbers, so an operation can be put between two others later.
SEQ_STEP = 10


class EdgeRow(Protocol):
    predecessor_id: int
    successor_id: int


class OperationRow(Protocol):
    """A RoutingOperation or a work order's Operation."""

    id: int
    seq: int
    follows_previous: bool
    machines: list[Any]


class Owner(Protocol):
    """A Routing or a WorkOrder: its operations and its explicit precedence edges."""

    id: int
    operations: list[Any]
    edges: list[Any]


def load_for_change(s: Session, owner_class: Any, owner_id: int, expected_version: int | None) -> Any:
    """A routing or work order with its operations, machines and edges, locked for the rest of
    this transaction; a stale ``expected_version`` is refused."""
    op_class = owner_class.operations.property.mapper.class_
    owner = s.scalars(
        select(owner_class)
        .where(owner_class.id == owner_id)
        .options(selectinload(owner_class.operations).selectinload(op_class.machines), selectinload(owner_class.edges))
        .with_for_update()
    ).one_or_none()
    if owner is None:
        raise NotFound()
    check_version(owner, expected_version)
    return owner


def load_for_page(s: Session, owner_class: Any, owner_id: int, *options: LoaderOption) -> Any:
    """A routing or work order with everything its page draws of its operations, plus ``options``."""
    op_class = owner_class.operations.property.mapper.class_
    machine_row = op_class.machines.property.mapper.class_
    owner = s.scalars(
        select(owner_class).where(owner_class.id == owner_id).options(
            *options,
            selectinload(owner_class.operations).selectinload(op_class.machines).joinedload(machine_row.machine),
            selectinload(owner_class.operations).joinedload(op_class.work_center),
            selectinload(owner_class.edges),
        )
    ).unique().one_or_none()
    if owner is None:
        raise NotFound()
    return owner


def nodes(owner: Owner) -> list[graph.Node[int]]:
    """The owner's operations as nodes of the precedence graph (keys are operation ids)."""
    preds: dict[int, list[int]] = {}
    for e in owner.edges:
        preds.setdefault(e.successor_id, []).append(e.predecessor_id)
    return [graph.Node(op.id, op.seq, op.follows_previous, tuple(sorted(preds.get(op.id, [])))) for op in owner.operations]


def predecessor_seqs(owner: Owner) -> dict[int, list[int]]:
    """Per operation id, the sequence numbers it waits for (as the editor and the API show them)."""
    seqs = {op.id: op.seq for op in owner.operations}
    preds: dict[int, list[int]] = {}
    for p, q in graph.effective_edges(nodes(owner)):
        preds.setdefault(q, []).append(seqs[p])
    return {k: sorted(v) for k, v in preds.items()}


def check_acyclic(owner: Owner) -> list[tuple[int, int]]:
    """Refuse predecessors that form a cycle; return the effective edges otherwise."""
    ns = nodes(owner)
    edges = graph.effective_edges(ns)
    cycle = graph.find_cycle([n.key for n in ns], edges)
    if cycle:
        seqs = {op.id: op.seq for op in owner.operations}
        raise ValidationError(
            _l("The predecessors form a cycle: %(ops)s."),
            fields={"predecessors": [_l("The predecessors form a cycle.")]},
            ops=" → ".join(str(seqs[k]) for k in cycle),
        )
    return edges


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


def errors_of(s: Session, data: OperationInput) -> dict[str, list]:
    """Field errors of an operation's data: its own rules, then its work center and machines."""
    return validate_operation(data) or _check_references(s, data)


def validate_input(s: Session, data: OperationInput) -> None:
    errors = errors_of(s, data)
    if errors:
        raise ValidationError(fields=errors)


def input_from(op: OperationRow | Any) -> OperationInput:
    """The current data of an operation, as a form or an API change starts from it."""
    return OperationInput(
        name=op.name, work_center_id=op.work_center_id, setup_minutes=op.setup_minutes, run_minutes=op.run_minutes,
        machines=[MachineTime(m.machine_id, m.setup_minutes, m.run_minutes) for m in op.machines],
        instructions=op.instructions, transfer_batch=op.transfer_batch, inspection_required=op.inspection_required,
        drawing=op.drawing, program_no=op.program_no, follows_previous=op.follows_previous,
    )


def apply_input(op: OperationRow | Any, data: OperationInput, machine_row: type) -> None:
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


def choose_seq(used: set[int], seq: int | None) -> int:
    """The sequence number for a new operation: ``seq`` if free and positive, else the next step."""
    if seq is None:
        return (max(used) if used else 0) + SEQ_STEP
    if seq in used:
        raise ValidationError(fields={"seq": [_l("Sequence number %(seq)s is taken.", seq=seq)]})
    if seq <= 0:
        raise ValidationError(fields={"seq": [_l("Must be a positive number.")]})
    return seq


def add(s: Session, owner: Owner, data: OperationInput, seq: int | None, op_class: type, machine_row: type,
        make_edge: Callable[[int, int], Any]) -> Any:
    """Validate ``data`` and append it to ``owner`` as a new operation of ``op_class``."""
    validate_input(s, data)
    op = op_class(seq=choose_seq({o.seq for o in owner.operations}, seq), name="", work_center_id=data.work_center_id)
    apply_input(op, data, machine_row)
    owner.operations.append(op)
    s.flush()
    set_predecessors(s, owner, op, data, make_edge)
    s.flush()
    s.refresh(owner, ["operations", "edges"])
    return op


def change(s: Session, owner: Owner, op: OperationRow | Any, data: OperationInput, machine_row: type,
           make_edge: Callable[[int, int], Any]) -> None:
    """Validate ``data`` and write it onto ``op`` with its predecessors."""
    validate_input(s, data)
    apply_input(op, data, machine_row)
    set_predecessors(s, owner, op, data, make_edge)
    s.flush()


def set_predecessors(s: Session, owner: Owner, op: OperationRow | Any, data: OperationInput,
                     make_edge: Callable[[int, int], Any]) -> None:
    """Replace ``op``'s explicit predecessors (sequence numbers in ``data``) in ``owner.edges``;
    ``make_edge(pred_id, succ_id)`` builds the owner's edge row."""
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


def rewrite_edges(s: Session, owner: Owner, edges: list[tuple[int, int]], make_edge: Callable[[int, int], Any]) -> None:
    """Store ``edges`` as each operation's chain flag plus the explicit edges it needs."""
    ordered = sorted(owner.operations, key=lambda o: o.seq)
    encoded = graph.encode([o.id for o in ordered], edges)
    owner.edges = []
    s.flush()  # the unit of work inserts before it deletes: clear the old edges first
    for op in ordered:
        op.follows_previous, preds = encoded[op.id]
        owner.edges.extend(make_edge(p, op.id) for p in preds)


def copy_operation(source: OperationRow | Any, op_class: type, machine_row: type, **overrides: Any) -> Any:
    """A new operation of ``op_class`` with ``source``'s data and eligible machines (routing to
    routing, routing to work order, work order to a split lot)."""
    fields = {name: getattr(source, name) for name in COPIED_FIELDS}
    fields.update(overrides)
    return op_class(**fields, machines=[
        machine_row(machine_id=m.machine_id, setup_minutes=m.setup_minutes, run_minutes=m.run_minutes) for m in source.machines
    ], characteristics=copy_characteristics(source, op_class))


def copy_characteristics(source: Any, op_class: type) -> list[Any]:
    """Copies of ``source``'s inspection plan for an operation of ``op_class``. A work order's
    copy remembers the routing's line it came from (a lot split keeps its original's)."""
    char_class = op_class.characteristics.property.mapper.class_  # type: ignore[attr-defined]
    copies = []
    for c in source.characteristics:
        fields = {name: getattr(c, name) for name in CHARACTERISTIC_FIELDS}
        if hasattr(char_class, "source_characteristic_id"):
            fields["source_characteristic_id"] = getattr(c, "source_characteristic_id", c.id)
        copies.append(char_class(**fields))
    return copies


def copy_all(s: Session, source: Owner, target: Owner, op_class: type, machine_row: type,
             make_edge: Callable[[int, int], Any], overrides: Callable[[Any], dict[str, Any]] | None = None) -> dict[int, Any]:
    """Copy every operation of ``source`` and its precedence into ``target``; returns the new
    operation for each source operation id. ``overrides(op)`` sets fields of each copy."""
    mapping: dict[int, Any] = {}
    for op in source.operations:
        new = copy_operation(op, op_class, machine_row, **(overrides(op) if overrides else {}))
        target.operations.append(new)
        mapping[op.id] = new
    s.flush()
    for e in source.edges:
        target.edges.append(make_edge(mapping[e.predecessor_id].id, mapping[e.successor_id].id))
    return mapping


def swap_with_neighbour(s: Session, owner: Owner, operation_id: int, direction: int,
                        guard: Callable[[Any], None] | None = None) -> bool:
    """Swap an operation's sequence number with its neighbour's (``direction`` -1 up, +1 down);
    ``guard(op)`` may refuse either of the two. False when there is no neighbour."""
    ops = sorted(owner.operations, key=lambda o: o.seq)
    index = next((i for i, o in enumerate(ops) if o.id == operation_id), None)
    if index is None:
        raise NotFound()
    other = index + (1 if direction > 0 else -1)
    if not 0 <= other < len(ops):
        return False
    a, b = ops[index], ops[other]
    if guard:
        guard(a)
        guard(b)
    seq_a, seq_b = a.seq, b.seq
    # Three steps because (owner, seq) is unique.
    a.seq = -seq_a
    s.flush()
    b.seq = seq_a
    s.flush()
    a.seq = seq_b
    s.flush()
    return True


def find(owner: Owner, operation_id: int | None) -> Any:
    """The owner's operation with this id; NotFound otherwise."""
    op = next((o for o in owner.operations if o.id == operation_id), None)
    if op is None:
        raise NotFound()
    return op


def form_machines(s: Session, work_center_id: int | None, chosen: Sequence[int]) -> list[Machine]:
    """The machine rows of the editor: the work center's machines, then any chosen elsewhere."""
    query = select(Machine).options(joinedload(Machine.work_center)).where(Machine.status != MachineStatus.RETIRED)
    query = query.where(or_(Machine.work_center_id == (work_center_id or 0), Machine.id.in_(list(chosen) or [0])))
    return list(s.scalars(query.order_by(Machine.work_center_id != (work_center_id or 0), Machine.code)))


def work_centers(s: Session) -> list[WorkCenter]:
    return list(s.scalars(select(WorkCenter).order_by(WorkCenter.code)))
