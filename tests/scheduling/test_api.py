"""The schedules API: run with progress, stop, a plan with its operations, compare, publish (with
the conflict for a second publisher), pin and unpin; and its place in the OpenAPI document."""
from __future__ import annotations

import datetime as dt
import time

import pytest

from mes.admin import services as admin
from mes.core.db import session
from mes.scheduling.models import OperationPin


@pytest.fixture
def token(users):  # type: ignore[no-untyped-def]
    def make(role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {admin.create_token(users[role], 'test')}"}

    return make


def _wait(client, headers, schedule_id: int) -> dict:  # type: ignore[no-untyped-def]
    for _ in range(200):
        body = client.get(f"/api/v1/schedules/{schedule_id}", headers=headers).get_json()
        if body["status"] != "running":
            return body
        time.sleep(0.1)
    raise AssertionError("the run did not end")


def test_run_plan_compare_pin_publish(client, plant, make_order, token):
    planner = token("planner")
    for i in range(3):
        make_order(due_date=dt.date.today() + dt.timedelta(days=i + 1))
    r = client.post("/api/v1/schedules/", json={"time_limit": 2, "stable": False}, headers=planner)
    assert r.status_code == 202, r.get_json()
    first = _wait(client, planner, r.get_json()["id"])
    assert first["status"] == "draft" and first["objective"]["weighted_tardiness"] >= 0
    plan = client.get(f"/api/v1/schedules/{first['id']}/plan", headers=planner).get_json()
    assert len(plan["operations"]) == 6 and {"start", "end", "machine_id", "pinned"} <= set(plan["operations"][0])
    r = client.post(f"/api/v1/schedules/{first['id']}/publish", json={"version": first["version"], "published": 0}, headers=planner)
    assert r.status_code == 200 and r.get_json()["status"] == "published"
    # Repair run from the published plan, then pin one operation in the new draft.
    r = client.post("/api/v1/schedules/", json={"time_limit": 1, "repair_of": first["id"]}, headers=planner)
    draft = _wait(client, planner, r.get_json()["id"])
    op = next(o for o in client.get(f"/api/v1/schedules/{draft['id']}/plan", headers=planner).get_json()["operations"]
              if o["seq"] == 10)
    target = plant.old if op["machine_id"] == plant.new else plant.new
    r = client.post(f"/api/v1/schedules/{draft['id']}/pins", headers=planner,
                    json={"version": draft["version"], "operation_id": op["operation_id"], "machine_id": target, "position": 0})
    assert r.status_code == 200, r.get_json()
    pinned = client.get(f"/api/v1/schedules/{draft['id']}/plan", headers=planner).get_json()
    moved = next(o for o in pinned["operations"] if o["operation_id"] == op["operation_id"])
    assert moved["machine_id"] == target and moved["pinned"]
    r = client.post(f"/api/v1/schedules/{draft['id']}/pins", headers=planner,
                    json={"version": pinned["version"], "operation_id": op["operation_id"], "machine_id": plant.m1})
    assert r.status_code == 409 and r.get_json()["code"] == "machine_not_eligible"
    cmp = client.get(f"/api/v1/schedules/{draft['id']}/compare", headers=planner).get_json()
    assert cmp["base_id"] == first["id"] and any(m["operation_id"] == op["operation_id"] for m in cmp["moved_operations"])
    assert {"late_orders", "weighted_tardiness_minutes", "makespan_end", "setup_minutes"} <= set(cmp["after"])
    r = client.delete(f"/api/v1/schedules/{draft['id']}/pins/{op['operation_id']}?version={pinned['version']}", headers=planner)
    assert r.status_code == 200
    session().rollback()
    assert session().get(OperationPin, op["operation_id"]) is None
    # Publishing against a plan that is no longer the published one is a conflict.
    fresh = client.get(f"/api/v1/schedules/{draft['id']}", headers=planner).get_json()
    r = client.post(f"/api/v1/schedules/{draft['id']}/publish", json={"version": fresh["version"], "published": 0}, headers=planner)
    assert r.status_code == 409 and r.get_json()["code"] == "published_meanwhile"
    r = client.post(f"/api/v1/schedules/{draft['id']}/publish", json={"version": fresh["version"], "published": first["id"]},
                    headers=planner)
    assert r.status_code == 200
    # Stop on a finished run, bad input, other roles.
    assert client.post(f"/api/v1/schedules/{draft['id']}/stop", headers=planner).status_code == 409
    assert client.post("/api/v1/schedules/", json={"time_limit": 0}, headers=planner).status_code == 422
    assert client.get("/api/v1/schedules/999999/plan", headers=planner).status_code == 404
    assert client.get(f"/api/v1/schedules/{draft['id']}/plan", headers=token("owner")).status_code == 200
    assert client.post("/api/v1/schedules/", json={}, headers=token("owner")).status_code == 403


def test_run_on_an_empty_shop_gives_an_empty_plan(client, plant, token):
    planner = token("planner")
    r = client.post("/api/v1/schedules/", json={"time_limit": 1}, headers=planner)
    body = _wait(client, planner, r.get_json()["id"])
    assert body["status"] == "draft"
    assert client.get(f"/api/v1/schedules/{body['id']}/plan", headers=planner).get_json()["operations"] == []


def test_schedules_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/schedules/", "/api/v1/schedules/{schedule_id}", "/api/v1/schedules/{schedule_id}/plan",
                 "/api/v1/schedules/{schedule_id}/stop", "/api/v1/schedules/{schedule_id}/compare",
                 "/api/v1/schedules/{schedule_id}/publish", "/api/v1/schedules/{schedule_id}/pins",
                 "/api/v1/schedules/{schedule_id}/pins/{operation_id}"):
        assert path in spec["paths"], path
