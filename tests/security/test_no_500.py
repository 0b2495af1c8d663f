"""No request makes the server fail: every registered route, as each role and anonymously, with
ids out of range, hostile query strings and hostile form and JSON bodies, answers below 500.

Unexpected exceptions propagate in the test app (TESTING), so a failure shows its traceback."""
from __future__ import annotations

import json
import re

import pytest

from mes.admin import services as admin
from mes.core.auth import access_of
from mes.core.models import Role

BIG = str(2**63)
HUGE = "9" * 30
ENORMOUS = "9" * 5000
INT_VALUES = ["0", "00", BIG, HUGE, ENORMOUS]
TEXT_VALUES = ["%00", "x" * 3000, "%ED%A0%80", "..%2F..%2Fetc", "%F0%9F%98%80"]

QUERIES = [
    # Integers past what the database holds, a search too long for a LIKE pattern, dates at the ends of time.
    {"page": HUGE, "page_size": HUGE, "product": HUGE, "family": HUGE, "entity_id": HUGE, "work_center_id": HUGE,
     "operation_id": HUGE, "after": HUGE, "machine_ids": HUGE, "q": "x" * 60000, "due_from": "0001-01-01",
     "due_to": "9999-12-31", "late": "1", "sort": "due", "status": "released", "kind": "routings", "entity": "x" * 500},
    {"page": "-5", "page_size": "-1", "product": "abc", "family": "1e400", "entity_id": "-9223372036854775809",
     "work_center_id": "0", "q": "%_[]\\" * 50, "due_from": "2026-02-30", "due_to": "1-1-1", "status": "é" * 100},
    {"q": "a\x00b", "next": "/\x00"},
    "q=%ED%A0%80&status=%FF%FE&page=%EF%BC%91&product=%D9%A3",  # invalid UTF-8, a full-width and an Arabic digit
]
FORMS = [
    {"seq": HUGE, "copy_from": HUGE, "version": HUGE, "quantity": HUGE, "time_limit": HUGE, "frozen_hours": HUGE,
     "work_center_id": HUGE, "machine_ids": HUGE, "product_id": HUGE, "family_id": HUGE, "operation_id": HUGE,
     "setup_minutes": HUGE, "run_minutes": HUGE, "transfer_batch": HUGE, "predecessors": HUGE, "priority": HUGE,
     "days": HUGE, "default": HUGE, "m-1-1": HUGE, "m-1-2": HUGE, "parent_id": HUGE, "split_quantity": HUGE,
     "due_date": "0001-01-01", "release_date": "9999-12-31", "effective_from": "0001-01-01",
     "starts_at": "0001-01-01T00:00", "ends_at": "9999-12-31T23:59", "note": "n" * 20000, "name": "x" * 5000,
     "reason": "r" * 20000, "action": "release", "direction": "up", "kind": "breakdown", "status": "available"},
    {"product_id": "1", "quantity": "5", "due_date": "0001-01-01", "release_date": "0001-01-01", "priority": "normal",
     "version": "1", "effective_from": "0001-01-01", "starts_at": "0001-01-01T00:00", "kind": "breakdown",
     "action": "release", "name": "Paint", "work_center_id": "1"},
    {"product_id": "1", "quantity": "5", "due_date": "9999-12-31", "priority": "normal", "version": "1",
     "effective_from": "9999-12-31", "starts_at": "9999-12-31T23:59", "kind": "breakdown"},
    {"seq": "-1", "version": "1", "quantity": "-3", "due_date": "9999-12-31", "release_date": "0001-01-01",
     "effective_from": "9999-12-31", "starts_at": "9999-12-31T23:59", "ends_at": "0001-01-01T00:00", "name": "\x00",
     "note": "a\x00b", "action": "hold", "reason": "x", "kind": "maintenance"},
]
DEEP = "[" * 5000 + "]" * 5000
JSON_BODIES = [
    DEEP,
    '{"note": "\\ud800", "name": "\\udfff", "instructions": "\\ud800", "reason": "\\ud800", "customer": "\\ud800"}',
    json.dumps({"product": "P-1", "quantity": int(HUGE), "due_date": "0001-01-01", "release_date": "9999-12-31",
                "version": int(HUGE), "seq": int(HUGE), "copy_from": int(HUGE), "transfer_batch": int(HUGE),
                "predecessors": [int(HUGE)], "name": "x" * 100000, "work_center": "TURN", "note": "n" * 100000,
                "setup_minutes": 1e308, "run_minutes": "NaN", "action": "release", "machines": [{"machine": "L-OLD",
                "setup_minutes": 1e308, "run_minutes": -1}], "effective_from": "0001-01-01", "priority": HUGE}),
    json.dumps({"product": "P-1", "quantity": 5, "due_date": "0001-01-01", "release_date": "0001-01-01", "version": 1,
                "effective_from": "0001-01-01", "action": "release", "name": "Paint", "work_center": "TURN"}),
    json.dumps({"product": "P-1", "quantity": 5, "due_date": "9999-12-31", "version": 1, "effective_from": "9999-12-31"}),
    json.dumps({"product": "P-1", "quantity": 5, "due_date": "2026-12-24", "note": "a\x00b", "customer": "\x00",
                "name": "a\x00", "work_center": "TURN", "version": 1, "action": "hold", "reason": "\x00"}),
]


