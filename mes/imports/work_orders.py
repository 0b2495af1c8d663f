"""Importing work orders: each row becomes a work order (released when asked), checked with the
order services' own validation and written through them."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from mes.core.clock import plant_today
from mes.core.errors import DomainError
from mes.imports.cells import parse_date, parse_int, parse_priority, text_of
from mes.imports.reading import Table
from mes.imports.results import RowError
from mes.imports.rows import Rollback, RowErrors, domain_errors, products_by_code
from mes.orders import services as order_services
from mes.orders.models import Priority, WorkOrder
from mes.routing import services as routing_services

ORDER_FIELDS = {
    "number": "number", "product": "product", "quantity": "quantity", "due_date": "due_date",
    "release_date": "release_date", "priority": "priority", "customer": "customer", "note": "note",
}


@dataclass
class _OrderPlan:
    row: int
    product_code: str
    data: order_services.WorkOrderInput


@dataclass
class Plan:
    """Every problem of every row, or the work orders to create."""

    errors: list[RowError] = field(default_factory=list)
    orders: list[_OrderPlan] = field(default_factory=list)


def check(s: Session, table: Table, release: bool) -> Plan:
    """Check every row; with ``release``, also that each product has a routing in force."""
    plan = Plan()
    products = products_by_code(s, {text_of(r.get("product")) for _, r in table.rows} - {""})
    today = plant_today()
    in_force: dict[int, bool] = {}
    numbers: dict[str, int] = {}
    for row_no, row in table.rows:
        errors = RowErrors(table, row_no, plan.errors)
        number = text_of(row.get("number")) or None
        if number is not None:
            first = numbers.setdefault(number, row_no)
            if first != row_no:
                errors.add("number", _l("Work order %(number)s is already in row %(row)s.", number=number, row=first))
        code = text_of(row.get("product"))
        product = products.get(code) if code else None
        if code and product is None:
            errors.add("product", _l("Unknown product %(code)s.", code=code))
        data = order_services.WorkOrderInput(
            product_id=product.id if product else None,
            quantity=errors.cell("quantity", parse_int, row.get("quantity")),
            due_date=errors.cell("due_date", parse_date, row.get("due_date")),
            number=number,
            release_date=errors.cell("release_date", parse_date, row.get("release_date")),
            priority=errors.cell("priority", parse_priority, row.get("priority"), Priority.NORMAL),
            customer=text_of(row.get("customer")) or None,
            note=text_of(row.get("note")) or None,
        )
        errors.add_fields(order_services.validate(s, data), ORDER_FIELDS)
        if release and product is not None and "product" not in errors.columns:
            if product.id not in in_force:
                in_force[product.id] = routing_services.routing_in_force(s, product.id, today) is not None
            if not in_force[product.id]:
                errors.add("product", _l("Product %(code)s has no released routing in force, so the order cannot be released.",
                                         code=product.code))
        plan.orders.append(_OrderPlan(row_no, product.code if product else code, data))
    return plan


def summary(s: Session, plan: Plan, release: bool) -> list[dict[str, Any]]:
    """A line per work order the file makes."""
    return [_order_summary(o.data, o.product_code, None, release) for o in plan.orders]


def write(s: Session, table: Table, plan: Plan, release: bool, filename: str) -> list[dict[str, Any]]:
    """Create (and release) the work orders; Rollback when a service refuses one."""
    created: dict[int, dict[str, Any]] = {}
    # Orders with their own number first, so a generated number never takes one the file names.
    for item in sorted(plan.orders, key=lambda o: (o.data.number is None, o.row)):
        try:
            order_id = order_services.create_in(s, item.data)
            if release:
                order_services.release_in(s, order_id)
        except DomainError as exc:
            raise Rollback(domain_errors(table, item.row, exc, ORDER_FIELDS)) from None
        created[item.row] = _order_summary(item.data, item.product_code, s.get(WorkOrder, order_id), release)
    return [created[row] for row in sorted(created)]


def _order_summary(data: order_services.WorkOrderInput, product: str, order: WorkOrder | None, release: bool) -> dict[str, Any]:
    return {
        "number": order.number if order else (data.number or None), "product": product, "quantity": data.quantity,
        "due_date": data.due_date.isoformat() if data.due_date else None,
        "release_date": data.release_date.isoformat() if data.release_date else None,
        "priority": data.priority.value, "customer": data.customer,
        "status": order.status.value if order else ("released" if release else "draft"),
        "id": order.id if order else None,
    }
