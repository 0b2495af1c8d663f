"""The JSON API: bearer tokens, JSON errors with field messages, work orders, machines, routings,
changes to a released order's operations, retries with an Idempotency-Key, the OpenAPI document."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from mes.admin import services as admin
from mes.core.db import session
from mes.orders.models import WorkOrder

DUE = (dt.date.today() + dt.timedelta(days=10)).isoformat()


@pytest.fixture
def token(users):  # type: ignore[no-untyped-def]
    def make(role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {admin.create_token(users[role], 'test')}"}

    return make


def test_requests_without_a_valid_token_get_401_json(client, users):
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        r = client.get("/api/v1/work-orders/", headers=headers)
        assert r.status_code == 401
        assert r.get_json()["code"] == "unauthorized"


def test_revoked_and_expired_tokens_are_refused(client, users):
    raw = admin.create_token(users["planner"], "t")
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.get("/api/v1/work-orders/", headers=headers).status_code == 200
    from mes.core.models import ApiToken

    admin.revoke_token(session().scalar(select(ApiToken.id)))
    assert client.get("/api/v1/work-orders/", headers=headers).status_code == 401


def test_session_cookie_does_not_authenticate_the_api(app, users):
    from tests.conftest import login

    c = app.test_client()
    login(c, "planner")
    assert c.get("/api/v1/work-orders/").status_code == 401


def test_role_without_access_gets_403(client, token, plant):
    r = client.get("/api/v1/work-orders/", headers=token("worker"))
    assert r.status_code == 403 and r.get_json()["code"] == "forbidden"
    r = client.post("/api/v1/work-orders/", json={"product": "P-1", "quantity": 1, "due_date": DUE}, headers=token("owner"))
    assert r.status_code == 403
    assert session().scalar(select(func.count()).select_from(WorkOrder)) == 0


def test_create_list_get_work_orders(client, token, plant):
    h = token("planner")
    r = client.post("/api/v1/work-orders/", json={"product": "P-1", "quantity": 12, "due_date": DUE, "customer": "Acme"}, headers=h)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["product"] == "P-1" and body["status"] == "draft" and body["quantity"] == 12
    for i in range(3):
        client.post("/api/v1/work-orders/", json={"product": "P-1", "quantity": i + 1, "due_date": DUE}, headers=h)
    r = client.get("/api/v1/work-orders/?page_size=2&page=2&sort=number", headers=h)
    page = r.get_json()
    assert page["total"] == 4 and len(page["items"]) == 2
    r = client.get("/api/v1/work-orders/?q=acme&status=draft", headers=h)
    assert [o["id"] for o in r.get_json()["items"]] == [body["id"]]
    assert client.get(f"/api/v1/work-orders/{body['id']}", headers=h).get_json()["customer"] == "Acme"
    assert client.get("/api/v1/work-orders/9999", headers=h).status_code == 404


def test_bad_input_gets_field_errors(client, token, plant):
    h = token("planner")
    r = client.post("/api/v1/work-orders/", json={"product": "P-1", "quantity": "many"}, headers=h)
    assert r.status_code == 422
    errors = r.get_json()["errors"]
    assert "quantity" in errors and "due_date" in errors
    r = client.post("/api/v1/work-orders/", json={"product": "P-1", "quantity": 0, "due_date": DUE,
                                                  "release_date": "2099-01-01"}, headers=h)
    assert r.status_code == 422
    assert set(r.get_json()["errors"]) == {"quantity", "due_date"}
    r = client.post("/api/v1/work-orders/", json={"product": "NOPE", "quantity": 1, "due_date": DUE}, headers=h)
    assert r.status_code == 422 and "product" in r.get_json()["errors"]
    r = client.post("/api/v1/work-orders/", data="not json", headers={**h, "Content-Type": "application/json"})
    assert r.status_code in (400, 422)
    assert session().scalar(select(func.count()).select_from(WorkOrder)) == 0


def test_retry_with_idempotency_key_creates_once(client, token, plant):
    h = {**token("planner"), "Idempotency-Key": "form-123"}
    payload = {"product": "P-1", "quantity": 5, "due_date": DUE}
    first = client.post("/api/v1/work-orders/", json=payload, headers=h)
    again = client.post("/api/v1/work-orders/", json=payload, headers=h)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert first.get_json() == again.get_json()
    assert session().scalar(select(func.count()).select_from(WorkOrder)) == 1
    other = client.post("/api/v1/work-orders/", json={**payload, "quantity": 6}, headers=h)
    assert other.status_code == 422 and other.get_json()["code"] == "idempotency_mismatch"
    # A failed request frees its key: the corrected retry goes through.
    h2 = {**token("planner"), "Idempotency-Key": "form-456"}
    assert client.post("/api/v1/work-orders/", json={**payload, "quantity": 0}, headers=h2).status_code == 422
    assert client.post("/api/v1/work-orders/", json={**payload, "quantity": 0}, headers=h2).status_code == 422
    assert session().scalar(select(func.count()).select_from(WorkOrder)) == 1


def test_status_changes_and_stale_version(client, token, plant):
    h = token("planner")
    order = client.post("/api/v1/work-orders/", json={"product": "P-1", "quantity": 5, "due_date": DUE}, headers=h).get_json()
    r = client.post(f"/api/v1/work-orders/{order['id']}/status", json={"action": "release", "version": order["version"]}, headers=h)
    assert r.status_code == 200 and r.get_json()["status"] == "released"
    r = client.post(f"/api/v1/work-orders/{order['id']}/status", json={"action": "hold", "version": order["version"], "reason": "x"}, headers=h)
    assert r.status_code == 409
    body = r.get_json()
    assert body["code"] == "stale" and body["changed_by"] == "Planner" and body["changed_at"]
    current = client.get(f"/api/v1/work-orders/{order['id']}", headers=h).get_json()["version"]
    r = client.post(f"/api/v1/work-orders/{order['id']}/status", json={"action": "close", "version": current}, headers=h)
    assert r.status_code == 409 and r.get_json()["code"] == "invalid_transition"
    r = client.post(f"/api/v1/work-orders/{order['id']}/status", json={"action": "explode", "version": 1}, headers=h)
    assert r.status_code == 422


def test_machines(client, token, plant):
    h = token("planner")
    rows = client.get("/api/v1/machines/", headers=h).get_json()
    assert {m["code"] for m in rows} == {"L-OLD", "L-NEW", "M-1"}
    rows = client.get("/api/v1/machines/?work_center=TURN", headers=h).get_json()
    assert {m["code"] for m in rows} == {"L-OLD", "L-NEW"}
    m = client.get(f"/api/v1/machines/{plant.new}", headers=h).get_json()
    assert m["has_data_connection"] is True and m["work_center"] == "TURN"
    assert client.get("/api/v1/machines/999", headers=h).status_code == 404
    assert client.get("/api/v1/machines/", headers=token("worker")).status_code == 200


def test_routing_get_create_release(client, token, plant):
    h = token("planner")
    r = client.get(f"/api/v1/routings/{plant.routing_id}", headers=h).get_json()
    assert [o["name"] for o in r["operations"]] == ["Turn", "Mill"]
    assert {m["machine"] for m in r["operations"][0]["machines"]} == {"L-OLD", "L-NEW"}
    new = client.post("/api/v1/routings/", json={"product": "P-2", "operations": [
        {"seq": 10, "name": "Turn A", "work_center": "TURN", "run_minutes": "2"},
        {"seq": 20, "name": "Mill B", "work_center": "MILL", "run_minutes": "3", "predecessors": []},
        {"seq": 30, "name": "Join", "work_center": "MILL", "machines": [{"machine": "M-1", "setup_minutes": "5", "run_minutes": "1"}],
         "predecessors": [10, 20], "transfer_batch": 5},
    ]}, headers=h)
    assert new.status_code == 201, new.get_json()
    body = new.get_json()
    assert body["status"] == "draft" and [o["predecessors"] for o in body["operations"]] == [None, [], [10, 20]]
    r = client.post(f"/api/v1/routings/{body['id']}/release", json={"version": body["version"]}, headers=h)
    assert r.status_code == 200 and r.get_json()["status"] == "released"
    listed = client.get("/api/v1/routings/?product=P-2", headers=h).get_json()
    assert [x["status"] for x in listed] == ["released"]


def test_routing_validation_names_the_operation(client, token, plant):
    h = token("planner")
    r = client.post("/api/v1/routings/", json={"product": "P-2", "operations": [
        {"seq": 10, "name": "A", "work_center": "TURN", "run_minutes": "-1"},
        {"seq": 20, "name": "B", "work_center": "NOWHERE", "run_minutes": "1"},
    ]}, headers=h)
    assert r.status_code == 422
    assert "operations.1.work_center" in r.get_json()["errors"]
    r = client.post("/api/v1/routings/", json={"product": "P-2", "operations": [
        {"seq": 10, "name": "A", "work_center": "TURN", "run_minutes": "1", "predecessors": [20]},
        {"seq": 20, "name": "B", "work_center": "TURN", "run_minutes": "1"},
    ]}, headers=h)
    assert r.status_code == 422 and "cycle" in r.get_json()["message"]
    assert client.get("/api/v1/routings/?product=P-2", headers=h).get_json() == []


def test_change_a_released_orders_operations(client, token, plant, make_order):
    h = token("planner")
    order = make_order()
    ops = client.get(f"/api/v1/work-orders/{order.id}/operations", headers=h).get_json()
    assert [(o["seq"], o["status"], o["remaining"]) for o in ops] == [(10, "pending", 10), (20, "pending", 10)]
    r = client.post(f"/api/v1/work-orders/{order.id}/operations", json={
        "version": order.version, "reason": "rework",
        "operation": {"seq": 15, "name": "Rework", "work_center": "TURN", "run_minutes": "1"}}, headers=h)
    assert r.status_code == 201 and [o["seq"] for o in r.get_json()] == [10, 15, 20]
    version = client.get(f"/api/v1/work-orders/{order.id}", headers=h).get_json()["version"]
    r = client.post(f"/api/v1/work-orders/{order.id}/operations/{ops[1]['id']}/skip", json={"version": version, "reason": "no milling"}, headers=h)
    assert r.status_code == 200 and r.get_json()[2]["status"] == "skipped"
    r = client.post(f"/api/v1/work-orders/{order.id}/operations/{ops[1]['id']}/skip", json={"version": version}, headers=h)
    assert r.status_code == 422 and "reason" in r.get_json()["errors"]
    version = client.get(f"/api/v1/work-orders/{order.id}", headers=h).get_json()["version"]
    r = client.put(f"/api/v1/work-orders/{order.id}/operations/{ops[0]['id']}", json={
        "version": version, "reason": "new lathe only",
        "operation": {"name": "Turn", "work_center": "TURN", "machines": [{"machine": "L-NEW", "setup_minutes": "10", "run_minutes": "1.5"}]}}, headers=h)
    assert r.status_code == 200 and [m["machine"] for m in r.get_json()[0]["machines"]] == ["L-NEW"]


def test_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/work-orders/" in spec["paths"] and "/api/v1/machines/{machine_id}" in spec["paths"]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


@pytest.mark.parametrize("field, value", [
    ("note", "x" * 2001), ("customer", "c" * 121), ("note", "bell\x07"), ("customer", "esc\x1b[31m"),
    ("number", "WO\x0b1"), ("note", "a\x00b"),
])
def test_api_text_fields_are_bounded_and_clean(client, token, plant, field, value):
    body = {"product": "P-1", "quantity": 5, "due_date": DUE, field: value}
    r = client.post("/api/v1/work-orders/", json=body, headers=token("planner"))
    assert r.status_code in (400, 422)
    if r.status_code == 422:
        assert field in r.get_json()["errors"]


def test_api_text_keeps_line_breaks_and_tabs(client, token, plant):
    r = client.post("/api/v1/work-orders/", json={"product": "P-1", "quantity": 5, "due_date": DUE,
                                                  "note": "line one\r\nline two\tend"}, headers=token("planner"))
    assert r.status_code == 201 and r.get_json()["note"] == "line one\r\nline two\tend"


def test_routing_operation_texts_are_bounded(client, token, plant):
    op = {"name": "Paint", "work_center": "MILL", "instructions": "i" * 4001}
    r = client.post("/api/v1/routings/", json={"product": "P-1", "operations": [op]}, headers=token("planner"))
    assert r.status_code == 422
    op = {"name": "Pa\x01int", "work_center": "MILL"}
    r = client.post("/api/v1/routings/", json={"product": "P-1", "operations": [op]}, headers=token("planner"))
    assert r.status_code == 422
