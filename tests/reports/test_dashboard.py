"""The owner's dashboard: today so far, machines down now, late orders and the week's trends, as a
page for owners and planners that refreshes itself."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from mes.core.clock import plant_now
from mes.core.db import session, transaction, utcnow
from mes.machines.models import MachineDowntime, Reason, ReasonKind
from mes.orders.models import Operation, ProductionReport, WorkOrder
from mes.reports import charts
from mes.reports.dashboard import dashboard


def _today_and_a_stop(known_day, plant):  # type: ignore[no-untyped-def]
    with transaction() as s:
        order_id = s.scalar(select(WorkOrder.id).where(WorkOrder.number == known_day.a))
        op = s.scalars(select(Operation).where(Operation.work_order_id == order_id).order_by(Operation.seq)).first()
        s.add(ProductionReport(operation_id=op.id, work_order_id=order_id, machine_id=plant.new, good_qty=4, scrap_qty=1,
                               scrap_reason="dimension", reported_at=utcnow() - dt.timedelta(seconds=5)))
        breakdown = s.scalar(select(Reason.id).where(Reason.kind == ReasonKind.DOWNTIME, Reason.code == "breakdown"))
        s.add(MachineDowntime(machine_id=plant.m1, starts_at=utcnow() - dt.timedelta(hours=1), reason_id=breakdown))
    session().rollback()


def test_figures(known_day, plant):  # type: ignore[no-untyped-def]
    _today_and_a_stop(known_day, plant)
    figures = dashboard(session())
    # Today counts every report dated today, so the fixture's report at 00:30 today counts even
    # in the first half hour after midnight in the plant.
    assert (figures.today.good, figures.today.scrap) == (4 + 9, 1)
    assert [d.good for d in figures.days][-3:] == [50, 85, 4 + 9]
    assert figures.days[-1].day == plant_now().date() and len(figures.days) == 7
    assert [(m.code, m.reason("zh_CN")) for m in figures.down] == [("M-1", "设备故障停机")]
    assert figures.late_count == 1 and [o.number for o in figures.late] == [known_day.e]
    assert figures.late[0].days_late == (plant_now().date() - (known_day.day - dt.timedelta(days=3))).days
    assert figures.oee_days[-2] is not None  # yesterday had planned and run time


def test_page_and_poll(known_day, plant, as_role):  # type: ignore[no-untyped-def]
    _today_and_a_stop(known_day, plant)
    owner = as_role("owner")
    page = owner.get("/reports/dashboard")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<html" in html and 'id="dashboard"' in html and 'hx-trigger="every 60s"' in html and "<svg" in html
    poll = owner.get("/reports/dashboard", headers={"HX-Request": "true", "X-MES-Poll": "1"})
    fragment = poll.get_data(as_text=True)
    assert "<html" not in fragment and fragment.lstrip().startswith('<div id="dashboard"')
    assert as_role("planner").get("/reports/dashboard").status_code == 200
    for role in ("quality", "admin", "worker"):
        assert as_role(role).get("/reports/dashboard").status_code == 403


def test_charts_are_plain_svg():
    svg = charts.bars(["11-30", "12-01"], [50.0, None], "Good <pieces>")
    assert svg.startswith("<svg") and "style=" not in svg and "<script" not in svg
    assert "Good &lt;pieces&gt;" in svg and ">50<" in svg and ">-<" in svg
    line = charts.line(["a", "b", "c"], [10.0, None, 30.0], "OEE")
    assert line.count("<circle") == 2 and "<polyline" in line
