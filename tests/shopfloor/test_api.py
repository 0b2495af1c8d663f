"""The floor's JSON API: the same lifecycle with an Idempotency-Key; bad input is a 422."""
from __future__ import annotations

from sqlalchemy import func, select

from mes.admin import services as admin
from mes.core.db import session
from mes.orders.models import Operation, ProductionReport


def test_floor_api_with_idempotency_key(client, users, plant, make_order):
    order = make_order(quantity=5)
    op_id = order.operations[0].id
    auth = {"Authorization": f"Bearer {admin.create_token(users['worker'], 'terminal')}"}
    url = f"/api/v1/floor/operations/{op_id}"
    assert client.post(f"{url}/report", json={"good": 1}, headers=auth).status_code == 409  # not started
    r = client.post(f"{url}/start", json={"phase": "run", "machine_id": plant.old}, headers=auth)
    assert r.status_code == 200 and r.json["status"] == "in_progress"
    headers = auth | {"Idempotency-Key": "tap-1"}
    assert client.post(f"{url}/report", json={"good": 2}, headers=headers).status_code == 201
    assert client.post(f"{url}/report", json={"good": 2}, headers=headers).status_code == 201
    assert client.post(f"{url}/report", json={"good": 3}, headers=headers).status_code == 422
    assert client.post(f"{url}/report", json={"good": -1}, headers=auth).status_code == 422
    assert client.post(f"{url}/report", json={"good": "x"}, headers=auth).status_code == 422
    assert client.post(f"{url}/report", json={"good": 4}, headers=auth).status_code == 422  # more than available
    session().rollback()
    assert session().scalar(select(func.count()).select_from(ProductionReport)) == 1
    r = client.post(f"{url}/finish", json={"good": 3}, headers=auth)
    assert r.status_code == 200 and r.json["status"] == "done"
    session().rollback()
    assert session().get(Operation, op_id).qty_good == 5
    planner = {"Authorization": f"Bearer {admin.create_token(users['planner'], 'x')}"}
    assert client.post(f"{url}/resume", headers=planner).status_code == 403


def test_order_page_shows_who_worked_on_each_operation(as_role, users, plant, make_order):

    import uuid

    from mes.shopfloor import services

    order = make_order()
    op_id = order.operations[0].id
    services.start(users["worker"], uuid.uuid4().hex, op_id, "run", plant.old)
    services.book_time(users["worker"], uuid.uuid4().hex, op_id, "run", 25, 0, 0, None, "entered later")
    html = as_role("planner").get(f"/orders/{order.id}").get_data(as_text=True)
    assert "Worker: 25 min" in html


def test_job_traveler_pdf(as_role, make_order):
    order = make_order()
    r = as_role("planner").get(f"/floor/orders/{order.id}/traveler.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf" and r.data.startswith(b"%PDF")
    assert b"STSong-Light" in r.data
    assert as_role("worker").get(f"/floor/orders/{order.id}/traveler.pdf").status_code == 200
    assert as_role("planner").get("/floor/orders/99999/traveler.pdf").status_code == 404
