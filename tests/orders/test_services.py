"""Work orders: create and validate, release copies the routing in force, state transitions,
changes to the remaining operations (never to started work), splitting into lots."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from mes.core.clock import plant_today
from mes.core.db import session, transaction
from mes.core.errors import InvalidTransition, StaleEdit, ValidationError
from mes.core.models import AuditEntry
from mes.operations import graph
from mes.operations import services as operations
from mes.operations.rules import MachineTime, OperationInput
from mes.orders import changes, queries, services
from mes.orders.models import Operation, OperationStatus, ProductionReport, WorkOrder, WorkOrderStatus
from mes.routing import services as routing_services
from mes.routing.models import Routing



def fresh(order_id: int) -> WorkOrder:
    session().rollback()  # a new read transaction sees the latest commits
    return session().get(WorkOrder, order_id)


def report(order: WorkOrder, seq: int, good: int, scrap: int = 0, done: bool = False) -> None:
    """Record production the way the shop floor will: a report and the operation's totals."""
    with transaction() as s:
        op = s.scalar(select(Operation).where(Operation.work_order_id == order.id, Operation.seq == seq))
        s.add(ProductionReport(operation_id=op.id, work_order_id=order.id, good_qty=good, scrap_qty=scrap))
        op.qty_good += good
        op.qty_scrap += scrap
        op.status = OperationStatus.DONE if done else OperationStatus.IN_PROGRESS
        wo = s.get(WorkOrder, order.id)
        wo.status = WorkOrderStatus.IN_PROGRESS


def edges_by_seq(order: WorkOrder) -> set[tuple[int, int]]:
    seqs = {op.id: op.seq for op in order.operations}
    return {(seqs[p], seqs[q]) for p, q in graph.effective_edges(operations.nodes(order))}


def test_create_validates_every_field(plant):
    with pytest.raises(ValidationError) as exc:
        services.create(services.WorkOrderInput(product_id=None, quantity=0, due_date=None))
    assert set(exc.value.fields) == {"product", "quantity", "due_date"}
    with pytest.raises(ValidationError) as exc:
        services.create(services.WorkOrderInput(product_id=plant.p1, quantity=5, due_date=plant_today(),
                                                release_date=plant_today() + dt.timedelta(days=1)))
    assert "due_date" in exc.value.fields
    assert session().scalar(select(func.count()).select_from(WorkOrder)) == 0


def test_duplicate_number_is_refused(plant):
    services.create(services.WorkOrderInput(product_id=plant.p1, quantity=5, due_date=plant_today(), number="A-1"))
    with pytest.raises(ValidationError) as exc:
        services.create(services.WorkOrderInput(product_id=plant.p1, quantity=5, due_date=plant_today(), number="A-1"))
    assert "A-1" in str(exc.value.fields["number"][0])


def test_numbers_are_generated(plant):
    a = services.create(services.WorkOrderInput(product_id=plant.p1, quantity=5, due_date=plant_today()))
    b = services.create(services.WorkOrderInput(product_id=plant.p1, quantity=5, due_date=plant_today()))
    assert fresh(a).number != fresh(b).number


def test_release_snapshots_the_routing_in_force(plant, make_order):
    order = make_order(quantity=10)
    assert order.status == WorkOrderStatus.RELEASED and order.routing_id == plant.routing_id
    assert [(op.seq, op.name) for op in order.operations] == [(10, "Turn"), (20, "Mill")]
    assert {m.machine_id for m in order.operations[0].machines} == {plant.old, plant.new}
    # A new routing version does not change the released order.
    new_id = routing_services.create_version(plant.p1)
    r = session().get(Routing, new_id)
    routing_services.update_operation(new_id, r.operations[0].id, r.version, OperationInput(
        name="Turn v2", work_center_id=plant.turn, run_minutes=Decimal(1)))
    routing_services.release(new_id, None)
    assert [op.name for op in fresh(order.id).operations] == ["Turn", "Mill"]
    assert [op.name for op in make_order().operations] == ["Turn v2", "Mill"]


def test_release_refused_without_routing(plant, make_order):
    order = make_order(release=False, product_id=plant.p2)
    with pytest.raises(InvalidTransition) as exc:
        services.release(order.id, order.version)
    assert "P-2" in exc.value.text()
    assert fresh(order.id).status == WorkOrderStatus.DRAFT and fresh(order.id).operations == []


def test_hold_and_release_hold_return_to_previous_state(make_order):
    order = make_order()
    with pytest.raises(ValidationError):
        services.hold(order.id, order.version, "")
    services.hold(order.id, order.version, "material missing")
    assert fresh(order.id).status == WorkOrderStatus.ON_HOLD
    services.release_hold(order.id, fresh(order.id).version)
    assert fresh(order.id).status == WorkOrderStatus.RELEASED
    reasons = session().scalars(select(AuditEntry.reason).where(AuditEntry.entity == "work_order", AuditEntry.field == "status")).all()
    assert "material missing" in reasons


