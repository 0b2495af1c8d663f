"""The figures OEE is computed from, for hand-reported machines: planned time from the shift
calendar, run time from the terminal's run-phase clocks (per machine, not per worker), pieces
from the production reports with their corrections. Hand-computed cases."""
from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from mes.core.db import session, transaction
from mes.machinedata import services
from mes.machinedata.oee import OeeInput, compute
from mes.machines.models import (
    CalendarShift,
    Machine,
    Reason,
    ReasonKind,
    WorkCalendar,
    WorkCenter,
)
from mes.orders.models import ProductionReport, ReportKind
from mes.shopfloor import services as floor
from mes.shopfloor.models import LabourRecord

TZ = ZoneInfo("Asia/Shanghai")  # the test app's plant time zone
MONDAY = dt.date(2026, 6, 1)


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ).astimezone(dt.UTC)


def day_window(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    return local(day, 0), local(day + dt.timedelta(days=1), 0)


@pytest.fixture
def day_shift(plant):  # type: ignore[no-untyped-def]
    """Calendar 08:00-16:00 Monday to Friday on the turning work center (the lathes have none)."""
    with transaction() as s:
        calendar = WorkCalendar(code="DAY", name="Day shift",
                                shifts=[CalendarShift(weekday=d, start_minute=480, end_minute=960) for d in range(5)])
        s.add(calendar)
        s.flush()
        s.get(WorkCenter, plant.turn).calendar_id = calendar.id
        return calendar.id


def test_hand_reported_machine_on_a_hand_computed_day(users, plant, make_order, day_shift):
    order = make_order(quantity=100)
    turn = order.operations[0]  # the old lathe runs it at 4.0 min per piece
    a, b = users["worker"], users["worker2"]
    tuesday, wednesday = MONDAY + dt.timedelta(days=1), MONDAY + dt.timedelta(days=2)
    with transaction() as s:
        def labour(user, phase, start, end, minutes, shared_by=1, **kw):  # type: ignore[no-untyped-def]
            s.add(LabourRecord(user_id=user, operation_id=turn.id, machine_id=plant.old, phase=phase, started_at=start,
                               ended_at=end, minutes=Decimal(minutes), shared_by=shared_by, **kw))

        labour(a, "setup", local(MONDAY, 7, 30), local(MONDAY, 8), 30)  # setup is not run time
        labour(a, "run", local(MONDAY, 8), local(MONDAY, 10), 60, shared_by=2)  # tending two machines
        labour(b, "run", local(MONDAY, 9), local(MONDAY, 11), 120)  # overlaps: the machine ran 08-11
        labour(a, "run", local(tuesday, 9), local(tuesday, 10), 60)  # another day
        s.add(LabourRecord(user_id=a, operation_id=turn.id, machine_id=plant.old, phase="run", minutes=Decimal(30),
                           source="manual", reason="forgot to clock", recorded_at=local(MONDAY, 12)))

        def report(good, scrap, at, **kw):  # type: ignore[no-untyped-def]
            row = ProductionReport(operation_id=turn.id, work_order_id=order.id, machine_id=plant.old, good_qty=good,
                                   scrap_qty=scrap, reported_at=at, **kw)
            s.add(row)
            s.flush()
            return row

        report(40, 5, local(MONDAY, 10))
        wrong = report(5, 0, local(MONDAY, 10, 30))
        # Found on Wednesday, but the pieces were never made on Monday.
        report(-5, 0, local(wednesday, 9), kind=ReportKind.CORRECTION, reverses_id=wrong.id, reason="miscounted")
        report(7, 0, local(tuesday, 9))
        report(0, 0, local(MONDAY, 11), kind=ReportKind.TRANSFER, reason="split")

    figures = services.oee_inputs(*day_window(MONDAY))
    assert set(figures) == {plant.old, plant.new, plant.m1}
    old = figures[plant.old]
    assert old.planned_minutes == pytest.approx(480)
    assert old.run_minutes == pytest.approx(180 + 30)
    assert (old.good, old.total) == (40, 45)
    assert old.ideal_minutes == pytest.approx(45 * 4.0)
    result = compute(old)
    assert result.availability == pytest.approx(210 / 480)
    assert result.performance == pytest.approx(180 / 210)
    assert result.quality == pytest.approx(40 / 45)
    assert result.oee == pytest.approx(40 * 4.0 / 480)
    assert result.quality_loss_minutes == pytest.approx(5 * 4.0)
    # The new lathe shares the work center's calendar; the mill has none.
    assert figures[plant.new] == OeeInput(480.0, 0.0, 0.0, 0, 0)
    assert figures[plant.m1] == OeeInput(0.0, 0.0, 0.0, 0, 0)
    assert services.oee_inputs(*day_window(tuesday), [plant.old])[plant.old] == OeeInput(480.0, 60.0, 28.0, 7, 7)
    # Saturday: no shift, nothing planned.
    assert services.oee_inputs(*day_window(MONDAY + dt.timedelta(days=5)), [plant.old])[plant.old].planned_minutes == 0
    # A day's window summed from its two halves gives the day.
    morning = services.oee_inputs(local(MONDAY, 0), local(MONDAY, 9, 30), [plant.old])[plant.old]
    rest = services.oee_inputs(local(MONDAY, 9, 30), day_window(MONDAY)[1], [plant.old])[plant.old]
    assert morning.run_minutes == pytest.approx(90)
    assert (morning + rest).run_minutes == pytest.approx(210)
    assert (morning + rest).planned_minutes == pytest.approx(480)


def test_machine_calendar_wins_over_the_work_centers(plant, day_shift):
    with transaction() as s:
        short = WorkCalendar(code="SHORT", name="Short", shifts=[CalendarShift(weekday=0, start_minute=600, end_minute=660)])
        s.add(short)
        s.flush()
        s.get(Machine, plant.old).calendar_id = short.id
    figures = services.oee_inputs(*day_window(MONDAY), [plant.old, plant.new])
    assert figures[plant.old].planned_minutes == pytest.approx(60)
    assert figures[plant.new].planned_minutes == pytest.approx(480)


def test_a_worker_on_two_machines_gives_each_its_full_run_time(users, plant, make_order, monkeypatch):
    """Labour time splits the worker's hour over the two operations; machine time does not."""
    first, second = make_order(quantity=10), make_order(quantity=10)
    t0 = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=3)
    w = users["worker"]
    pause = session().scalar(select(Reason.id).where(Reason.kind == ReasonKind.PAUSE, Reason.code == "break"))
    monkeypatch.setattr(floor, "utcnow", lambda: t0)
    floor.start(w, uuid.uuid4().hex, first.operations[0].id, "run", plant.old)
    floor.start(w, uuid.uuid4().hex, second.operations[0].id, "run", plant.new)
    monkeypatch.setattr(floor, "utcnow", lambda: t0 + dt.timedelta(minutes=60))
    floor.report(w, uuid.uuid4().hex, first.operations[0].id, 10, 0, None)
    floor.pause(w, uuid.uuid4().hex, first.operations[0].id, pause)
    floor.pause(w, uuid.uuid4().hex, second.operations[0].id, pause)
    session().rollback()
    booked = session().scalars(select(LabourRecord.minutes).where(LabourRecord.machine_id == plant.old)).all()
    assert sum(booked) == Decimal(30)  # the worker's time, shared
    figures = services.oee_inputs(t0 - dt.timedelta(hours=1), t0 + dt.timedelta(hours=4), [plant.old, plant.new])
    assert figures[plant.old].run_minutes == pytest.approx(60)
    assert figures[plant.new].run_minutes == pytest.approx(60)
    assert figures[plant.old].ideal_minutes == pytest.approx(10 * 4.0)
    assert compute(figures[plant.old]).performance == pytest.approx(40 / 60)


