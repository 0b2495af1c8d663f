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
