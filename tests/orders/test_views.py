"""Work order pages: the form, a resent form, filters in the list."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from mes.core.db import session
from mes.orders.models import WorkOrder


def test_resent_new_order_form_creates_one_order(as_role, plant):
    client = as_role("planner")
    data = {"product_id": plant.p1, "quantity": 5, "due_date": (dt.date.today() + dt.timedelta(days=3)).isoformat(),
            "priority": "normal", "request_key": "drawn-once"}
    first = client.post("/orders/new", data=data)
    again = client.post("/orders/new", data=data)
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"]
    session().rollback()
    assert session().scalar(select(func.count()).select_from(WorkOrder)) == 1
    client.post("/orders/new", data={**data, "request_key": "another-form"})
    session().rollback()
    assert session().scalar(select(func.count()).select_from(WorkOrder)) == 2


def test_bad_form_shows_errors_beside_fields_and_saves_nothing(as_role, plant):
    client = as_role("planner")
    r = client.post("/orders/new", data={"product_id": plant.p1, "quantity": "", "due_date": "soon", "priority": "normal"},
                    headers={"HX-Request": "true"})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert html.count('class="error"') >= 2 and 'id="order-form"' in html
    assert session().scalar(select(func.count()).select_from(WorkOrder)) == 0


def test_list_defaults_to_open_orders_and_filters(as_role, make_order):
    open_order = make_order(customer="Acme")
    closed = make_order(release=False)
    from mes.orders import services

    services.cancel(closed.id, closed.version, "not needed")
    client = as_role("planner")
    html = client.get("/orders/").get_data(as_text=True)
    assert open_order.number in html and closed.number not in html
    html = client.get("/orders/?status=cancelled").get_data(as_text=True)
    assert closed.number in html and open_order.number not in html
    r = client.get("/orders/?q=acme", headers={"HX-Request": "true"})
    assert r.headers.get("Vary") and "HX-Request" in r.headers["Vary"]
    assert "<html" not in r.get_data(as_text=True) and open_order.number in r.get_data(as_text=True)
    assert client.get("/orders/?due_from=not-a-date").status_code == 422
