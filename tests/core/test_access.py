"""Every route declares who may use it, and refuses everyone else: each role is tried on every
page and API endpoint of the app, with real record ids in the URLs."""
from __future__ import annotations

import re

import pytest

from mes.admin import services as admin
from mes.core.auth import ROLE_PERMISSIONS, access_of
from mes.core.models import Role

ROLES = [r.value for r in Role]


@pytest.fixture
def ids(app, users, plant, make_order):  # type: ignore[no-untyped-def]
    order = make_order()
    token_id = None
    admin.create_token(users["admin"], "t")
    from sqlalchemy import select

    from mes.core.db import session
    from mes.core.models import ApiToken

    token_id = session().scalar(select(ApiToken.id))
    kiosk_raw = admin.enroll_kiosk("Tablet", plant.turn, users["admin"])
    del kiosk_raw
    return {
        "order_id": order.id, "operation_id": order.operations[0].id, "routing_id": plant.routing_id,
        "product_id": plant.p1, "machine_id": plant.old, "user_id": users["planner"], "kiosk_id": 1,
        "token_id": token_id, "work_center_id": plant.turn, "downtime_id": 1, "action": "skip", "kind": "routings", "fmt": "csv", "schedule_id": 1,
        "center_id": plant.turn, "family_id": plant.fa, "calendar_id": 1, "exception_id": 1, "reason_id": 1, "report_id": 1,
        "link_id": 1, "token": "no-such-token", "characteristic_id": 1, "ncr_id": 1, "sheet_id": 1,
    }


def _url(rule, ids) -> str:  # type: ignore[no-untyped-def]
    url = rule.rule
    for name in rule.arguments:
        url = re.sub(r"<(?:[^:<>]+:)?" + name + r">", str(ids[name]), url)
    return url


def _rules(app):  # type: ignore[no-untyped-def]
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_endpoint_declares_its_access(app):
    undeclared = [r.endpoint for r, _ in _rules(app) if access_of(app, r.endpoint) is None]
    assert undeclared == []


def _allowed(access, role: str) -> bool:  # type: ignore[no-untyped-def]
    if access in ("public", "login"):
        return True
    perms = access[1] if isinstance(access, tuple) else access
    return bool(set(perms) & ROLE_PERMISSIONS[Role(role)])


@pytest.mark.parametrize("role", ROLES)
def test_pages_refuse_roles_without_access(app, ids, as_role, role):
    client = as_role(role)
    checked = 0
    for rule, method in _rules(app):
        access = access_of(app, rule.endpoint)
        if isinstance(access, tuple) or access == "public":
            continue  # API endpoints are tried with tokens below
        allowed = _allowed(access, role)
        if method != "GET" and allowed:
            continue  # do not actually change things; refusals are what matters here
        response = client.open(_url(rule, ids), method=method)
        where = f"{method} {rule.rule} as {role}"
        if allowed:
            assert response.status_code not in (401, 403) and response.status_code < 500, where
        else:
            assert response.status_code == 403, where
        checked += 1
    assert checked > 20


@pytest.mark.parametrize("role", ROLES)
def test_api_refuses_tokens_without_access(app, ids, users, role):
    client = app.test_client()
    headers = {"Authorization": f"Bearer {admin.create_token(users[role], 'access-test')}"}
    for rule, method in _rules(app):
        access = access_of(app, rule.endpoint)
        if not isinstance(access, tuple):
            continue
        allowed = _allowed(access, role)
        if method != "GET" and allowed:
            continue
        response = client.open(_url(rule, ids), method=method, headers=headers, json={})
        where = f"{method} {rule.rule} as {role}"
        if allowed:
            assert response.status_code not in (401, 403) and response.status_code < 500, where
        else:
            assert response.status_code == 403, where
        assert client.open(_url(rule, ids), method=method, json={}).status_code == 401, where


def test_anonymous_is_sent_to_login(app, ids):
    client = app.test_client()
    for rule, method in _rules(app):
        access = access_of(app, rule.endpoint)
        if access == "public" or isinstance(access, tuple):
            continue
        response = client.open(_url(rule, ids), method=method)
        assert response.status_code == 302 and "/login" in response.headers["Location"], f"{method} {rule.rule}"


def test_state_changes_need_post(app, ids, as_role):
    """No GET changes anything: every endpoint that mutates accepts only POST/PUT/PATCH/DELETE."""
    client = as_role("planner")
    for path in (f"/orders/{ids['order_id']}/status", f"/orders/{ids['order_id']}/split",
                 f"/routings/{ids['routing_id']}/release", "/logout"):
        assert client.get(path).status_code == 405
