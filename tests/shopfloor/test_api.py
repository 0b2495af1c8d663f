"""The floor's JSON API: the same lifecycle with an Idempotency-Key; bad input is a 422."""
from __future__ import annotations

from sqlalchemy import func, select

from mes.admin import services as admin
from mes.core.db import session
from mes.orders.models import Operation, ProductionReport


def test_floor_api_with_idempotency_key(client, users, plant, make_order):
    order = make_order(quantity=5)
    op_id = order.operations[0].id
    auth = {"Authorization": f"Bearer {admin.create_token(users['worker'], 'terminal')}"}
    url = f"/api/v1/floor/operations/{op_id}"
    assert client.post(f"{url}/report", json={"good": 1}, headers=auth).status_code == 409  # not started
    r = client.post(f"{url}/start", json={"phase": "run", "machine_id": plant.old}, headers=auth)
    assert r.status_code == 200 and r.json["status"] == "in_progress"
    headers = auth | {"Idempotency-Key": "tap-1"}
    assert client.post(f"{url}/report", json={"good": 2}, headers=headers).status_code == 201
    assert client.post(f"{url}/report", json={"good": 2}, headers=headers).status_code == 201
    assert client.post(f"{url}/report", json={"good": 3}, headers=headers).status_code == 422
    assert client.post(f"{url}/report", json={"good": -1}, headers=auth).status_code == 422
    assert client.post(f"{url}/report", json={"good": "x"}, headers=auth).status_code == 422
    assert client.post(f"{url}/report", json={"good": 4}, headers=auth).status_code == 422  # more than available
    session().rollback()
    assert session().scalar(select(func.count()).select_from(ProductionReport)) == 1
    r = client.post(f"{url}/finish", json={"good": 3}, headers=auth)
    assert r.status_code == 200 and r.json["status"] == "done"
    session().rollback()
    assert session().get(Operation, op_id).qty_good == 5
    planner = {"Authorization": f"Bearer {admin.create_token(users['planner'], 'x')}"}
    assert client.post(f"{url}/resume", headers=planner).status_code == 403


def test_order_page_shows_who_worked_on_each_operation(as_role, users, plant, make_order):

    import uuid

    from mes.shopfloor import services

    order = make_order()
    op_id = order.operations[0].id
    services.start(users["worker"], uuid.uuid4().hex, op_id, "run", plant.old)
    services.book_time(users["worker"], uuid.uuid4().hex, op_id, "run", 25, 0, 0, None, "entered later")
    html = as_role("planner").get(f"/orders/{order.id}").get_data(as_text=True)
    assert "Worker: 25 min" in html and "on L-OLD" in html


def test_job_traveler_pdf(as_role, make_order):
    order = make_order()
    r = as_role("planner").get(f"/floor/orders/{order.id}/traveler.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf" and r.data.startswith(b"%PDF")
    assert b"STSong-Light" in r.data
    assert as_role("worker").get(f"/floor/orders/{order.id}/traveler.pdf").status_code == 200
    assert as_role("planner").get("/floor/orders/99999/traveler.pdf").status_code == 404


def test_same_key_from_two_connections_at_once_counts_once(app, users, plant, make_order):
    """Two HTTP requests with one key at the same moment against a live server (a resend racing
    the original): one report, whatever each of them is answered."""
    import json
    import threading
    import urllib.error
    import urllib.request

    from waitress.server import create_server

    from mes.shopfloor import services

    order = make_order(quantity=10)
    op_id = order.operations[0].id
    services.start(users["worker"], None, op_id, "run", plant.old)
    token = admin.create_token(users["worker"], "tablet")
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.effective_port}/api/v1/floor/operations/{op_id}/report"
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def send(key: str, good: int) -> None:
        request = urllib.request.Request(url, data=json.dumps({"good": good}).encode(), method="POST", headers={
            "Authorization": f"Bearer {token}", "Idempotency-Key": key, "Content-Type": "application/json"})
        barrier.wait()
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                statuses.append(response.status)
        except urllib.error.HTTPError as exc:
            statuses.append(exc.code)

    try:
        # Two with one key (3 pieces), and two tablets with their own keys (6 each): 3 + 6 fits, 3 + 6 + 6 does not.
        senders = [threading.Thread(target=send, args=args) for args in (("same", 3), ("same", 3), ("a", 6), ("b", 6))]
        for t in senders:
            t.start()
        for t in senders:
            t.join(30)
    finally:
        server.close()
    session().rollback()
    good = session().get(Operation, op_id).qty_good
    count = session().scalar(select(func.count()).select_from(ProductionReport).where(ProductionReport.operation_id == op_id))
    # The repeated key once (3) and one of the two tablets (6); the other tablet is refused.
    assert (good, count) == (9, 2), statuses
    assert sorted(statuses).count(201) >= 2 and 422 in statuses and all(s < 500 for s in statuses), statuses


