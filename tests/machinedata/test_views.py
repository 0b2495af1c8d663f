"""The administrator's machine-data pages: topic mappings (validated, optimistic version, used by
the router) and the dead-letter list."""
from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import func, select

from mes.core.db import session
from mes.machinedata import ingest
from mes.machinedata.models import DeadLetter, TopicMapping

FORM = {"state_topic": "factory/+/press4/status", "count_topic": "", "alarm_topic": "", "ts_path": "time",
        "state_path": "data.st", "reason_path": "reason", "good_path": "good", "scrap_path": "scrap",
        "code_path": "code", "text_path": "text", "active_path": "active", "state_map": '{"1": "running"}',
        "counter_max": "65535", "max_rate_per_minute": "600"}


def mapping(machine_id: int) -> TopicMapping | None:
    session().rollback()
    return session().scalar(select(TopicMapping).where(TopicMapping.machine_id == machine_id))


def test_admin_maps_a_machine_and_the_router_uses_it(plant, as_role):
    admin = as_role("admin")
    assert admin.get("/machine-data/mappings").status_code == 200
    page = admin.get(f"/machine-data/machines/{plant.m1}/mapping")
    assert page.status_code == 200 and b"state_topic" in page.data
    r = admin.post(f"/machine-data/machines/{plant.m1}/mapping", data=FORM)
    assert r.status_code == 303
    row = mapping(plant.m1)
    assert (row.state_topic, row.counter_max, json.loads(row.state_map)) == ("factory/+/press4/status", 65535,
                                                                             {"1": "running"})
    route = ingest.load_router().route("factory/hall2/press4/status")
    assert (route.machine_id, route.kind, route.mapping.state_path) == (plant.m1, "state", "data.st")
    # A stale form is refused; the current one saves.
    stale = admin.post(f"/machine-data/machines/{plant.m1}/mapping", data={**FORM, "version": str(row.version + 5)})
    assert stale.status_code == 409
    ok = admin.post(f"/machine-data/machines/{plant.m1}/mapping", data={**FORM, "count_topic": "f/press4/pcs",
                                                                       "version": str(row.version)})
    assert ok.status_code == 303 and mapping(plant.m1).count_topic == "f/press4/pcs"
    gone = admin.post(f"/machine-data/machines/{plant.m1}/mapping/delete", data={"version": str(mapping(plant.m1).version)})
    assert gone.status_code == 303 and mapping(plant.m1) is None


def test_bad_mappings_are_refused_with_reasons_and_change_nothing(plant, as_role):
    admin = as_role("admin")
    bad = {**FORM, "state_topic": "a/#/b", "ts_path": "data..ts", "state_map": '{"1": "flying"}',
           "counter_max": "-1", "max_rate_per_minute": "lots"}
    r = admin.post(f"/machine-data/machines/{plant.m1}/mapping", data=bad, headers={"HX-Request": "true"})
    assert r.status_code == 422
    for name in ("state_topic", "ts_path", "state_map", "counter_max", "max_rate_per_minute"):
        assert f'id="f-{name}"'.encode() in r.data or name in r.data.decode()
    assert mapping(plant.m1) is None
    none = admin.post(f"/machine-data/machines/{plant.m1}/mapping", data={**FORM, "state_topic": ""})
    assert none.status_code == 422 and mapping(plant.m1) is None


def test_only_admins_see_machine_data_pages(plant, as_role):
    for role in ("planner", "owner", "quality"):
        assert as_role(role).get("/machine-data/dead-letters").status_code == 403
        assert as_role(role).post(f"/machine-data/machines/{plant.m1}/mapping", data=FORM).status_code == 403


def test_dead_letters_are_listed_and_cleared(plant, as_role):
    now = dt.datetime.now(dt.UTC)
    ingest.ingest([ingest.Message("mes/p/NOPE/state", b'{"ts": 1, "state": "running"}', now),
                   ingest.Message("mes/p/L-NEW/count", b"<xml/>", now)], ingest.load_router())
    admin = as_role("admin")
    page = admin.get("/machine-data/dead-letters")
    assert page.status_code == 200
    text = page.data.decode()
    assert "Unknown machine" in text and "Not JSON" in text and "mes/p/NOPE/state" in text and "&lt;xml/&gt;" in text
    newest = session().scalar(select(func.max(DeadLetter.id)))
    assert admin.post("/machine-data/dead-letters/clear", data={"upto": str(newest)}).status_code == 303
    session().rollback()
    assert session().scalar(select(func.count()).select_from(DeadLetter)) == 0