def test_cancel_refused_once_work_is_reported(make_order):
    order = make_order()
    report(order, 10, good=2)
    with pytest.raises(InvalidTransition):
        services.cancel(order.id, fresh(order.id).version, "customer cancelled")
    other = make_order()
    services.cancel(other.id, other.version, "customer cancelled")
    assert fresh(other.id).status == WorkOrderStatus.CANCELLED


def test_invalid_transitions_are_refused(make_order):
    order = make_order()
    with pytest.raises(InvalidTransition):
        services.close(order.id, order.version)
    with pytest.raises(InvalidTransition):
        services.release(order.id, order.version)
    with pytest.raises(InvalidTransition):
        services.complete(order.id, order.version)  # operations not finished


def test_complete_then_close(make_order):
    order = make_order(quantity=2)
    report(order, 10, good=2, done=True)
    report(order, 20, good=2, done=True)
    services.complete(order.id, fresh(order.id).version)
    services.close(order.id, fresh(order.id).version)
    assert fresh(order.id).status == WorkOrderStatus.CLOSED


def test_stale_version_is_refused(make_order):
    order = make_order()
    stale = order.version
    services.hold(order.id, stale, "first")
    with pytest.raises(StaleEdit):
        services.release_hold(order.id, stale)


# --- changes to the remaining operations ---------------------------------------------------------


def rework(**kw):  # type: ignore[no-untyped-def]
    return OperationInput(name=kw.pop("name", "Rework"), work_center_id=kw.pop("wc"), run_minutes=Decimal(2), **kw)


def test_insert_rework_between_operations(plant, make_order):
    order = make_order()
    changes.insert_operation(order.id, order.version, rework(wc=plant.turn), 15, "deburr missing")
    order = fresh(order.id)
    assert [op.seq for op in order.operations] == [10, 15, 20]
    assert edges_by_seq(order) == {(10, 15), (15, 20)}
    entry = session().scalar(select(AuditEntry).where(AuditEntry.entity == "operation", AuditEntry.action == "create")
                             .order_by(AuditEntry.id.desc()))
    assert entry.reason == "deburr missing" and "Rework" in entry.new_value


def test_every_change_needs_a_reason(plant, make_order):
    order = make_order()
    with pytest.raises(ValidationError) as exc:
        changes.insert_operation(order.id, order.version, rework(wc=plant.turn), 15, "  ")
    assert "reason" in exc.value.fields
    with pytest.raises(ValidationError):
        changes.skip_operation(order.id, order.operations[1].id, order.version, None)


def test_skip_and_restore(plant, make_order):
    order = make_order()
    changes.skip_operation(order.id, order.operations[1].id, order.version, "no milling needed")
    order = fresh(order.id)
    assert order.operations[1].status == OperationStatus.SKIPPED
    with pytest.raises(InvalidTransition):  # the last operation left
        changes.skip_operation(order.id, order.operations[0].id, order.version, "all?")
    changes.restore_operation(order.id, order.operations[1].id, order.version, "needed after all")
    assert fresh(order.id).operations[1].status == OperationStatus.PENDING


def test_change_machines_and_times(plant, make_order):
    order = make_order()
    op = order.operations[0]
    changes.change_operation(order.id, op.id, order.version, OperationInput(
        name="Turn", work_center_id=plant.turn, machines=[MachineTime(plant.new, Decimal(10), Decimal("1.5"))]), "old lathe broken")
    op = fresh(order.id).operations[0]
    assert [(m.machine_id, m.run_minutes) for m in op.machines] == [(plant.new, Decimal("1.500"))]
    entries = session().scalars(select(AuditEntry).where(AuditEntry.entity == "operation_machine",
                                                         AuditEntry.action != "create")).all()
    assert {e.action for e in entries} == {"delete", "update"}
    assert all(e.reason == "old lathe broken" for e in entries)


def test_reorder_remaining_operations(plant, make_order):
    order = make_order()
    changes.move_operation(order.id, order.operations[1].id, order.version, -1, "mill first this time")
    order = fresh(order.id)
    assert [op.name for op in order.operations] == ["Mill", "Turn"]
    assert edges_by_seq(order) == {(10, 20)}


