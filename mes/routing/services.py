"""Use cases on products, routings and setup matrices: one function per planner action, each
owning its transaction. Only draft routings are edited; releasing one retires the version in force."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mes.core.audit import current_actor
from mes.core.clock import plant_today
from mes.core.db import transaction
from mes.core.errors import Conflict, InvalidTransition, NotFound, ValidationError
from mes.core.locking import check_version, touch
from mes.machines.models import WorkCenter
from mes.machines.services import check_code, check_name, clean
from mes.operations import graph
from mes.operations import services as operations
from mes.operations.inspection import CharacteristicInput, apply_characteristic, validate_characteristic
from mes.operations.rules import OperationInput
from mes.routing.models import (
    Product,
    ProductFamily,
    Routing,
    RoutingCharacteristic,
    RoutingEdge,
    RoutingOperation,
    RoutingOperationMachine,
    RoutingStatus,
    SetupMatrixEntry,
)


def _load(s: Session, routing_id: int, expected_version: int | None, *, draft: bool = True) -> Routing:
    routing = operations.load_for_change(s, Routing, routing_id, expected_version)
    if draft and routing.status != RoutingStatus.DRAFT:
        raise InvalidTransition(_l("Only a draft routing can be changed. Create a new version to change it."))
    return routing


def _check_graph(routing: Routing) -> None:
    operations.check_acyclic(routing)


def _edge(routing: Routing) -> Callable[[int, int], RoutingEdge]:
    return lambda pred, succ: RoutingEdge(routing_id=routing.id, predecessor_id=pred, successor_id=succ)


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
    operations.copy_all(s, source, target, RoutingOperation, RoutingOperationMachine, _edge(target))


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


def add_operation_in(s: Session, routing: Routing, data: OperationInput, seq: int | None = None) -> int:
    op = operations.add(s, routing, data, seq, RoutingOperation, RoutingOperationMachine, _edge(routing))
    _check_graph(routing)
    return op.id


def create_version_with_operations(product_id: int, steps: list[tuple[int | None, OperationInput]],
                                   note: str | None = None) -> int:
    """A new draft holding exactly ``steps`` (seq, data); predecessors may name any of them."""
    with transaction() as s:
        routing_id = create_version_in(s, product_id, note=note, copy=False)
        routing = _load(s, routing_id, None)
        explicit = []
        for seq, data in steps:
            chained = OperationInput(**{**data.__dict__, "follows_previous": True, "predecessors": []})
            op_id = add_operation_in(s, routing, chained, seq)
            if not data.follows_previous:
                explicit.append((op_id, data))
        for op_id, data in explicit:
            op = operations.find(routing, op_id)
            op.follows_previous = False
            operations.set_predecessors(s, routing, op, data, _edge(routing))
        s.flush()
        s.refresh(routing, ["operations", "edges"])
        _check_graph(routing)
        return routing_id


def update_operation(routing_id: int, operation_id: int, expected_version: int | None, data: OperationInput) -> None:
    with transaction() as s:
        routing = _load(s, routing_id, expected_version)
        op = operations.find(routing, operation_id)
        operations.change(s, routing, op, data, RoutingOperationMachine, _edge(routing))
        _check_graph(routing)
        touch(routing)


def remove_operation(routing_id: int, operation_id: int, expected_version: int | None) -> None:
    with transaction() as s:
        routing = _load(s, routing_id, expected_version)
        op = operations.find(routing, operation_id)
        # Operations that waited for this one now wait for its predecessors.
        bridged = graph.bypass(graph.effective_edges(operations.nodes(routing)), {op.id})
        routing.operations.remove(op)
        operations.rewrite_edges(s, routing, bridged, _edge(routing))
        s.flush()
        touch(routing)


# --- inspection plans ---------------------------------------------------------------------------


def add_characteristic(routing_id: int, operation_id: int, expected_version: int | None,
                       data: CharacteristicInput) -> int:
    """Add a line to a draft routing operation's inspection plan."""
    errors = validate_characteristic(data)
    if errors:
        raise ValidationError(fields=errors)
    with transaction() as s:
        routing = _load(s, routing_id, expected_version)
        op = operations.find(routing, operation_id)
        row = RoutingCharacteristic(seq=max((c.seq for c in op.characteristics), default=0) + 1, name="")
        apply_characteristic(row, data)
        op.characteristics.append(row)
        s.flush()
        touch(routing)
        return row.id


def update_characteristic(routing_id: int, operation_id: int, characteristic_id: int, expected_version: int | None,
                          data: CharacteristicInput) -> None:
    errors = validate_characteristic(data)
    if errors:
        raise ValidationError(fields=errors)
    with transaction() as s:
        routing = _load(s, routing_id, expected_version)
        row = _characteristic(operations.find(routing, operation_id), characteristic_id)
        apply_characteristic(row, data)
        touch(routing)


