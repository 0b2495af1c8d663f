"""The terminal's pages: the card's actions over HTTP (bad input gets a message and records
nothing), paging and the machine filter, the terminal's login screen after any logout, its
"last seen", the language, and the reason lists page."""
from __future__ import annotations

import uuid

from sqlalchemy import func, select

from mes.core.db import session
from mes.core.models import KioskDevice
from mes.machines.models import Reason, ReasonKind
from mes.orders.models import Operation, ProductionReport
from tests.conftest import login


def _post(client, url, **data):  # type: ignore[no-untyped-def]
    data.setdefault("request_key", uuid.uuid4().hex)
    return client.post(url, data=data, headers={"HX-Request": "true", "HX-Target": "floor-card"})


def _count() -> int:
    session().rollback()
    return session().scalar(select(func.count()).select_from(ProductionReport))


def test_card_actions_over_http(as_role, plant, make_order):
    order = make_order(quantity=10)
    turn = order.operations[0]
    worker = as_role("worker")
    base = f"/floor/operations/{turn.id}"
    html = worker.get(base).get_data(as_text=True)
    assert 'value="setup"' in html and 'name="machine_id"' in html
    r = _post(worker, f"{base}/start", phase="run", machine_id=plant.new)
    assert r.status_code == 200 and 'id="floor-card"' in r.get_data(as_text=True)
    for bad in ("-1", "1.5", "abc", "99999999"):
        r = _post(worker, f"{base}/report", good=bad)
        assert r.status_code == 422, bad
        assert "整数" in r.get_data(as_text=True)  # in the worker's language
    assert _post(worker, f"{base}/report", good="11").status_code == 422
    assert _count() == 0
    k = uuid.uuid4().hex
    assert _post(worker, f"{base}/report", good="4", request_key=k).status_code == 200
    assert _post(worker, f"{base}/report", good="4", request_key=k).status_code == 200  # a resend
    assert _count() == 1
    pause = session().scalar(select(Reason.id).where(Reason.kind == ReasonKind.PAUSE, Reason.code == "break"))
    assert _post(worker, f"{base}/pause").status_code == 422
    assert _post(worker, f"{base}/pause", reason_id=pause).status_code == 200
    assert _post(worker, f"{base}/resume").status_code == 200
    assert _post(worker, f"{base}/finish", good="6").status_code == 200
    session().rollback()
    assert session().get(Operation, turn.id).qty_good == 10
    # The worker's running operations show on every floor page.
    mill = order.operations[1]
    _post(worker, f"/floor/operations/{mill.id}/start", phase="run", machine_id=plant.m1)
    assert f"{order.number} / 20" in worker.get("/floor/").get_data(as_text=True)


def test_only_shop_floor_users_act(as_role, make_order):
    order = make_order()
    planner = as_role("planner")
    assert planner.get("/floor/").status_code == 403
    assert _post(planner, f"/floor/operations/{order.operations[0].id}/start", phase="run").status_code == 403


def test_unknown_badge_is_refused_in_chinese(client, users):
    r = client.post("/floor/login", data={"badge-badge": "NOPE"})
    assert r.status_code == 401 and "登录失败" in r.get_data(as_text=True)


def test_dispatch_pages_and_machine_filter(app, as_role, plant, make_order, monkeypatch):
    from mes.shopfloor import services

    orders = [make_order() for _ in range(3)]
    worker = as_role("worker")
    monkeypatch.setattr(services, "PER_PAGE", 2)
    page1 = worker.get("/floor/").get_data(as_text=True)
    assert "/floor/?page=2" in page1
    page2 = worker.get("/floor/?page=2").get_data(as_text=True)
    assert page1.count('class="opcard-head"') == 2 and page2.count('class="opcard-head"') == 2
    monkeypatch.setattr(services, "PER_PAGE", 50)
    only_mill = worker.get(f"/floor/?machine={plant.m1}").get_data(as_text=True)
    assert only_mill.count('class="opcard-head"') == 3 and "Mill" in only_mill and "Turn</span>" not in only_mill
    assert worker.get("/floor/?page=abc&machine=-3").status_code == 200
    assert orders


def test_terminal_login_after_admin_logout_and_last_seen(app, users, plant):
    admin = app.test_client()
    login(admin, "admin")
    admin.post("/admin/kiosks", data={"name": "Tablet", "work_center_id": plant.turn})
    r = admin.post("/logout")
    assert r.headers["Location"].endswith("/floor/login")
    tablet = app.test_client()
    tablet.set_cookie("mes_kiosk", admin.get_cookie("mes_kiosk").value)
    assert tablet.post("/floor/login", data={"pin-employee_no": "7001", "pin-pin": "2468"}).status_code == 303
    session().rollback()
    assert session().scalar(select(KioskDevice.last_seen_at)) is None
    tablet.get("/floor/")
    session().rollback()
    seen = session().scalar(select(KioskDevice.last_seen_at))
    assert seen is not None
    tablet.get("/floor/")
    session().rollback()
    assert session().scalar(select(KioskDevice.last_seen_at)) == seen  # throttled


def test_floor_language_switch(as_role):
    worker = as_role("worker")
    assert "中文" not in worker.get("/floor/").get_data(as_text=True).split("floorbar")[1][:600]
    worker.post("/locale", data={"locale": "en"})
    assert "What to run next" in worker.get("/floor/").get_data(as_text=True)


def test_reason_lists_page(as_role):
    planner = as_role("planner")
    html = planner.get("/machines/reasons").get_data(as_text=True)
    assert "Waiting for material" in html and "等待物料" in html
    r = planner.post("/machines/reasons", data={"kind": "scrap", "code": "burr", "name_en": "Burr", "name_zh": ""})
    assert r.status_code == 422
    r = planner.post("/machines/reasons", data={"kind": "scrap", "code": "burr", "name_en": "Burr", "name_zh": "毛刺"})
    assert r.status_code == 200
    burr = session().scalar(select(Reason).where(Reason.code == "burr"))
    assert planner.post(f"/machines/reasons/{burr.id}", data={"code": "burr", "name_en": "Burrs", "name_zh": "毛刺",
                                                              "sort_order": "5"}).status_code == 200
    assert planner.post(f"/machines/reasons/{burr.id}/active", data={"active": "0"}).status_code == 200
    session().rollback()
    assert session().get(Reason, burr.id).active is False and session().get(Reason, burr.id).name_en == "Burrs"
    assert as_role("quality").post("/machines/reasons", data={"kind": "scrap", "code": "x", "name_en": "x",
                                                              "name_zh": "x"}).status_code == 403
    from mes.machines import services

    assert services.seed_reasons() == 0  # first-run safe: the defaults are there already
