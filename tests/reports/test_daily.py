"""The daily sheet's figures agree with the database for a known day."""
from __future__ import annotations

import datetime as dt

import pytest

from mes.core.clock import plant_today
from mes.core.db import session
from mes.core.errors import ValidationError
from mes.machinedata.oee import OeeInput, compute
from mes.reports import daily


def _sheet(day, locale="en", labour=True, shift=None):  # type: ignore[no-untyped-def]
    s = session()
    return daily.daily_sheet(s, daily.window(s, day, shift), locale, with_labour=labour)


def test_known_day_figures(known_day):  # type: ignore[no-untyped-def]
    sheet = _sheet(known_day.day)
    assert not sheet.empty
    assert (sheet.totals.good, sheet.totals.scrap, sheet.totals.planned) == (85, 6, 150)
    assert [(o.key, o.good, o.scrap, o.planned) for o in sheet.by_work_center] == [("MILL", 20, 3, 50), ("TURN", 65, 3, 100)]
    assert [(o.key, o.good, o.scrap, o.planned) for o in sheet.by_machine] == [
        ("L-NEW", 35, 2, 100), ("L-OLD", 30, 1, 0), ("M-1", 20, 3, 50)]
    assert [(o.key, o.good, o.scrap, o.planned) for o in sheet.by_family] == [("FA", 85, 6, 150)]
    assert sheet.plan_version == known_day.plan_id
    assert [(r.reason, round(r.minutes), r.stops) for r in sheet.downtime_by_reason] == [
        ("Tool breakage", 90, 1), ("Breakdown (no reason given)", 60, 1), ("Power or air failure", 45, 1)]
    assert sheet.downtime_minutes == 195
    assert round(sheet.downtime_by_reason[0].cumulative_share, 3) == round(90 / 195, 3)
    assert [(st.machine, round(st.minutes)) for st in sheet.longest_stops] == [("L-OLD", 90), ("L-OLD", 60), ("M-1", 45)]
    assert [(o.number, o.on_time) for o in sheet.completed] == sorted([(known_day.b, False), (known_day.c, True)])
    watch = {o.number: (o.late, o.at_risk) for o in sheet.late_or_at_risk}
    assert watch == {known_day.e: (True, False), known_day.f: (False, True)}
    assert (sheet.wip.orders_in_progress, sheet.wip.operations_running, sheet.wip.operations_paused, sheet.wip.pieces) == (1, 1, 1, 85)
    assert [(r.reason, r.pieces) for r in sheet.scrap_reasons] == [("Out of tolerance", 5), ("Surface defect", 1)]
    assert [(w.name, str(w.hours), w.good, str(w.per_hour)) for w in sheet.labour] == [
        ("Worker", "6.00", 55, "9.2"), ("Worker Two", "2.00", 30, "15.0")]
    head = {h.key: h for h in sheet.headline}
    assert head["output"].value == 85 and head["output"].average == pytest.approx(50 / 7)
    assert head["output"].direction == "up" and head["output"].better
    assert head["on_time"].value == 0.5 and head["on_time"].average is None and head["on_time"].direction == ""
    assert head["scrap_rate"].value == pytest.approx(6 / 91) and head["scrap_rate"].average == 0
    assert head["scrap_rate"].direction == "up" and head["scrap_rate"].better is False
    assert [d.good for d in sheet.trend] == [0] * 6 + [50, 85]


def test_chinese_names_and_no_labour(known_day):  # type: ignore[no-untyped-def]
    sheet = _sheet(known_day.day, locale="zh_CN", labour=False)
    assert sheet.labour is None
    assert sheet.scrap_reasons[0].reason == "尺寸超差"
    assert sheet.downtime_by_reason[0].reason == "断刀"


def test_oee_per_machine_work_center_and_day(known_day):  # type: ignore[no-untyped-def]
    sheet = _sheet(known_day.day)
    # planned: two shifts (960 min); run: the run-phase labour spans; ideal: pieces x run minutes
    # of the machine (L-NEW 2.0, L-OLD 4.0) or the operation (milling 3.5).
    expected = {
        "L-NEW": OeeInput(960, 240, 37 * 2.0, 35, 37),
        "L-OLD": OeeInput(960, 120, 31 * 4.0, 30, 31),
        "M-1": OeeInput(960, 120, 23 * 3.5, 20, 23),
    }
    assert {m.machine: m.figures for m in sheet.oee_by_machine} == expected
    for line in sheet.oee_by_machine:
        assert line.oee == compute(expected[line.machine])
    plant = compute(expected["L-NEW"] + expected["L-OLD"] + expected["M-1"])
    assert sheet.oee_total == plant
    head = {h.key: h for h in sheet.headline}
    assert head["oee"].value == plant.oee and head["oee"].average is None  # no run time before
    trend = {t.work_center: t.points for t in sheet.oee_trend}
    assert trend["TURN"][-1] == pytest.approx(compute(expected["L-NEW"] + expected["L-OLD"]).oee)
    assert trend["MILL"][-1] == pytest.approx(compute(expected["M-1"]).oee)
    assert len(trend["TURN"]) == 8 and trend["TURN"][:-1] == [None] * 7


def test_shift_window(known_day):  # type: ignore[no-untyped-def]
    assert [n for n, _a, _b in daily.shift_spans(session(), known_day.day)] == ["06:00-14:00", "14:00-22:00"]
    early = _sheet(known_day.day, shift="06:00-14:00")
    late = _sheet(known_day.day, shift="2")
    # The correction made at 16:00 reverses the 07:30 report: it counts in the early shift.
    assert (early.totals.good, early.totals.scrap) == (65, 3)
    assert (late.totals.good, late.totals.scrap) == (20, 3)
    # A shift is compared with the same shift on the days before: the day before's 50 pieces were
    # made at 10:00, in the early shift.
    early_head, late_head = ({h.key: h for h in sheet.headline}["output"] for sheet in (early, late))
    assert (early_head.value, early_head.average) == (65, pytest.approx(50 / 7))
    assert (late_head.value, late_head.average) == (20, 0)
    assert [d.good for d in early.trend][-2:] == [50, 65] and [d.good for d in late.trend][-2:] == [0, 20]
    with pytest.raises(ValidationError) as refused:
        _sheet(known_day.day, shift="night")
    assert "06:00-14:00, 14:00-22:00" in refused.value.text()


def test_empty_day(app, plant):  # type: ignore[no-untyped-def]
    sheet = _sheet(plant_today() - dt.timedelta(days=30))
    assert sheet.empty and sheet.totals.total == 0 and sheet.labour == []


@pytest.mark.parametrize("raw", ["2026-13-01", "yesterday", "", "1999-01-01"])
def test_malformed_dates_refused(app, raw):  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as refused:
        daily.parse_day(raw)
    assert refused.value.code == "bad_date"


def test_future_date_refused(app):  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as refused:
        daily.parse_day((plant_today() + dt.timedelta(days=1)).isoformat())
    assert refused.value.code == "future_date"
    assert daily.parse_day(plant_today().isoformat()) == plant_today()