def test_time_entered_after_the_fact_through_the_api(client, users, plant, make_order):
    import datetime as dt

    from mes.core.db import utcnow
    from mes.shopfloor.models import LabourRecord

    order = make_order(quantity=5)
    op_id = order.operations[0].id
    auth = {"Authorization": f"Bearer {admin.create_token(users['worker'], 'terminal')}"}
    url = f"/api/v1/floor/operations/{op_id}"
    assert client.post(f"{url}/time", json={"minutes": 30, "reason": "forgot"}, headers=auth).status_code == 409  # not started
    assert client.post(f"{url}/start", json={"phase": "run", "machine_id": plant.old}, headers=auth).status_code == 200
    two_hours_ago = (utcnow() - dt.timedelta(hours=2)).replace(microsecond=0)
    body = {"minutes": 30, "good": 2, "reason": "forgot to tap", "ended_at": two_hours_ago.isoformat()}
    headers = auth | {"Idempotency-Key": "time-1"}
    assert client.post(f"{url}/time", json=body, headers=headers).status_code == 201
    assert client.post(f"{url}/time", json=body, headers=headers).status_code == 201  # a resend: booked once
    # The same half hour again (another key) is already booked; so is a period overlapping it.
    r = client.post(f"{url}/time", json=body, headers=auth)
    assert r.status_code == 422 and "minutes" in r.json["errors"]
    overlap = body | {"ended_at": (two_hours_ago + dt.timedelta(minutes=20)).isoformat()}
    assert client.post(f"{url}/time", json=overlap, headers=auth).status_code == 422
    for bad in ({"minutes": 0, "reason": "x"}, {"minutes": 30}, {"minutes": 30, "reason": "x", "ended_at": "yesterday"},
                {"minutes": 30, "reason": "x", "ended_at": (utcnow() + dt.timedelta(hours=1)).isoformat()},
                {"minutes": 30, "reason": "x", "good": 6}):
        assert client.post(f"{url}/time", json=bad, headers=auth).status_code == 422, bad
    session().rollback()
    rows = session().scalars(select(LabourRecord).where(LabourRecord.source == "manual")).all()
    assert [(r.minutes, r.ended_at.replace(tzinfo=None) if r.ended_at.tzinfo is None else r.ended_at) for r in rows] \
        and len(rows) == 1 and rows[0].minutes == 30
    assert session().get(Operation, op_id).qty_good == 2
    # The hour before it is free.
    earlier = body | {"ended_at": (two_hours_ago - dt.timedelta(minutes=30)).isoformat()}
    assert client.post(f"{url}/time", json=earlier, headers=auth).status_code == 201


def test_time_on_the_card_takes_the_clock_time_it_ended(as_role, users, plant, make_order):
    import uuid

    from mes.shopfloor import services
    from mes.shopfloor.models import LabourRecord

    order = make_order()
    op_id = order.operations[0].id
    services.start(users["worker"], uuid.uuid4().hex, op_id, "run", plant.old)
    worker = as_role("worker")
    form = {"minutes": "15", "phase": "run", "reason": "entered later", "request_key": uuid.uuid4().hex}
    assert worker.post(f"/floor/operations/{op_id}/time", data=form | {"ended": "25:00"}).status_code == 422
    assert worker.post(f"/floor/operations/{op_id}/time", data=form | {"ended": "00:00"}).status_code == 200
    session().rollback()
    row = session().scalars(select(LabourRecord).where(LabourRecord.source == "manual")).one()
    assert row.ended_at is not None and row.started_at is not None and row.minutes == 15
