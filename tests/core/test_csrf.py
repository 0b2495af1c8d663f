"""CSRF: forms carry the token, htmx requests send it as a header, an expired page recovers."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from mes.core.db import session
from mes.orders.models import WorkOrder
from tests.conftest import PASSWORD, make_app


@pytest.fixture
def csrf_app(database_url, tmp_path, users):  # type: ignore[no-untyped-def]
    application = make_app(database_url, tmp_path, WTF_CSRF_ENABLED=True)
    yield application
    application.extensions["mes.db"].dispose()


def token_of(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def header_token_of(html: str) -> str:
    return re.search(r'"X-CSRFToken": "([^"]+)"', html).group(1)


def test_login_form_without_token_is_refused(csrf_app):
    client = csrf_app.test_client()
    r = client.post("/login", data={"username": "planner", "password": PASSWORD})
    assert r.status_code == 400
    assert client.get("/orders/").status_code == 302


def test_login_form_with_token_works(csrf_app):
    client = csrf_app.test_client()
    token = token_of(client.get("/login").get_data(as_text=True))
    r = client.post("/login", data={"username": "planner", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 303


def _logged_in(csrf_app):  # type: ignore[no-untyped-def]
    client = csrf_app.test_client()
    token = token_of(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"username": "planner", "password": PASSWORD, "csrf_token": token})
    return client


def test_htmx_post_with_header_token(csrf_app, plant, make_order):
    with csrf_app.app_context():
        order = make_order(release=False)
    client = _logged_in(csrf_app)
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    header = header_token_of(page)
    data = {"action": "release", "version": str(order.version)}
    r = client.post(f"/orders/{order.id}/status", data=data, headers={"HX-Request": "true"})
    assert r.status_code == 400
    assert r.headers["X-CSRF-Expired"] == "1"  # the page script retries once with the fresh token
    r = client.post(f"/orders/{order.id}/status", data=data, headers={"HX-Request": "true", "X-CSRFToken": "forged"})
    assert r.status_code == 400
    r = client.post(f"/orders/{order.id}/status", data=data, headers={"HX-Request": "true", "X-CSRFToken": header})
    assert r.status_code == 200 and "Released" in r.get_data(as_text=True)


def test_expired_token_hands_out_a_fresh_one_that_works(csrf_app, plant, make_order):
    with csrf_app.app_context():
        order = make_order(release=False)
    client = _logged_in(csrf_app)
    data = {"action": "release", "version": str(order.version)}
    r = client.post(f"/orders/{order.id}/status", data=data, headers={"HX-Request": "true", "X-CSRFToken": "stale-token"})
    fresh = r.headers["X-CSRF-Token"]
    r = client.post(f"/orders/{order.id}/status", data=data, headers={"HX-Request": "true", "X-CSRFToken": fresh})
    assert r.status_code == 200


def test_api_is_exempt_but_needs_a_token(csrf_app, users, plant):
    """The API takes no CSRF token (it is not cookie-authenticated), so a change without one
    goes through with a valid bearer token and is refused without one or with a wrong one."""
    from mes.admin import services as admin

    with csrf_app.app_context():
        raw = admin.create_token(users["planner"], "t")
    client = csrf_app.test_client()
    body = {"product": "P-1", "quantity": 5, "due_date": "2030-01-31"}
    assert client.post("/api/v1/work-orders/", json=body).status_code == 401
    assert client.post("/api/v1/work-orders/", json=body, headers={"Authorization": "Bearer mes_wrong"}).status_code == 401
    r = client.post("/api/v1/work-orders/", json=body, headers={"Authorization": f"Bearer {raw}"})
    assert r.status_code == 201 and r.get_json()["product"] == "P-1"
    with csrf_app.app_context():
        assert session().scalar(select(func.count()).select_from(WorkOrder)) == 1
