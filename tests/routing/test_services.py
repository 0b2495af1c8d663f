"""Routing versions: drafts are edited, releasing puts one in force, precedence stays acyclic."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from mes.core.clock import plant_today
from mes.core.db import session
from mes.core.errors import InvalidTransition, StaleEdit, ValidationError
from mes.operations import services as operations
from mes.operations.rules import MachineTime, OperationInput
from mes.routing import services
from mes.routing.models import Routing, RoutingStatus


def op(name="Op", wc=None, **kw):  # type: ignore[no-untyped-def]
    return OperationInput(name=name, work_center_id=wc, **kw)


def routing(routing_id: int) -> Routing:
    session().rollback()  # a new read transaction sees the latest commits
    return session().get(Routing, routing_id)


def test_new_version_copies_the_latest_and_starts_as_draft(plant):
    new_id = services.create_version(plant.p1)
    r = routing(new_id)
    assert r.version_no == 2 and r.status == RoutingStatus.DRAFT
    assert [o.name for o in r.operations] == ["Turn", "Mill"]
    assert {m.machine_id for m in r.operations[0].machines} == {plant.old, plant.new}
    # The copy is independent of the released version.
    services.update_operation(new_id, r.operations[0].id, r.version, op("Turn fine", plant.turn, run_minutes=Decimal(3)))
    assert routing(plant.routing_id).operations[0].name == "Turn"


def test_released_routing_cannot_be_edited(plant):
    r = routing(plant.routing_id)
    with pytest.raises(InvalidTransition):
        services.add_operation(plant.routing_id, r.version, op("Extra", plant.mill, run_minutes=Decimal(1)))


def test_release_makes_previous_version_obsolete(plant):
    new_id = services.create_version(plant.p1)
    services.release(new_id, routing(new_id).version)
    assert routing(plant.routing_id).status == RoutingStatus.OBSOLETE
    assert routing(new_id).status == RoutingStatus.RELEASED
    in_force = services.routing_in_force(session(), plant.p1, plant_today())
    assert in_force.id == new_id


def test_future_effective_version_waits_for_its_date(plant):
    new_id = services.create_version(plant.p1)
    future = plant_today() + dt.timedelta(days=30)
    services.release(new_id, routing(new_id).version, effective_from=future)
    assert routing(plant.routing_id).status == RoutingStatus.RELEASED
    assert services.routing_in_force(session(), plant.p1, plant_today()).id == plant.routing_id
    assert services.routing_in_force(session(), plant.p1, future).id == new_id


def test_stale_edit_names_who_changed_it(plant):
    new_id = services.create_version(plant.p1)
    stale = routing(new_id).version
    services.update_header(new_id, stale, None, "first")
    with pytest.raises(StaleEdit) as exc:
        services.update_header(new_id, stale, None, "second")
    assert exc.value.status == 409


def test_parallel_branches_and_cycle_refused(plant):
    rid = services.create_version(plant.p2)
    a = services.add_operation(rid, None, op("Part A", plant.turn, run_minutes=Decimal(1)))
    b = services.add_operation(rid, None, op("Part B", plant.mill, run_minutes=Decimal(1), follows_previous=False))
    services.add_operation(rid, None, op("Join", plant.mill, run_minutes=Decimal(1), follows_previous=False, predecessors=[10, 20]))
    r = routing(rid)
    edges = {(e.predecessor_id, e.successor_id) for e in r.edges}
    join = r.operations[2].id
    assert edges == {(a, join), (b, join)}
    # Making Part A wait for the join closes a cycle.
    with pytest.raises(ValidationError) as exc:
        services.update_operation(rid, a, r.version, op("Part A", plant.turn, run_minutes=Decimal(1), follows_previous=False, predecessors=[30]))
    assert "cycle" in exc.value.text()
    assert {(e.predecessor_id, e.successor_id) for e in routing(rid).edges} == edges


def test_removing_a_join_input_keeps_the_rest_of_the_graph(plant):
    rid = services.create_version(plant.p2)
    services.add_operation(rid, None, op("A", plant.turn, run_minutes=Decimal(1)))
    services.add_operation(rid, None, op("B", plant.mill, run_minutes=Decimal(1), follows_previous=False))
    services.add_operation(rid, None, op("Join", plant.mill, run_minutes=Decimal(1), follows_previous=False, predecessors=[10, 20]))
    services.add_operation(rid, None, op("Paint", plant.mill, run_minutes=Decimal(1)))
    r = routing(rid)
    join = r.operations[2]
    services.remove_operation(rid, join.id, r.version)
    r = routing(rid)
    seqs = {o.id: o.seq for o in r.operations}
    from mes.operations import graph

    edges = {(seqs[p], seqs[q]) for p, q in graph.effective_edges(operations.nodes(r))}
    assert edges == {(10, 40), (20, 40)}


def test_operation_validation(plant):
    rid = services.create_version(plant.p2)
    with pytest.raises(ValidationError) as exc:
        services.add_operation(rid, None, op("", plant.turn, run_minutes=Decimal(-1)))
    assert set(exc.value.fields) >= {"name", "run_minutes"}
    with pytest.raises(ValidationError) as exc:
        services.add_operation(rid, None, op("Absurd", plant.turn, run_minutes=Decimal(20000)))
    assert "run_minutes" in exc.value.fields
    with pytest.raises(ValidationError) as exc:
        services.add_operation(rid, None, op("Twice", plant.turn, machines=[
            MachineTime(plant.old, Decimal(1), Decimal(1)), MachineTime(plant.old, Decimal(1), Decimal(1))]))
    assert "machines" in exc.value.fields
    assert routing(rid).operations == []


def test_work_center_without_machines_is_no_eligible_machine(plant):
    from mes.core.db import transaction
    from mes.machines.models import WorkCenter

    with transaction() as s:
        empty = WorkCenter(code="EMPTY", name="Empty")
        s.add(empty)
        s.flush()
        empty_id = empty.id
    rid = services.create_version(plant.p2)
    with pytest.raises(ValidationError) as exc:
        services.add_operation(rid, None, op("Nowhere", empty_id, run_minutes=Decimal(1)))
    assert "machines" in exc.value.fields


def test_release_refuses_empty_routing(plant):
    rid = services.create_version(plant.p2)
    with pytest.raises(ValidationError):
        services.release(rid, None)


def test_move_operation_reorders_the_chain(plant):
    rid = services.create_version(plant.p1)
    r = routing(rid)
    before = r.version
    services.move_operation(rid, r.operations[1].id, before, -1)
    assert [o.name for o in routing(rid).operations] == ["Mill", "Turn"]
    assert routing(rid).version > before
    with pytest.raises(StaleEdit):
        services.move_operation(rid, r.operations[0].id, before, 1)


def test_new_product_page(as_role, plant):
    client = as_role("planner")
    r = client.post("/routings/products/new", data={"code": "P-1", "name": "Dup", "family_id": plant.fa})
    assert r.status_code == 422 and "This code is taken." in r.get_data(as_text=True)
    r = client.post("/routings/products/new", data={"code": "P-9", "name": "Bracket", "family_id": plant.fb})
    assert r.status_code == 303
    assert as_role("quality").get("/routings/products/new").status_code == 403
