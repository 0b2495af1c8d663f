"""Machine pages: planning status and downtime."""
from __future__ import annotations

from sqlalchemy import select

from mes.core.db import session
from mes.machines.models import Machine, MachineDowntime, MachineStatus


def test_record_downtime_and_status(as_role, plant):
    client = as_role("planner")
    r = client.post(f"/machines/{plant.new}/downtime", data={"starts_at": "2026-12-01T08:00", "ends_at": "2026-12-01T07:00",
                                                              "kind": "breakdown"})
    assert r.status_code == 422 and "The end must be after the start." in r.get_data(as_text=True)
    r = client.post(f"/machines/{plant.new}/downtime", data={"starts_at": "2026-12-01T08:00", "ends_at": "2026-12-01T16:00",
                                                              "kind": "breakdown", "note": "spindle"})
    assert r.status_code == 200
    session().rollback()
    row = session().scalar(select(MachineDowntime))
    assert (row.ends_at - row.starts_at).total_seconds() == 8 * 3600 and row.starts_at.hour == 0  # 08:00 Shanghai
    assert client.post(f"/machines/{plant.new}/status", data={"status": "down"}).status_code == 200
    session().rollback()
    assert session().get(Machine, plant.new).status == MachineStatus.DOWN
    assert as_role("owner").post(f"/machines/{plant.new}/status", data={"status": "available"}).status_code == 403


def _local(moment):  # type: ignore[no-untyped-def]
    from mes.core.clock import plant_tz

    return moment.astimezone(plant_tz()).strftime("%Y-%m-%dT%H:%M")


def test_open_ended_future_downtime_does_not_stop_scheduling(as_role, plant, make_order):
    import datetime as dt

    from mes.core.db import utcnow
    from mes.scheduling import services as scheduling
    from mes.scheduling.models import ScheduleStatus, ScheduleVersion

    make_order()
    client = as_role("planner")
    for machine, days in ((plant.new, 90), (plant.old, 1)):
        r = client.post(f"/machines/{machine}/downtime", data={"starts_at": _local(utcnow() + dt.timedelta(days=days)),
                                                                "kind": "maintenance"})
        assert r.status_code == 200
    schedule_id = scheduling.start_run(time_limit=2, workers=1, wait=True)
    session().rollback()
    version = session().get(ScheduleVersion, schedule_id)
    assert version.status == ScheduleStatus.DRAFT, version.message


def test_downtime_outside_a_year_is_refused(as_role, plant):
    import datetime as dt

    from mes.core.db import utcnow

    client = as_role("planner")
    r = client.post(f"/machines/{plant.new}/downtime", data={"starts_at": _local(utcnow() + dt.timedelta(days=400)),
                                                              "kind": "breakdown"})
    assert r.status_code == 422 and "within a year" in r.get_data(as_text=True)
    assert session().scalar(select(MachineDowntime)) is None


def test_downtime_is_ended_and_corrected_from_the_machine_page_and_audited(as_role, plant):
    import datetime as dt

    from mes.core.db import utcnow
    from mes.core.models import AuditEntry

    client = as_role("planner")
    start = utcnow() - dt.timedelta(hours=2)
    client.post(f"/machines/{plant.new}/downtime", data={"starts_at": _local(start), "kind": "breakdown"})
    session().rollback()
    row = session().scalar(select(MachineDowntime))
    html = client.get(f"/machines/{plant.new}").get_data(as_text=True)
    assert f"/machines/{plant.new}/downtime/{row.id}/end" in html
    assert client.post(f"/machines/{plant.old}/downtime/{row.id}/end").status_code == 404  # another machine's
    assert as_role("owner").post(f"/machines/{plant.new}/downtime/{row.id}/end").status_code == 403
    r = client.post(f"/machines/{plant.new}/downtime/{row.id}/end")
    assert r.status_code == 200
    session().rollback()
    row = session().get(MachineDowntime, row.id)
    assert row.ends_at is not None and abs((row.ends_at - utcnow()).total_seconds()) < 120
    r = client.post(f"/machines/{plant.new}/downtime/{row.id}", data={
        "starts_at": _local(start), "ends_at": _local(start + dt.timedelta(hours=1)), "kind": "maintenance", "note": "oil"})
    assert r.status_code == 200
    r = client.post(f"/machines/{plant.new}/downtime/{row.id}", data={
        "starts_at": _local(start), "ends_at": _local(start - dt.timedelta(hours=1)), "kind": "maintenance"})
    assert r.status_code == 422
    session().rollback()
    row = session().get(MachineDowntime, row.id)
    assert row.kind == "maintenance" and row.note == "oil"
    changes = session().scalars(select(AuditEntry).where(AuditEntry.entity == "machine_downtime",
                                                         AuditEntry.entity_id == row.id)).all()
    assert {c.action for c in changes} == {"create", "update"}
    assert {c.field for c in changes if c.action == "update"} >= {"ends_at", "kind", "note"}
    assert all(c.actor == "planner" for c in changes)
