"""The audit log: every change to work orders, operations, routings and production reports is
written (who, when, record, field, old, new, why); nobody can change or delete the log."""
from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from mes.core.db import get_db, session, transaction
from mes.core.models import AuditEntry
from mes.orders import services as orders
from mes.orders.models import ProductionReport
from tests.conftest import login


def entries(entity: str, **where):  # type: ignore[no-untyped-def]
    session().rollback()  # a new read transaction sees the latest commits
    query = select(AuditEntry).where(AuditEntry.entity == entity)
    for key, value in where.items():
        query = query.where(getattr(AuditEntry, key) == value)
    return session().scalars(query.order_by(AuditEntry.id)).all()


def test_changes_through_the_pages_name_the_user(app, users, plant, make_order):
    order = make_order(release=False)
    client = app.test_client()
    login(client, "planner")
    r = client.post(f"/orders/{order.id}/edit", data={
        "product_id": plant.p1, "quantity": 25, "due_date": order.due_date.isoformat(), "priority": "urgent",
        "version": order.version})
    assert r.status_code == 303
    changed = {e.field: e for e in entries("work_order", entity_id=order.id, action="update")}
    assert changed["quantity"].old_value == "10" and changed["quantity"].new_value == "25"
    assert changed["priority"].old_value == "normal" and changed["priority"].new_value == "urgent"
    assert changed["quantity"].actor == "planner" and changed["quantity"].user_id == users["planner"]
    assert changed["quantity"].at is not None


def test_routing_operation_and_report_changes_are_logged(plant, make_order):
    assert entries("routing", entity_id=plant.routing_id, action="create")
    assert entries("routing_operation", action="create")
    assert any(e.field == "status" and e.new_value == "released" for e in entries("routing", entity_id=plant.routing_id))
    order = make_order()
    assert len(entries("operation", action="create")) == 2
    with transaction() as s:
        s.add(ProductionReport(operation_id=order.operations[0].id, work_order_id=order.id, good_qty=3, scrap_qty=1))
    (created,) = entries("production_report", action="create")
    assert '"good_qty": "3"' in created.new_value


def test_unchanged_save_writes_nothing(make_order):
    order = make_order()
    before = len(entries("work_order"))
    orders.update(order.id, order.version, orders.WorkOrderInput(
        product_id=order.product_id, quantity=order.quantity, due_date=order.due_date, number=order.number,
        release_date=order.release_date, priority=order.priority, customer=order.customer, note=order.note))
    assert len(entries("work_order")) == before


def test_the_database_refuses_to_change_the_audit_log(make_order):
    make_order()
    statements = ["UPDATE audit_log SET new_value = 'forged'", "DELETE FROM audit_log"]
    if get_db().dialect == "postgresql":
        statements.append("TRUNCATE audit_log CASCADE")
    for statement in statements:
        with pytest.raises(DBAPIError):
            with get_db().engine.begin() as conn:
                conn.execute(text(statement))
    assert entries("work_order") and all(e.new_value != "forged" for e in entries("work_order"))


def test_the_database_refuses_to_change_production_reports(make_order):
    order = make_order()
    with transaction() as s:
        s.add(ProductionReport(operation_id=order.operations[0].id, work_order_id=order.id, good_qty=3))
    for statement in ("UPDATE production_report SET good_qty = 300", "DELETE FROM production_report"):
        with pytest.raises(DBAPIError):
            with get_db().engine.begin() as conn:
                conn.execute(text(statement))
    assert session().scalar(select(ProductionReport.good_qty)) == 3


def test_the_application_refuses_to_change_the_audit_log(make_order):
    make_order()
    with pytest.raises(RuntimeError):
        with transaction() as s:
            entry = s.scalar(select(AuditEntry))
            entry.new_value = "forged"
            s.flush()


def test_audit_page_lists_entries_for_owner_and_admin(as_role, make_order):
    order = make_order()
    for role in ("owner", "admin"):
        r = as_role(role).get(f"/admin/audit?entity=work_order&entity_id={order.id}")
        html = r.get_data(as_text=True)
        assert r.status_code == 200 and order.number in html and "work_order #" not in html
    assert as_role("planner").get("/admin/audit").status_code == 403
