"""The shop-floor terminal: what to run next, and an operation's card, per terminal work center."""
from __future__ import annotations

from tests.conftest import login


def _kiosk_client(app, plant, work_center_id):  # type: ignore[no-untyped-def]
    admin = app.test_client()
    login(admin, "admin")
    admin.post("/admin/kiosks", data={"name": "Tablet", "work_center_id": work_center_id})
    client = app.test_client()
    client.set_cookie("mes_kiosk", admin.get_cookie("mes_kiosk").value)
    assert client.post("/floor/login", data={"pin-employee_no": "7001", "pin-pin": "2468"}).status_code == 303
    return client


def test_terminal_shows_its_work_center_and_refuses_other_operations(app, users, plant, make_order):
    order = make_order()
    turn, mill = order.operations
    client = _kiosk_client(app, plant, plant.turn)
    html = client.get("/floor/").get_data(as_text=True)
    assert f"{order.number}</strong> · 10 Turn" in html and "20 Mill" not in html
    assert client.get(f"/floor/operations/{turn.id}").status_code == 200
    assert client.get(f"/floor/operations/{mill.id}").status_code == 403
    assert client.get("/floor/operations/99999").status_code == 404


def test_worker_without_terminal_work_center_sees_everything(as_role, plant, make_order):
    order = make_order()
    client = as_role("worker")
    html = client.get("/floor/").get_data(as_text=True)
    assert "10 Turn" in html and "20 Mill" in html
    assert client.get(f"/floor/operations/{order.operations[1].id}").status_code == 200
    assert "等待上道工序" in html  # the floor speaks Chinese by default
