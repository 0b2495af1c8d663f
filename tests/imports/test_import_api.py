"""The import API: a dry run by default, 201 when imported, 422 with every row's error when not
(nothing saved), bearer tokens with the kind's permission, JSON errors throughout."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from mes.admin.services import create_token
from mes.core.db import session
from mes.orders.models import WorkOrder, WorkOrderStatus
from mes.routing.models import Routing, RoutingStatus
from tests.imports.test_import import DUE, ORDER_HEADER, ROUTING_HEADER, csv_bytes, xlsx_bytes


@pytest.fixture
def planner_token(users) -> str:  # type: ignore[no-untyped-def]
    return create_token(users["planner"], "t")


def post(client, kind: str, data: bytes, token: str | None, filename: str = "file.csv", **query):  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(f"/api/v1/imports/{kind}", query_string=query, headers=headers,
                       data={"file": (io.BytesIO(data), filename)}, content_type="multipart/form-data")


def orders() -> list[WorkOrder]:
    session().rollback()
    return session().scalars(select(WorkOrder).order_by(WorkOrder.number)).all()


GOOD_ORDERS = csv_bytes([ORDER_HEADER, ["API-1", "P-1", "5", DUE, "", "urgent", "Acme", ""],
                         ["", "P-1", "3", DUE, "", "", "", ""]])


def test_dry_run_is_the_default_and_saves_nothing(client, plant, planner_token):
    r = post(client, "work-orders", GOOD_ORDERS, planner_token)
    assert r.status_code == 200
    body = r.get_json()
    assert body["valid"] is True and body["errors"] == []
    assert [(o["number"], o["quantity"], o["priority"]) for o in body["created"]] == [("API-1", 5, "urgent"), (None, 3, "normal")]
    assert orders() == []


def test_real_run_imports_everything_and_answers_201(client, plant, planner_token):
    r = post(client, "work-orders", GOOD_ORDERS, planner_token, dry_run="false", release="true")
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["valid"] and len(body["created"]) == 2 and all(o["id"] for o in body["created"])
    assert [(o.quantity, o.status) for o in orders()] == [(5, WorkOrderStatus.RELEASED), (3, WorkOrderStatus.RELEASED)]


def test_invalid_real_run_is_422_with_every_error_and_saves_nothing(client, plant, planner_token):
    data = csv_bytes([ORDER_HEADER, ["OK-1", "P-1", "5", DUE, "", "", "", ""],
                      ["OK-2", "P-1", "0", DUE, "", "", "", ""],
                      ["OK-1", "P-1", "2", "2020-13-01", "", "", "", ""]])
    r = post(client, "work-orders", data, planner_token, dry_run="false")
    assert r.status_code == 422
    body = r.get_json()
    assert body["valid"] is False and body["created"] == []
    assert {(e["row"], e["column"]) for e in body["errors"]} == {(3, "quantity"), (4, "number"), (4, "due_date")}
    assert orders() == []
    # The same file as a dry run: 200, not valid.
    r = post(client, "work-orders", data, planner_token)
    assert r.status_code == 200 and r.get_json()["valid"] is False


def test_routings_from_xlsx(client, plant, planner_token):
    data = xlsx_bytes([ROUTING_HEADER,
                       ["P-2", None, None, 10, "Turn", "TURN", "L-NEW:10:2.5", None, None, None, "no", None],
                       ["P-2", None, None, 20, "Mill", "MILL", None, 15, 3.0, None, "yes", None]])
    r = post(client, "routings", data, planner_token, filename="r.xlsx", dry_run="0", release="1")
    assert r.status_code == 201, r.get_json()
    created = r.get_json()["created"]
    assert created[0]["product"] == "P-2" and created[0]["operations"] == 2 and created[0]["status"] == "released"
    session().rollback()
    routing = session().get(Routing, created[0]["routing_id"])
    assert routing.status == RoutingStatus.RELEASED and [o.seq for o in routing.operations] == [10, 20]


def test_file_errors_are_json(client, plant, planner_token):
    r = post(client, "routings", bytes(range(256)) * 4, planner_token, dry_run="false")
    assert r.status_code == 422
    assert r.get_json()["errors"][0]["row"] is None
    r = post(client, "work-orders", csv_bytes([["product", "colour"], ["P-1", "red"]]), planner_token)
    errors = r.get_json()["errors"]
    assert {(e["row"], e["column"]) for e in errors} == {(1, "colour"), (1, "quantity"), (1, "due_date")}
    r = client.post("/api/v1/imports/work-orders", headers={"Authorization": f"Bearer {planner_token}"})
    assert r.status_code == 422 and r.get_json()["errors"][0]["column"] == "file"
    r = post(client, "machines", GOOD_ORDERS, planner_token)
    assert r.status_code == 404 and r.is_json


def test_without_a_token_401_and_with_a_workers_token_403(client, plant, users):
    r = post(client, "work-orders", GOOD_ORDERS, None)
    assert r.status_code == 401 and r.get_json()["code"] == "unauthorized"
    worker = create_token(users["worker"], "t")
    r = post(client, "work-orders", GOOD_ORDERS, worker, dry_run="false")
    assert r.status_code == 403 and r.get_json()["code"] == "forbidden"
    quality = create_token(users["quality"], "t")
    assert post(client, "routings", GOOD_ORDERS, quality).status_code == 403
    assert session().scalar(select(func.count()).select_from(WorkOrder)) == 0


def test_import_is_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/imports/{kind}"]["post"]
    assert {"200", "201", "422"} <= set(operation["responses"])
    assert "multipart/form-data" in operation["requestBody"]["content"]
