"""What-if plans: a rush order and a machine down, planned as drafts that never touch the
published plan, the floor or the machines; shown with the comparison; never published."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from mes.core.db import session, utcnow
from mes.core.errors import InvalidTransition, ValidationError
from mes.machines.models import MachineDowntime
from mes.orders.models import ACTIVE_STATUSES, WorkOrder
from mes.scheduling import board, moves, services, what_if
from mes.scheduling.models import ScheduledOperation, ScheduleStatus, ScheduleVersion


def _rows(schedule_id: int) -> dict[int, tuple]:
    session().rollback()
    return {r.operation_id: (r.machine_id, r.start_at, r.end_at) for r in session().scalars(
        select(ScheduledOperation).where(ScheduledOperation.schedule_id == schedule_id))}


def _wait(schedule_id: int) -> ScheduleVersion:
    import time

    for _ in range(300):
        session().rollback()
        v = session().get(ScheduleVersion, schedule_id)
        if v.status != ScheduleStatus.RUNNING:
            return v
        time.sleep(0.1)
    raise AssertionError("still running")


def test_rush_order_and_machine_down_leave_the_published_plan_untouched(as_role, plant, make_order):
    for i in range(3):
        make_order(due_date=dt.date.today() + dt.timedelta(days=i + 2))
    published = services.start_run(time_limit=1, workers=1, wait=True)
    services.publish(published, None)
    before = _rows(published)
    active = session().scalar(select(func.count()).select_from(WorkOrder).where(WorkOrder.status.in_(ACTIVE_STATUSES)))
    down_from = utcnow().replace(second=0, microsecond=0)
    schedule_id = what_if.start(what_if.RushOrder(plant.p1, 8, dt.date.today() + dt.timedelta(days=1)),
                                what_if.MachineDown(plant.m1, down_from, down_from + dt.timedelta(hours=6)), time_limit=2)
    version = _wait(schedule_id)
    assert version.status == ScheduleStatus.DRAFT, version.message
    rows = _rows(schedule_id)
    assert len(rows) == len(before) + 2  # the rush order's two operations are planned
    # Nothing of the mill's work in the draft overlaps the assumed downtime.
    mill = [r for r in rows.values() if r[0] == plant.m1]
    assert mill and all(end <= down_from or start >= down_from + dt.timedelta(hours=6) for _m, start, end in mill)
    # The published plan, the orders the floor sees and the machines' downtime are untouched.
    assert _rows(published) == before
    assert session().get(ScheduleVersion, published).status == ScheduleStatus.PUBLISHED
    assert session().scalar(select(func.count()).select_from(WorkOrder).where(WorkOrder.status.in_(ACTIVE_STATUSES))) == active
    assert session().scalar(select(func.count()).select_from(MachineDowntime)) == 0
    # Shown with its comparison; it cannot be published.
    c = board.compare(session(), schedule_id, None)
    assert c.base.id == published and c.only_after == 2
    with pytest.raises(InvalidTransition):
        services.publish(schedule_id, None)
    with pytest.raises(InvalidTransition):  # not changed by hand either (its rush order would drop out)
        moves.move_operation(schedule_id, None, moves.Move(next(iter(rows)), plant.old))
    client = as_role("planner")
    html = client.get(f"/schedule/{schedule_id}/compare").get_data(as_text=True)
    assert "What-if plan" in html and 'id="publish"' not in html
    board_html = client.get(f"/schedule/board?schedule={schedule_id}&span=week").get_data(as_text=True)
    assert 'class="shade down"' in board_html


def test_what_if_refuses_bad_input(as_role, plant, make_order):
    with pytest.raises(ValidationError):
        what_if.start(None, None)
    with pytest.raises(ValidationError):
        what_if.start(what_if.RushOrder(plant.p2, 5, dt.date.today() + dt.timedelta(days=2)), None)  # no routing
    with pytest.raises(ValidationError):
        what_if.start(what_if.RushOrder(plant.p1, 5, dt.date.today() - dt.timedelta(days=2)), None)
    now = utcnow()
    with pytest.raises(ValidationError):
        what_if.start(None, what_if.MachineDown(plant.m1, now, now - dt.timedelta(hours=1)))
    client = as_role("planner")
    assert client.post("/schedule/what-if", data={"product_id": str(plant.p1), "quantity": "x", "due_date": "bad"}).status_code == 422
    assert client.post("/schedule/what-if", data={"machine_id": str(plant.m1), "down_from": "2026-13-01T00:00"}).status_code == 422
    assert client.post("/schedule/what-if", data={}).status_code == 422
    r = client.post("/schedule/what-if", headers={"HX-Request": "true"}, data={
        "machine_id": str(plant.m1), "down_from": "2030-01-01T08:00", "down_until": "2030-01-01T12:00", "time_limit": "1"})
    assert r.status_code == 204 and "/schedule/" in r.headers["HX-Redirect"]
    assert session().scalar(select(func.count()).select_from(WorkOrder).where(WorkOrder.status.in_(ACTIVE_STATUSES))) == 0
