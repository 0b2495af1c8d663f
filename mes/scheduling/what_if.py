"""What-if plans: a rush order or a machine taken down for a period, planned as a repair of the
published plan into a draft that is never published. The published plan, the floor and the real
machines are untouched: the rush order exists only as a cancelled work order the floor never
sees (its operations give the draft's rows something to point at), and the downtime only in
this run's problem."""
from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from mes.core.audit import current_actor
from mes.core.clock import plant_today
from mes.core.db import transaction, utcnow
from mes.core.errors import ValidationError
from mes.machines.models import Machine
from mes.operations import services as operations
from mes.orders.models import Operation, OperationEdge, OperationMachine, Priority, WorkOrder, WorkOrderStatus
from mes.routing.models import Product
from mes.routing.services import routing_in_force
from mes.scheduling import services


@dataclass(frozen=True)
class RushOrder:
    product_id: int
    quantity: int
    due_date: dt.date
    priority: Priority = Priority.URGENT


@dataclass(frozen=True)
class MachineDown:
    machine_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime


def _check(rush: RushOrder | None, down: MachineDown | None) -> None:
    errors: dict[str, list] = {}
    if rush is None and down is None:
        errors["product_id"] = [_l("Give a rush order or a machine that goes down (or both).")]
    if rush is not None and not 1 <= rush.quantity <= 1_000_000:
        errors["quantity"] = [_l("The quantity must be at least 1.")]
    if rush is not None and rush.due_date < plant_today():
        errors["due_date"] = [_l("The due date cannot be in the past.")]
    if down is not None and down.ends_at <= down.starts_at:
        errors["ends_at"] = [_l("The end must be after the start.")]
    if down is not None and down.ends_at <= utcnow():
        errors["ends_at"] = [_l("The period is over already; choose one that ends in the future.")]
    if errors:
        raise ValidationError(fields=errors)


def start(rush: RushOrder | None, down: MachineDown | None, time_limit: int = 10) -> int:
    """Plan the what-if in the background; returns the schedule version that will hold it."""
    _check(rush, down)
    described: dict[str, object] = {}
    extra_orders: tuple[int, ...] = ()
    if rush is not None:
        with transaction() as s:
            product = s.get(Product, rush.product_id)
            if product is None:
                raise ValidationError(fields={"product_id": [_l("Unknown product.")]})
            routing = routing_in_force(s, product.id, plant_today())
            if routing is None:
                raise ValidationError(fields={"product_id": [
                    _l("Product %(product)s has no released routing in force. Release a routing first.", product=product.code)]})
            order = WorkOrder(number=f"WHATIF-{uuid.uuid4().hex[:8].upper()}", product_id=product.id, quantity=rush.quantity,
                              due_date=rush.due_date, priority=rush.priority, status=WorkOrderStatus.CANCELLED,
                              note=str(_l("What-if rush order: never released.")), updated_by_id=current_actor().user_id)
            s.add(order)
            s.flush()
            operations.copy_all(s, routing, order, Operation, OperationMachine,
                                lambda pred, succ: OperationEdge(work_order_id=order.id, predecessor_id=pred, successor_id=succ),
                                lambda rop: {"source_operation_id": rop.id})
            extra_orders = (order.id,)
            described["rush"] = {"order_id": order.id, "order": order.number, "product": product.code,
                                 "quantity": rush.quantity, "due_date": rush.due_date.isoformat()}
    if down is not None:
        with transaction() as s:
            machine = s.get(Machine, down.machine_id)
            if machine is None:
                raise ValidationError(fields={"machine_id": [_l("Unknown machine.")]})
            described["down"] = {"machine_id": machine.id, "machine": machine.code,
                                 "starts_at": down.starts_at.isoformat(), "ends_at": down.ends_at.isoformat()}
    options = services.BuildOptions(
        use_previous=True, extra_orders=extra_orders,
        extra_downtime=((down.machine_id, down.starts_at, down.ends_at),) if down is not None else ())
    return services.start_run(time_limit=time_limit, options=options, what_if=json.dumps(described))


def description(what_if_json: str | None) -> dict[str, object]:
    """What a what-if draft assumes (empty for ordinary plans)."""
    if not what_if_json:
        return {}
    try:
        return json.loads(what_if_json)
    except ValueError:
        return {}