def remove_characteristic(routing_id: int, operation_id: int, characteristic_id: int,
                          expected_version: int | None) -> None:
    with transaction() as s:
        routing = _load(s, routing_id, expected_version)
        op = operations.find(routing, operation_id)
        op.characteristics.remove(_characteristic(op, characteristic_id))
        s.flush()
        touch(routing)


def _characteristic(op: RoutingOperation, characteristic_id: int) -> RoutingCharacteristic:
    row = next((c for c in op.characteristics if c.id == characteristic_id), None)
    if row is None:
        raise NotFound()
    return row


def move_operation(routing_id: int, operation_id: int, expected_version: int | None, direction: int) -> None:
    """Swap an operation with its neighbour in sequence (``direction`` -1 up, +1 down)."""
    with transaction() as s:
        routing = _load(s, routing_id, expected_version)
        if operations.swap_with_neighbour(s, routing, operation_id, direction):
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
        errors = operations.errors_of(s, operations.input_from(op))
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
        return create_product_in(s, data)


def _check_product(s: Session, data: ProductInput, product_id: int | None) -> None:
    errors: dict[str, list] = {}
    if not data.code.strip():
        errors["code"] = [_l("This field is required.")]
    elif len(data.code.strip()) > 64:
        errors["code"] = [_l("At most %(n)s characters.", n=64)]
    else:
        taken = s.scalar(select(Product.id).where(Product.code == data.code.strip()))
        if taken is not None and taken != product_id:
            errors["code"] = [_l("This code is taken.")]
    if not data.name.strip():
        errors["name"] = [_l("This field is required.")]
    elif len(data.name.strip()) > 200:
        errors["name"] = [_l("At most %(n)s characters.", n=200)]
    family = s.get(ProductFamily, data.family_id) if data.family_id else None
    if family is None or not family.active:
        errors["family_id"] = [_l("Unknown product family.")]
    if data.drawing and len(data.drawing) > 120:
        errors["drawing"] = [_l("At most %(n)s characters.", n=120)]
    if errors:
        raise ValidationError(fields=errors)


def create_product_in(s: Session, data: ProductInput) -> int:
    _check_product(s, data, None)
    product = Product(code=data.code.strip(), name=data.name.strip(), family_id=data.family_id,
                      drawing=(data.drawing or "").strip() or None)
    s.add(product)
    s.flush()
    return product.id


def update_product_in(s: Session, product_id: int, data: ProductInput) -> None:
    """Change a product's name, family or drawing (the import matches products by code)."""
    product = s.get(Product, product_id, with_for_update=True)
    if product is None:
        raise NotFound()
    _check_product(s, data, product_id)
    product.code, product.name = data.code.strip(), data.name.strip()
    product.family_id, product.drawing = data.family_id, (data.drawing or "").strip() or None


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


# --- plant setup: product families ---------------------------------------------------------------


@dataclass
class FamilyInput:
    code: str
    name: str


def _check_family(s: Session, data: FamilyInput, family_id: int | None) -> None:
    errors: dict[str, list] = {}
    check_code(s, ProductFamily, clean(data.code), family_id, errors)
    check_name(clean(data.name), errors)
    if errors:
        raise ValidationError(fields=errors)


def create_family(data: FamilyInput) -> int:
    with transaction() as s:
        return create_family_in(s, data)


def create_family_in(s: Session, data: FamilyInput) -> int:
    _check_family(s, data, None)
    family = ProductFamily(code=clean(data.code), name=clean(data.name))
    touch(family)
    s.add(family)
    s.flush()
    return family.id


def _load_family(s: Session, family_id: int, expected_version: int | None) -> ProductFamily:
    family = s.get(ProductFamily, family_id, with_for_update=True)
    if family is None:
        raise NotFound()
    check_version(family, expected_version)
    return family


def update_family(family_id: int, expected_version: int | None, data: FamilyInput) -> None:
    with transaction() as s:
        update_family_in(s, family_id, expected_version, data)


def update_family_in(s: Session, family_id: int, expected_version: int | None, data: FamilyInput) -> None:
    family = _load_family(s, family_id, expected_version)
    _check_family(s, data, family_id)
    family.code, family.name = clean(data.code), clean(data.name)
    touch(family)


def retire_family(family_id: int, expected_version: int | None) -> None:
    """Refused while active products belong to the family (they are listed)."""
    with transaction() as s:
        family = _load_family(s, family_id, expected_version)
        products = s.scalars(select(Product.code).where(Product.family_id == family_id, Product.active)
                             .order_by(Product.code).limit(20)).all()
        if products:
            raise Conflict(_l("These products still belong to the family: %(list)s", list=", ".join(products)))
        family.active = False
        touch(family)


def reactivate_family(family_id: int, expected_version: int | None) -> None:
    with transaction() as s:
        family = _load_family(s, family_id, expected_version)
        family.active = True
        touch(family)
