"""Quality's JSON API: due inspections and results with an Idempotency-Key, implausible values
confirmed, a work order's results, nonconformances raised and disposed (quality only); all of it
in the OpenAPI document."""
from __future__ import annotations

import uuid

from sqlalchemy import func, select

from mes.admin import services as admin
from mes.core.db import session
from mes.orders.models import WorkOrder
from mes.quality.models import InspectionResult, Nonconformance
from mes.shopfloor import services as floor


def test_inspection_and_ncr_api(client, users, qplant, make_order):
    order = make_order(quantity=10)
    turn = order.operations[0]
    floor.start(users["worker"], uuid.uuid4().hex, turn.id, "run", qplant.new)
    worker = {"Authorization": f"Bearer {admin.create_token(users['worker'], 'terminal')}"}
    quality = {"Authorization": f"Bearer {admin.create_token(users['quality'], 'q')}"}
    url = f"/api/v1/quality/operations/{turn.id}/inspections"
    due = client.get(url, headers=worker).json
    assert due["first_article_blocking"] == ["Diameter"]
    (item,) = due["due"]
    assert (item["frequency"], item["lower_limit"], item["upper_limit"], item["unit"]) == ("first", "19.9000", "20.1000", "mm")
    body = {"characteristic_id": item["characteristic_id"], "frequency": "first", "sample_no": 1, "value": "203.1"}
    r = client.post(url, json=body, headers=worker | {"Idempotency-Key": "m-1"})
    assert r.status_code == 422 and r.json["code"] == "implausible"
    assert client.post(url, json=body | {"value": "abc"}, headers=worker).status_code == 422
    assert client.post(url, json=body | {"frequency": "sometimes"}, headers=worker).status_code == 422
    confirmed = body | {"confirmed": True}
    first = client.post(url, json=confirmed, headers=worker | {"Idempotency-Key": "m-2"})
    assert first.status_code == 201 and first.json["passed"] is False
    again = client.post(url, json=confirmed, headers=worker | {"Idempotency-Key": "m-2"})
    assert again.status_code == 201 and again.json == first.json
    session().rollback()
    assert session().scalar(select(func.count()).select_from(InspectionResult)) == 1
    assert client.post(url, json=body | {"value": "20.0"}, headers=quality).status_code == 403  # quality does not measure here
    results = client.get(f"/api/v1/quality/orders/{order.id}/inspections", headers=quality).json["items"]
    assert [(r["value"], r["passed"], r["confirmed"]) for r in results] == [("203.1000", False, True)]
    assert client.get(f"/api/v1/quality/orders/{order.id}/inspections", headers=worker).status_code == 403

    ncr = client.post("/api/v1/quality/ncrs", json={"inspection_result_id": first.json["result_id"], "quantity": 1},
                      headers=worker | {"Idempotency-Key": "n-1"})
    assert ncr.status_code == 201 and ncr.json["source"] == "inspection" and ncr.json["status"] == "open"
    assert client.post("/api/v1/quality/ncrs", json={"inspection_result_id": first.json["result_id"], "quantity": 1},
                       headers=worker | {"Idempotency-Key": "n-1"}).json["id"] == ncr.json["id"]
    session().rollback()
    assert session().scalar(select(func.count()).select_from(Nonconformance)) == 1
    disposition = f"/api/v1/quality/ncrs/{ncr.json['id']}/disposition"
    assert client.post(disposition, json={"version": 1, "disposition": "rework"}, headers=worker).status_code == 403
    assert client.post(disposition, json={"version": 1, "disposition": "use_as_is"}, headers=quality).status_code == 422
    assert client.post(disposition, json={"version": 9, "disposition": "scrap"}, headers=quality).status_code == 409
    done = client.post(disposition, json={"version": 1, "disposition": "rework", "reason": "re-turn"}, headers=quality)
    assert done.status_code == 200 and done.json["status"] == "closed" and done.json["rework_operation_id"]
    session().rollback()
    assert len(session().get(WorkOrder, order.id).operations) == 3
    listed = client.get("/api/v1/quality/ncrs?status=closed", headers=quality).json["items"]
    assert [n["id"] for n in listed] == [ncr.json["id"]]
    assert client.get("/api/v1/quality/ncrs?status=bogus", headers=quality).status_code == 422
    assert client.get("/api/v1/quality/ncrs/99999", headers=quality).status_code == 404


def test_quality_api_is_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/quality/operations/{operation_id}/inspections", "/api/v1/quality/ncrs",
                 "/api/v1/quality/ncrs/{ncr_id}/disposition", "/api/v1/quality/orders/{order_id}/inspections"):
        assert path in paths, path