def test_started_and_finished_work_cannot_change(plant, make_order):
    order = make_order()
    report(order, 10, good=3)
    order = fresh(order.id)
    started = order.operations[0]
    for change in (
        lambda: changes.change_operation(order.id, started.id, order.version, rework(wc=plant.turn), "why"),
        lambda: changes.skip_operation(order.id, started.id, order.version, "why"),
        lambda: changes.move_operation(order.id, order.operations[1].id, order.version, -1, "why"),
    ):
        with pytest.raises(InvalidTransition):
            change()
    # Inserting before started work is refused too: it would have to have run already.
    with pytest.raises(InvalidTransition):
        changes.insert_operation(order.id, order.version, rework(wc=plant.turn), 5, "before everything")
    assert [op.seq for op in fresh(order.id).operations] == [10, 20]
    # ... but the remaining operation can still change.
    changes.insert_operation(order.id, order.version, rework(wc=plant.mill), 30, "extra check")
    assert [op.seq for op in fresh(order.id).operations] == [10, 20, 30]


def test_precedence_cycle_is_refused(plant, make_order):
    order = make_order()
    first = order.operations[0]
    with pytest.raises(ValidationError):
        changes.change_operation(order.id, first.id, order.version, OperationInput(
            name="Turn", work_center_id=plant.turn, run_minutes=Decimal(1), follows_previous=False, predecessors=[20]), "loop")


def test_draft_orders_are_not_changed_operation_by_operation(plant, make_order):
    order = make_order(release=False)
    with pytest.raises(InvalidTransition):
        changes.insert_operation(order.id, order.version, rework(wc=plant.turn), None, "x")


# --- splitting -------------------------------------------------------------------------------


def totals(order_id: int) -> list[tuple[int, int, int]]:
    return [(op.seq, op.qty_good, op.qty_scrap) for op in fresh(order_id).operations]


def test_split_an_unstarted_order(make_order):
    order = make_order(quantity=100)
    child_id = services.split(order.id, order.version, 40, "partial delivery")
    assert fresh(order.id).quantity == 60
    child = fresh(child_id)
    assert child.quantity == 40 and child.parent_id == order.id and child.status == WorkOrderStatus.RELEASED
    assert child.number == f"{order.number}/2"
    assert [op.name for op in child.operations] == ["Turn", "Mill"]


def test_split_moves_progress_beyond_what_the_original_keeps(make_order):
    order = make_order(quantity=100)
    report(order, 10, good=95, scrap=5, done=True)
    report(order, 20, good=40)
    child_id = services.split(order.id, fresh(order.id).version, 60, "ship the finished 40 now")
    # The original keeps 40 pieces: 40 good at each step; the new lot gets the other 55 turned.
    assert totals(order.id) == [(10, 40, 5), (20, 40, 0)]
    assert totals(child_id) == [(10, 55, 0), (20, 0, 0)]
    child = fresh(child_id)
    assert child.status == WorkOrderStatus.IN_PROGRESS
    assert child.operations[0].status == OperationStatus.PAUSED
    # Reports still add up to each operation's totals, and over both lots nothing is lost.
    for oid in (order.id, child_id):
        for op in fresh(oid).operations:
            reported = session().scalar(select(func.coalesce(func.sum(ProductionReport.good_qty), 0))
                                        .where(ProductionReport.operation_id == op.id))
            assert reported == op.qty_good
    assert sum(good for seq, good, _scrap in totals(order.id) + totals(child_id) if seq == 10) == 95


def test_split_quantity_is_validated(make_order):
    order = make_order(quantity=10)
    for qty in (0, 10, 11, None):
        with pytest.raises(ValidationError):
            services.split(order.id, order.version, qty, "x")
    with pytest.raises(ValidationError):
        services.split(order.id, order.version, 5, "")
    assert fresh(order.id).quantity == 10


def test_split_keeps_precedence_graph(plant, make_order):
    order = make_order()
    changes.insert_operation(order.id, order.version, rework(wc=plant.turn, follows_previous=False, predecessors=[]), 30, "parallel")
    order = fresh(order.id)
    child_id = services.split(order.id, order.version, 3, "lot")
    assert edges_by_seq(fresh(child_id)) == edges_by_seq(fresh(order.id))


def test_list_filters_and_paging(plant, make_order):
    for i in range(7):
        make_order(quantity=i + 1, release=i % 2 == 0, customer="Acme" if i < 3 else "Other",
                   due_date=plant_today() + dt.timedelta(days=i - 2))
    rows, total = queries.list_orders(queries.OrderFilter(q="acme"))
    assert total == 3
    rows, total = queries.list_orders(queries.OrderFilter(status=["draft"]))
    assert total == 3
    rows, total = queries.list_orders(queries.OrderFilter(late=True))
    assert total == 2
    rows, total = queries.list_orders(queries.OrderFilter(), page=2, per_page=5)
    assert total == 7 and len(rows) == 2
    rows, _ = queries.list_orders(queries.OrderFilter(sort="-due"))
    assert [r.due_date for r in rows] == sorted([r.due_date for r in rows], reverse=True)
