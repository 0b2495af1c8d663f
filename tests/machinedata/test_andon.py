"""The andon board: states, the job on each machine, today's OEE, and display links that work
without login until revoked (only their digest is stored)."""
from __future__ import annotations

import datetime as dt
import json
import re
import uuid

from sqlalchemy import select

from mes.core.db import session
from mes.machinedata import andon, ingest
from mes.machinedata.models import DisplayLink
from mes.shopfloor import services as floor


def test_board_shows_states_jobs_and_oee(plant, users, make_order, as_role):
    order = make_order(quantity=10)
    floor.start(users["worker"], uuid.uuid4().hex, order.operations[0].id, "run", plant.old)
    now = dt.datetime.now(dt.UTC)
    body = json.dumps({"ts": (now - dt.timedelta(seconds=5)).isoformat(), "state": "down"}).encode()
    alarm = json.dumps({"ts": (now - dt.timedelta(seconds=5)).isoformat(), "code": "E42", "text": "Jam"}).encode()
    ingest.ingest([ingest.Message("mes/p/L-NEW/state", body, now), ingest.Message("mes/p/L-NEW/alarm", alarm, now)],
                  ingest.load_router())
    tiles = {t.code: t for t in andon.board()}
    assert tiles["L-NEW"].alarm == "E42 Jam"
    cleared = json.dumps({"ts": (now - dt.timedelta(seconds=4)).isoformat(), "code": "E42", "active": False}).encode()
    ingest.ingest([ingest.Message("mes/p/L-NEW/alarm", cleared, now)], ingest.load_router())
    tiles = {t.code: t for t in andon.board()}
    assert tiles["L-NEW"].alarm is None
    assert tiles["L-NEW"].state == "down" and tiles["L-NEW"].connected
    assert not tiles["L-NEW"].clock_off
    skewed = json.dumps({"ts": (now - dt.timedelta(seconds=2)).isoformat(), "state": "running"}).encode()
    ingest.ingest([ingest.Message("mes/p/L-NEW/state", skewed, now + dt.timedelta(minutes=10))], ingest.load_router())
    assert {t.code: t for t in andon.board()}["L-NEW"].clock_off  # its clock says 10 minutes earlier than ours
    down = json.dumps({"ts": (now - dt.timedelta(seconds=1)).isoformat(), "state": "down"}).encode()
    ingest.ingest([ingest.Message("mes/p/L-NEW/state", down, now - dt.timedelta(seconds=1))], ingest.load_router())
    assert tiles["L-OLD"].state == "running" and tiles["L-OLD"].order == order.number
    assert tiles["M-1"].state == "manual" and tiles["M-1"].order is None
    assert [t.code for t in andon.board(plant.mill)] == ["M-1"]
    page = as_role("planner").get("/andon/")
    assert page.status_code == 200
    text = page.data.decode()
    assert 'hx-trigger="every 2s"' in text and 'data-state="down"' in text and order.number in text
    assert as_role("planner").get(f"/andon/wc/{plant.turn}").status_code == 200
    assert as_role("planner").get("/andon/wc/999999").status_code == 404


def test_display_links_work_without_login_until_revoked(plant, as_role, app):
    admin = as_role("admin")
    r = admin.post("/machine-data/displays", data={"name": "Hall TV", "work_center_id": str(plant.turn)})
    assert r.status_code == 200
    link = re.search(r'data-testid="display-link">([^<]+)<', r.data.decode()).group(1)
    token = link.rsplit("/", 1)[1]
    session().rollback()
    row = session().scalar(select(DisplayLink))
    assert row.digest == andon.digest(token) and token not in row.digest
    anonymous = app.test_client()
    board = anonymous.get(f"/andon/d/{token}")
    assert board.status_code == 200 and b"L-NEW" in board.data and b"M-1" not in board.data
    assert board.headers["Referrer-Policy"] == "no-referrer"
    assert anonymous.get("/andon/").status_code in (302, 303, 401)
    assert anonymous.get(f"/andon/d/{token}x").status_code == 404
    assert admin.post(f"/machine-data/displays/{row.id}/revoke").status_code == 303
    assert anonymous.get(f"/andon/d/{token}").status_code == 404
    bad = admin.post("/machine-data/displays", data={"name": "", "work_center_id": "999999"})
    assert bad.status_code == 422