@pytest.fixture
def world(app, users, plant, make_order):  # type: ignore[no-untyped-def]
    order = make_order()
    return {"order_id": order.id, "operation_id": order.operations[0].id, "routing_id": plant.routing_id,
            "product_id": plant.p1, "machine_id": plant.old, "user_id": users["planner"], "kiosk_id": 1,
            "token_id": 1, "work_center_id": plant.turn, "downtime_id": 1, "schedule_id": 1, "center_id": plant.turn,
            "family_id": plant.fa, "calendar_id": 1, "exception_id": 1,
            "reason_id": 1, "report_id": 1, "link_id": 1, "token": "no-such-token",
             "characteristic_id": 1, "ncr_id": 1, "sheet_id": 1}


def _any_value(rule, name):  # type: ignore[no-untyped-def]
    converter = rule._converters.get(name)  # None: a default of the rule, not a path argument
    if hasattr(converter, "regex") and converter.regex.startswith("(?:"):
        return converter.regex[3:-1].split("|")[0]
    return None


def _url(rule, values) -> str:  # type: ignore[no-untyped-def]
    url = rule.rule
    for name in rule._converters:  # the URL's own arguments, not a rule's defaults
        url = re.sub(r"<(?:[^<>]+:)?" + name + r">", str(values(name)), url)
    return url


def _variants(rule, world):  # type: ignore[no-untyped-def]
    """The URL with real ids, then the distinct URLs with each hostile value in every argument."""
    def valid(name):  # type: ignore[no-untyped-def]
        return _any_value(rule, name) or world.get(name, 1)

    urls = [_url(rule, valid)]
    for hostile in INT_VALUES + TEXT_VALUES:
        def value(name, hostile=hostile):  # type: ignore[no-untyped-def]
            if _any_value(rule, name):
                return _any_value(rule, name) if hostile in INT_VALUES else hostile
            is_int = type(rule._converters.get(name)).__name__ in ("IdConverter", "IntegerConverter")
            return hostile if (hostile in INT_VALUES) == is_int else valid(name)
        if (url := _url(rule, value)) not in urls:
            urls.append(url)
    return urls[0], urls[1:]


def _rules(app):  # type: ignore[no-untyped-def]
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def _check(send, where):  # type: ignore[no-untyped-def]
    try:
        response = send()
    except Exception as exc:  # the test app lets a server error through: name the request
        raise AssertionError(f"{where}: {type(exc).__name__}: {str(exc)[:300]}") from exc
    assert response.status_code < 500, f"{where}: {response.status_code} {response.get_data(as_text=True)[:300]}"


@pytest.mark.parametrize("role", [None] + [r.value for r in Role])
def test_no_route_answers_5xx(app, as_role, users, world, role):
    client = as_role(role) if role else app.test_client()
    token = admin.create_token(users[role], "fuzz") if role else "mes_not-a-token"
    api_headers = {"Authorization": f"Bearer {token}"}
    tried = 0
    for rule, method in _rules(app):
        api = isinstance(access_of(app, rule.endpoint), tuple)
        if rule.endpoint in ("core.logout",):
            continue  # would end this client's session for the rest of the walk
        headers = api_headers if api else {}
        valid, hostile = _variants(rule, world)
        for url in hostile:
            _check(lambda: client.open(url, method=method, headers=headers), f"{method} {url[:120]} as {role}")
        if method == "GET":
            _check(lambda: client.get(valid, headers=headers), f"GET {valid} as {role}")
            for query in QUERIES:
                _check(lambda: client.get(valid, query_string=query, headers=headers),
                       f"GET {valid}?{str(query)[:150]} as {role}")
        elif api:
            for body in JSON_BODIES:
                _check(lambda: client.open(valid, method=method, data=body, content_type="application/json", headers=headers),
                       f"{method} {valid} {body[:60]} as {role}")
        else:
            for form in FORMS:
                _check(lambda: client.open(valid, method=method, data=form), f"{method} {valid} {str(form)[:80]} as {role}")
            _check(lambda: client.open(valid, method=method, data=FORMS[0], headers={"HX-Request": "true"}),
                   f"{method} {valid} (htmx) as {role}")
        tried += 1
    assert tried > 80


@pytest.mark.parametrize("path", ["/orders/{}", "/routings/{}", "/machines/{}", "/schedule/{}", "/admin/users/{}",
                                  "/floor/operations/{}", "/api/v1/work-orders/{}", "/api/v1/routings/{}",
                                  "/api/v1/machines/{}"])
def test_ids_beyond_the_database_are_not_found(app, users, path):
    from mes.core.converters import MAX_ID

    client = app.test_client()
    for value in (MAX_ID + 1, 10**30, "0" + "9" * 5000, 0):
        r = client.get(path.format(value))
        assert r.status_code == 404, (path, str(value)[:30])


def test_a_long_search_is_cut_not_failed(as_role, users):
    for url in ("/orders/", "/routings/"):
        assert as_role("planner").get(url, query_string={"q": "x" * 60000}).status_code == 200


def test_hostile_json_is_refused(app, users, plant):
    token = admin.create_token(users["planner"], "t")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    surrogate = '{"product": "P-1", "quantity": 5, "due_date": "2026-12-24", "note": "\\ud800"}'
    for body in (surrogate, DEEP, '{"note": "a\\u0000b"}'):
        r = client.post("/api/v1/work-orders/", data=body, content_type="application/json", headers=headers)
        assert r.status_code == 400 and r.json["code"] == "bad_request", body[:40]


def test_dates_outside_the_plants_range_are_refused(as_role, app, users, plant):
    r = as_role("planner").get("/orders/", query_string={"due_from": "0001-01-01"})
    assert r.status_code == 422
    token = admin.create_token(users["planner"], "t")
    r = app.test_client().post("/api/v1/work-orders/", json={"product": "P-1", "quantity": 5, "due_date": "0001-01-01"},
                               headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 422