def test_an_open_run_clock_counts_until_now(users, plant, make_order, monkeypatch):
    order = make_order(quantity=10)
    t0 = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=45)
    monkeypatch.setattr(floor, "utcnow", lambda: t0)
    floor.start(users["worker"], uuid.uuid4().hex, order.operations[0].id, "run", plant.old)
    figures = services.oee_inputs(t0 - dt.timedelta(hours=1), t0 + dt.timedelta(hours=8), [plant.old])
    assert figures[plant.old].run_minutes == pytest.approx(45, abs=1)


def test_empty_and_reversed_windows(app):
    assert services.oee_inputs(local(MONDAY, 0), local(MONDAY, 0), []) == {}
    with pytest.raises(ValueError):
        services.oee_inputs(dt.datetime(2026, 6, 1), dt.datetime(2026, 6, 2))


def test_connected_machine_on_a_hand_computed_day(users, plant, make_order, day_shift):
    """The new lathe publishes states and counts; its OEE comes from them, not from the terminal."""
    from mes.machinedata import ingest

    order = make_order(quantity=500)
    turn = order.operations[0]  # 2.0 min per piece on the new lathe
    floor.start(users["worker"], uuid.uuid4().hex, turn.id, "run", plant.new)
    floor.report(users["worker"], uuid.uuid4().hex, turn.id, 10, 0, None)  # not counted: the machine counts

    def msg(kind, hour, minute, **payload):  # type: ignore[no-untyped-def]
        import json
        body = {"ts": local(MONDAY, hour, minute).isoformat(), **payload}
        return ingest.Message(f"mes/plant/L-NEW/{kind}", json.dumps(body).encode(), dt.datetime.now(dt.UTC))

    router = ingest.load_router()
    ingest.ingest([msg("state", 7, 50, state="idle"), msg("state", 8, 0, state="running"),
                   msg("count", 8, 0, good=5000, scrap=20), msg("state", 10, 0, state="down"),
                   msg("count", 10, 0, good=5050, scrap=22), msg("state", 10, 30, state="running"),
                   msg("state", 12, 0, state="idle"), msg("count", 12, 0, good=5100, scrap=23)], router)
    # Later batches: a repeated message, a late one, a reset, the end of the day.
    ingest.ingest([msg("count", 10, 0, good=5050, scrap=22), msg("state", 12, 30, state="running")], router)
    ingest.ingest([msg("count", 11, 0, good=5075, scrap=22), msg("state", 15, 0, state="off"),
                   msg("count", 15, 0, good=60, scrap=0)], router)
    figures = services.oee_inputs(*day_window(MONDAY), [plant.new])[plant.new]
    assert figures.planned_minutes == pytest.approx(480)
    assert figures.run_minutes == pytest.approx(120 + 90 + 150)
    assert (figures.good, figures.total) == (50 + 50 + 60, 160 + 2 + 1)
    assert figures.ideal_minutes == pytest.approx(163 * 2.0)
    result = compute(figures)
    assert result.availability == pytest.approx(0.75)
    assert result.performance == pytest.approx(326 / 360)
    assert result.quality == pytest.approx(160 / 163)
    assert result.oee == pytest.approx(160 * 2.0 / 480)
    # The morning alone: running 08-10, then down.
    morning = services.oee_inputs(local(MONDAY, 6), local(MONDAY, 10, 30), [plant.new])[plant.new]
    assert morning.run_minutes == pytest.approx(120)
    assert morning.planned_minutes == pytest.approx(150)


