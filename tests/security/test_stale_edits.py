"""Every web edit of a versioned record (work orders, routings, schedule versions) must say which
version it was drawn from: without one it is refused (422, localized) instead of overwriting."""
from __future__ import annotations

import datetime as dt

import pytest

from mes.core.db import session
from mes.orders.models import WorkOrder, WorkOrderStatus
from mes.routing.models import Routing


def _edits(plant, order, draft_routing_id):  # type: ignore[no-untyped-def]
    return [
        (f"/orders/{order.id}/status", {"action": "hold", "reason": "no material"}),
        (f"/orders/{order.id}/edit", {"product_id": str(plant.p1), "quantity": "10", "priority": "normal",
                                      "due_date": (dt.date.today() + dt.timedelta(days=9)).isoformat()}),
        (f"/orders/{order.id}/split", {"quantity": "2", "reason": "rush"}),
        (f"/orders/{order.id}/operations/{order.operations[0].id}/move", {"direction": "down", "reason": "x"}),
        (f"/orders/{order.id}/operations", {"name": "Paint", "work_center_id": str(plant.mill), "run_minutes": "1",
                                            "reason": "customer wants paint"}),
        (f"/routings/{draft_routing_id}/operations", {"name": "Paint", "work_center_id": str(plant.mill), "run_minutes": "1"}),
        (f"/routings/{draft_routing_id}/header", {"note": "changed"}),
        (f"/routings/{draft_routing_id}/release", {}),
        (f"/routings/{draft_routing_id}/obsolete", {}),
    ]


def test_edits_without_a_version_are_refused(as_role, plant, make_order):
    from mes.routing import services as routing

    order = make_order()
    draft = routing.create_version(plant.p1)
    client = as_role("planner")
    client.post("/locale", data={"locale": "zh_CN"})
    for url, data in _edits(plant, order, draft):
        r = client.post(url, data=data)
        assert r.status_code == 422, url
        assert "此表单已过期" in r.get_data(as_text=True), url
    session().rollback()
    assert session().get(WorkOrder, order.id).status == WorkOrderStatus.RELEASED
    assert session().get(Routing, draft).note is None


@pytest.mark.parametrize("htmx", [False, True])
def test_stale_version_is_a_conflict(as_role, plant, make_order, htmx):
    order = make_order()
    client = as_role("planner")
    headers = {"HX-Request": "true"} if htmx else {}
    r = client.post(f"/orders/{order.id}/status", data={"action": "hold", "reason": "x", "version": str(order.version - 1 or 99)},
                    headers=headers)
    assert r.status_code == 409


def test_publish_needs_the_version(as_role, plant, make_order):
    from mes.scheduling import services as scheduling

    make_order()
    schedule_id = scheduling.start_run(time_limit=1, workers=1, wait=True)
    assert as_role("planner").post(f"/schedule/{schedule_id}/publish").status_code == 422
