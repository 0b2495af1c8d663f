"""Shift calendars as minutes after an origin."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from mes.machines.shifts import off_shift_windows, working_intervals

SH = ZoneInfo("Asia/Shanghai")
MONDAY_MIDNIGHT = dt.datetime(2026, 11, 23, 0, 0, tzinfo=SH)
ONE_SHIFT = [(d, 480, 1020) for d in range(5)]  # 08:00-17:00, Mon-Fri


def test_one_shift_week():
    work = working_intervals(ONE_SHIFT, {}, SH, MONDAY_MIDNIGHT, 7 * 1440)
    assert work == [(d * 1440 + 480, d * 1440 + 1020) for d in range(5)]
    off = off_shift_windows(work, 7 * 1440)
    assert off[0] == (0, 480) and off[-1] == (4 * 1440 + 1020, 7 * 1440)
    assert sum(b - a for a, b in work) + sum(b - a for a, b in off) == 7 * 1440


def test_origin_inside_a_shift_and_utc_origin():
    origin = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai
    work = working_intervals(ONE_SHIFT, {}, SH, origin, 1440)
    assert work[0] == (0, 420)


def test_holiday_and_extra_working_saturday():
    holiday = dt.date(2026, 11, 24)
    saturday = dt.date(2026, 11, 28)
    work = working_intervals(ONE_SHIFT, {holiday: False, saturday: True}, SH, MONDAY_MIDNIGHT, 7 * 1440)
    days = {start // 1440 for start, _ in work}
    assert days == {0, 2, 3, 4, 5}


def test_night_shift_crosses_midnight_and_merges():
    shifts = [(d, 360, 1320) for d in range(7)] + [(d, 1320, 1800) for d in range(7)]  # 06:00-22:00 + 22:00-06:00
    work = working_intervals(shifts, {}, SH, MONDAY_MIDNIGHT, 3 * 1440)
    assert work == [(0, 3 * 1440)]


def test_daylight_saving_day_follows_the_wall_clock():
    berlin = ZoneInfo("Europe/Berlin")
    origin = dt.datetime(2026, 3, 28, 0, 0, tzinfo=berlin)  # the clocks go forward on Sunday 29 March
    shifts = [(d, 480, 1020) for d in range(7)]
    work = working_intervals(shifts, {}, berlin, origin, 3 * 1440)
    assert work[1] == (1440 + 420, 1440 + 960)  # Sunday 08:00 local is 23 h after Saturday 08:00 + 1440 - 60