def test_a_gateway_with_counts_only_takes_run_time_from_the_terminal(users, plant, make_order, monkeypatch):
    import json

    from mes.machinedata import ingest

    order = make_order(quantity=100)
    t0 = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=3)
    monkeypatch.setattr(floor, "utcnow", lambda: t0)
    floor.start(users["worker"], uuid.uuid4().hex, order.operations[0].id, "run", plant.new)

    def count(minutes, good):  # type: ignore[no-untyped-def]
        body = json.dumps({"ts": (t0 + dt.timedelta(minutes=minutes)).isoformat(), "good": good}).encode()
        return ingest.Message("mes/p/L-NEW/count", body, dt.datetime.now(dt.UTC))

    ingest.ingest([count(0, 100), count(30, 115)], ingest.load_router())  # while the operation runs
    monkeypatch.setattr(floor, "utcnow", lambda: t0 + dt.timedelta(minutes=40))
    floor.pause(users["worker"], uuid.uuid4().hex, order.operations[0].id,
                session().scalar(select(Reason.id).where(Reason.kind == ReasonKind.PAUSE, Reason.code == "break")))
    figures = services.oee_inputs(t0 - dt.timedelta(hours=1), t0 + dt.timedelta(hours=2), [plant.new])[plant.new]
    assert figures.run_minutes == pytest.approx(40)
    assert (figures.good, figures.total) == (15, 15)
    assert figures.ideal_minutes == pytest.approx(15 * 2.0)
