"""Dispatch lists from the published plan: per machine and per work center in planned order, as
a page in both languages and as a PDF with Chinese text; the floor's list follows the same order."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from mes.core.db import session
from mes.scheduling import dispatch, services
from mes.scheduling.models import ScheduledOperation
from tests.pdftext import pdf_text


def rows_all(schedule_id: int) -> list[ScheduledOperation]:
    session().rollback()
    return list(session().scalars(select(ScheduledOperation).where(ScheduledOperation.schedule_id == schedule_id)))


def test_dispatch_lists_follow_the_published_plan(as_role, plant, make_order):
    for i in range(3):
        make_order(due_date=dt.date.today() + dt.timedelta(days=3 - i), number=f"WO-D{i}")
    schedule_id = services.start_run(time_limit=1, workers=1, wait=True)
    services.publish(schedule_id, None)
    session().rollback()
    lines = dispatch.dispatch_lines(session(), machine_id=plant.m1)
    rows = sorted((r for r in session().scalars(select(ScheduledOperation).where(ScheduledOperation.schedule_id == schedule_id))
                   if r.machine_id == plant.m1), key=lambda r: r.start_at)
    assert [line.start for line in lines] == [r.start_at for r in rows] and [line.seq for line in lines] == [1, 2, 3]
    assert {line.machine for line in dispatch.dispatch_lines(session(), work_center_id=plant.turn)} <= {"L-OLD", "L-NEW"}
    client = as_role("planner")
    html = client.get(f"/schedule/dispatch?machine={plant.m1}").get_data(as_text=True)
    orders = [line.order for line in lines]
    assert html.index(orders[0]) < html.index(orders[1]) < html.index(orders[2])
    # The floor's list for the mill shows the same order.
    floor = as_role("worker").get(f"/floor/?machine={plant.m1}").get_data(as_text=True)
    assert floor.index(orders[0]) < floor.index(orders[1]) < floor.index(orders[2])
    # An operation the plan puts on one lathe is on that lathe's floor list only.
    turn_rows = [r for r in rows_all(schedule_id) if r.machine_id in (plant.old, plant.new)]
    for r in turn_rows:
        other = plant.old if r.machine_id == plant.new else plant.new
        number = r.operation.work_order.number
        assert number in as_role("worker").get(f"/floor/?machine={r.machine_id}").get_data(as_text=True)
        if all(x.operation.work_order.number != number for x in turn_rows if x.machine_id == other):
            assert number not in as_role("worker").get(f"/floor/?machine={other}").get_data(as_text=True)
    client.post("/locale", data={"locale": "zh_CN"})
    html = client.get(f"/schedule/dispatch?work_center={plant.mill}").get_data(as_text=True)
    assert "派工单" in html
    r = client.get(f"/schedule/dispatch.pdf?work_center={plant.mill}")
    assert r.status_code == 200 and r.mimetype == "application/pdf" and r.data.startswith(b"%PDF")
    text = pdf_text(r.data, layout=False)
    assert "派工单" in text and orders[0] in text
    assert client.get("/schedule/dispatch?machine=999999").status_code == 404
    assert client.get("/schedule/dispatch.pdf?work_center=abc").status_code == 404
