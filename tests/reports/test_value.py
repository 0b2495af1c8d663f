"""Proof of value on a known history of three months: the monthly figures, the digital footprint,
and the PDF in both languages (read back with pdftotext)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from mes.cli import cli
from mes.core.clock import plant_today
from mes.machinedata.models import MachineLive
from mes.machines.models import Machine
from mes.core.db import session, transaction
from mes.machinedata.oee import EMPTY, compute
from mes.machinedata.services import oee_inputs
from mes.machines.models import CalendarShift, WorkCalendar, WorkCenter
from mes.orders.models import Operation, ProductionReport, WorkOrder, WorkOrderStatus
from mes.reports import value, value_pdf
from mes.scheduling.models import ScheduledOperation, ScheduleStatus, ScheduleVersion
from mes.shopfloor.models import LabourRecord
from tests.reports.test_sheet_pdf import text_of

TZ = ZoneInfo("Asia/Shanghai")


def _months_back(n: int) -> dt.date:
    month = plant_today().replace(day=1)
    for _ in range(n):
        month = (month - dt.timedelta(days=1)).replace(day=1)
    return month


@pytest.fixture
def history(app, users, plant, make_order):  # type: ignore[no-untyped-def]
    """Two months ago: go-live, paper reports, one late order; last month: terminals, two orders on
    time, one planned by the optimizer; this month: nothing yet."""
    m0, m1 = _months_back(2), _months_back(1)

    def at(month: dt.date, day: int, hour: int = 10) -> dt.datetime:
        return dt.datetime.combine(month.replace(day=day), dt.time(hour), tzinfo=TZ).astimezone(dt.UTC)

    o1 = make_order(quantity=100, due_date=m0.replace(day=8))
    o2 = make_order(quantity=100, due_date=m1.replace(day=20))
    o3 = make_order(quantity=10, due_date=m1.replace(day=12))
    with transaction() as s:
        calendar = WorkCalendar(code="DAY", name="Day shift")
        s.add(calendar)
        s.flush()
        s.add_all([CalendarShift(calendar_id=calendar.id, weekday=d, start_minute=480, end_minute=960) for d in range(7)])
        s.get(WorkCenter, plant.turn).calendar_id = calendar.id
        ops = {o.id: list(s.scalars(select(Operation).where(Operation.work_order_id == o.id).order_by(Operation.seq)))
               for o in (o1, o2, o3)}
        for order, released, completed in ((o1, at(m0, 1), at(m0, 11)), (o2, at(m1, 5), at(m1, 10)),
                                           (o3, at(m1, 6), at(m1, 10))):
            row = s.get(WorkOrder, order.id)
            row.released_at, row.completed_at, row.status = released, completed, WorkOrderStatus.COMPLETED
        worker = users["worker"]

        def report(order, good, scrap, when, source):  # type: ignore[no-untyped-def]
            s.add(ProductionReport(operation_id=ops[order.id][0].id, work_order_id=order.id, machine_id=plant.new,
                                   user_id=worker, good_qty=good, scrap_qty=scrap, reported_at=when, source=source,
                                   reason="from paper" if source == "manual" else None))

        report(o1, 90, 10, at(m0, 10), "manual")
        report(o2, 50, 2, at(m1, 8), "terminal")
        report(o2, 45, 3, at(m1, 9), "terminal")
        report(o3, 10, 0, at(m1, 9, 12), "terminal")
        report(o3, 10, 0, at(m1, 9, 14), "manual")

        def labour(order, n, phase, minutes, ended):  # type: ignore[no-untyped-def]
            s.add(LabourRecord(user_id=worker, operation_id=ops[order.id][n].id, machine_id=plant.new, phase=phase,
                               started_at=ended - dt.timedelta(minutes=minutes), ended_at=ended, minutes=Decimal(minutes)))

        labour(o1, 0, "setup", 60, at(m0, 10, 9))
        labour(o1, 1, "setup", 30, at(m0, 10, 11))
        labour(o1, 0, "run", 240, at(m0, 10, 14))
        labour(o2, 0, "setup", 20, at(m1, 8, 9))
        plan = ScheduleVersion(status=ScheduleStatus.SUPERSEDED, origin=at(m1, 5), time_limit_s=5, workers=1,
                               published_at=at(m1, 5, 12), phase="cp-sat")
        s.add(plan)
        s.flush()
        s.add(ScheduledOperation(schedule_id=plan.id, operation_id=ops[o2.id][0].id, machine_id=plant.new,
                                 setup_start_at=at(m1, 6), start_at=at(m1, 6), end_at=at(m1, 6, 14)))
        # A new machine sends machine data; L-NEW is marked as connected but nothing has arrived from it.
        cnc = Machine(code="CNC-9", name="New CNC", work_center_id=s.get(Machine, plant.m1).work_center_id,
                      has_data_connection=True)
        s.add(cnc)
        s.flush()
        s.add(MachineLive(machine_id=cnc.id, last_message_at=at(m1, 6)))
    session().rollback()
    return m0, m1, at


def test_monthly_figures(history):  # type: ignore[no-untyped-def]
    m0, m1, at = history
    report = value.value_report(session())
    assert report.go_live == m0.replace(day=10)
    assert [m.month for m in report.months] == [m0, m1, plant_today().replace(day=1)]
    first, second, now = report.months
    assert (first.completed, first.on_time, first.lead_time_days) == (1, 0.0, 10.0)
    assert first.scrap_rate == 0.1 and first.terminal_share == 0.0
    assert (first.setup_hours, first.setup_minutes_per_changeover) == (Decimal("1.50"), 45.0)
    assert (first.released, first.optimizer_share) == (1, 0.0)
    assert (second.completed, second.on_time, second.lead_time_days) == (2, 1.0, 4.5)
    assert second.scrap_rate == pytest.approx(5 / 120) and second.terminal_share == 0.75
    assert (second.setup_hours, second.setup_minutes_per_changeover) == (Decimal("0.33"), 20.0)
    assert (second.released, second.optimizer_share) == (2, 0.5)
    assert now.completed == 0 and now.on_time is None and now.scrap_rate is None
    expected = compute(sum(oee_inputs(at(m0, 1, 0), at(m1, 1, 0)).values(), EMPTY)).oee
    assert first.oee == expected and expected is not None and 0 < expected < 1
    assert (report.machines_connected, report.machines_total) == (1, 4)


def test_pdf_in_both_languages(history, as_role, app, tmp_path):  # type: ignore[no-untyped-def]
    m0, m1, _at = history
    owner = as_role("owner")
    en = owner.get("/reports/value.pdf?lang=en")
    assert en.status_code == 200 and en.mimetype == "application/pdf"
    text = text_of(en.data)
    assert "Proof of value since go-live" in text
    assert "Machines connected by MQTT: 1 of 4" in text
    assert f"{m0.strftime('%Y-%m')} " in text and "0.0% 10.0 10.0% 1.50 45 0.0% 0.0%" in text
    assert f"{m1.strftime('%Y-%m')} " in text and "- 100.0% 4.5 4.2% 0.33 20 75.0% 50.0%" in text
    zh = text_of(owner.get("/reports/value.pdf?lang=zh_CN").data)
    assert "上线以来的成效" in zh and "联网（MQTT）设备：1 / 4" in zh
    assert as_role("quality").get("/reports/value.pdf").status_code == 403
    out = tmp_path / "value.pdf"
    result = app.test_cli_runner().invoke(cli, ["report", "value", "--lang", "en", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "Machines connected by MQTT: 1 of 4" in text_of(out.read_bytes())


def test_on_the_dashboard(history, as_role):  # type: ignore[no-untyped-def]
    owner = as_role("owner")
    owner.post("/locale", data={"locale": "en"})
    html = owner.get("/reports/dashboard").get_data(as_text=True)
    assert "Since go-live" in html and "75.0%" in html and "/reports/value.pdf" in html


def test_before_go_live(app, plant):  # type: ignore[no-untyped-def]
    report = value.value_report(session())
    assert report.go_live is None and report.months == []
    text = text_of(value_pdf.render(report, "en"))
    assert "Nothing has been reported yet" in text
