"""Inspection plans on routing operations: defined on the routing editor's pages, checked, and
copied to a work order's operations at release like the operations themselves."""
from __future__ import annotations

from decimal import Decimal

import pytest

from mes.core.errors import ValidationError
from mes.operations.inspection import CharacteristicInput, validate_characteristic
from mes.operations.models import CharacteristicKind, Frequency


def test_lower_limit_above_upper_is_refused():
    errors = validate_characteristic(CharacteristicInput(name="D", lower_limit=Decimal(2), upper_limit=Decimal(1)))
    assert "lower_limit" in errors
    assert not validate_characteristic(CharacteristicInput(name="D", lower_limit=Decimal(1), upper_limit=Decimal(2)))
    assert "every_n" in validate_characteristic(CharacteristicInput(name="D", upper_limit=Decimal(1),
                                                                    frequency=Frequency.EVERY_N))
    assert "upper_limit" in validate_characteristic(CharacteristicInput(name="D"))  # a measurement needs a limit
    assert not validate_characteristic(CharacteristicInput(name="Look", kind=CharacteristicKind.ATTRIBUTE))


def test_plan_is_copied_to_the_order_at_release(qplant, make_order):
    order = make_order(quantity=12)
    turn = order.operations[0]
    assert turn.inspection_required
    names = [(c.name, c.frequency, c.lower_limit, c.upper_limit, c.every_n) for c in turn.characteristics]
    assert names == [("Diameter", Frequency.FIRST, Decimal("19.9"), Decimal("20.1"), None),
                     ("Length", Frequency.EVERY_N, Decimal("49.8"), Decimal("50.2"), 5),
                     ("Surface", Frequency.LAST, None, None, None)]
    assert all(c.source_characteristic_id for c in turn.characteristics)
    assert turn.characteristics[2].defect_list == ["Scratch", "Burr"]
    assert order.operations[1].characteristics == []


def test_released_routing_plan_cannot_change(qplant):
    from mes.core.db import session
    from mes.core.errors import InvalidTransition
    from mes.routing import services as routing
    from mes.routing.models import Routing

    r = session().get(Routing, qplant.routing_id)
    with pytest.raises(InvalidTransition):
        routing.add_characteristic(r.id, r.operations[0].id, None, CharacteristicInput(name="X", upper_limit=Decimal(1)))


def test_plan_page_adds_and_refuses_bad_limits(as_role, plant):
    from mes.core.db import session
    from mes.routing import services as routing
    from mes.routing.models import Routing

    routing_id = routing.create_version(plant.p1, copy_from_id=plant.routing_id)
    session().rollback()
    r = session().get(Routing, routing_id)
    op = r.operations[0]
    client = as_role("planner")
    url = f"/routings/{routing_id}/operations/{op.id}/inspection"
    assert "Inspection plan" in client.get(f"/routings/{routing_id}").get_data(as_text=True)
    bad = client.post(url, data={"version": r.version, "name": "Bore", "lower_limit": "12.1", "upper_limit": "11.9"},
                      headers={"HX-Request": "true"})
    assert bad.status_code == 422
    assert "lower limit is above" in bad.get_data(as_text=True)
    ok = client.post(url, data={"version": r.version, "name": "Bore", "nominal": "12", "lower_limit": "11,9",
                                "upper_limit": "12.1", "unit": "mm", "frequency": "every_n", "every_n": "10"})
    assert ok.status_code == 200, ok.data
    session().rollback()
    r = session().get(Routing, routing_id)
    (c,) = r.operations[0].characteristics
    assert (c.name, c.lower_limit, c.every_n) == ("Bore", Decimal("11.9"), 10)
    assert "Bore" in client.get(url).get_data(as_text=True)
    # Remove it again; a worker cannot edit plans.
    assert as_role("worker").post(url, data={"version": r.version, "name": "X", "upper_limit": "1"}).status_code == 403
    client.post(f"{url}/{c.id}/remove", data={"version": r.version})
    session().rollback()
    assert session().get(Routing, routing_id).operations[0].characteristics == []


def test_stale_plan_edit_is_refused(plant):
    from mes.core.errors import StaleEdit
    from mes.routing import services as routing

    routing_id = routing.create_version(plant.p1, copy_from_id=plant.routing_id)
    from mes.core.db import session
    from mes.routing.models import Routing

    session().rollback()
    r = session().get(Routing, routing_id)
    with pytest.raises((StaleEdit, ValidationError)):
        routing.add_characteristic(routing_id, r.operations[0].id, r.version - 1,
                                   CharacteristicInput(name="X", upper_limit=Decimal(1)))


def test_a_split_lot_keeps_the_plan(qplant, make_order):
    from mes.core.db import session
    from mes.orders import services as orders
    from mes.orders.models import WorkOrder

    order = make_order(quantity=12)
    child_id = orders.split(order.id, order.version, 4, "partial delivery")
    session().rollback()
    child = session().get(WorkOrder, child_id)
    original = order.operations[0].characteristics
    copied = child.operations[0].characteristics
    assert [c.name for c in copied] == ["Diameter", "Length", "Surface"]
    assert [c.source_characteristic_id for c in copied] == [c.source_characteristic_id for c in original]


def test_plan_line_is_edited_in_place(as_role, plant):
    from mes.core.db import session
    from mes.routing import services as routing
    from mes.routing.models import Routing

    routing_id = routing.create_version(plant.p1, copy_from_id=plant.routing_id)
    session().rollback()
    op = session().get(Routing, routing_id).operations[0]
    char_id = routing.add_characteristic(routing_id, op.id, None, CharacteristicInput(
        name="Bore", lower_limit=Decimal("11.9"), upper_limit=Decimal("12.1")))
    session().rollback()
    version = session().get(Routing, routing_id).version
    client = as_role("planner")
    url = f"/routings/{routing_id}/operations/{op.id}/inspection"
    assert f'data-testid="edit-char-{char_id}"' in client.get(url).get_data(as_text=True)
    bad = client.post(f"{url}/{char_id}", data={"version": version, "name": "Bore", "lower_limit": "13",
                                                "upper_limit": "12"})
    assert bad.status_code == 422
    ok = client.post(f"{url}/{char_id}", data={"version": version, "name": "Bore Ø", "lower_limit": "11.95",
                                               "upper_limit": "12.05", "frequency": "last"})
    assert ok.status_code == 200
    session().rollback()
    c = session().get(Routing, routing_id).operations[0].characteristics[0]
    assert (c.name, c.lower_limit, c.frequency) == ("Bore Ø", Decimal("11.95"), Frequency.LAST)
    stale = client.post(f"{url}/{char_id}", data={"version": version, "name": "X", "upper_limit": "1"})
    assert stale.status_code == 409
