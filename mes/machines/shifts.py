"""Shift calendars as minutes: the working intervals of a weekly shift pattern, with holidays,
over a horizon, and the off-shift windows between them. Pure: no database, no Flask."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from zoneinfo import ZoneInfo


def working_intervals(
    shifts: Iterable[tuple[int, int, int]],
    exceptions: Mapping[dt.date, bool],
    tz: ZoneInfo,
    origin: dt.datetime,
    horizon_minutes: int,
) -> list[tuple[int, int]]:
    """Merged [start, end) minutes after ``origin`` in which the calendar works.

    ``shifts`` are (weekday 0=Monday, start minute, end minute) in local time, an end past 1440
    running into the next day; ``exceptions`` mark a date as a holiday (False) or as an extra
    working day (True, worked like the pattern's first working weekday). Local times are
    converted day by day, so daylight-saving changes land where the wall clock says.
    """
    by_day: dict[int, list[tuple[int, int]]] = {}
    for weekday, start, end in shifts:
        by_day.setdefault(weekday, []).append((start, end))
    template = next((by_day[d] for d in sorted(by_day)), [])
    local_origin = origin.astimezone(tz)
    first = local_origin.date() - dt.timedelta(days=1)  # a night shift from yesterday may still run
    last = (origin + dt.timedelta(minutes=horizon_minutes)).astimezone(tz).date()
    intervals: list[tuple[int, int]] = []
    day = first
    while day <= last:
        working = exceptions.get(day)
        spans = by_day.get(day.weekday(), []) if working is None else (template if working else [])
        midnight = dt.datetime.combine(day, dt.time(0), tzinfo=tz)
        for start, end in spans:
            a = _minutes(midnight + dt.timedelta(minutes=start), origin)
            b = _minutes(midnight + dt.timedelta(minutes=end), origin)
            a, b = max(a, 0), min(b, horizon_minutes)
            if b > a:
                intervals.append((a, b))
        day += dt.timedelta(days=1)
    return _merge(intervals)


def off_shift_windows(working: list[tuple[int, int]], horizon_minutes: int) -> list[tuple[int, int]]:
    """The gaps of ``working`` within [0, horizon), and everything after the horizon."""
    windows = []
    cursor = 0
    for start, end in working:
        if start > cursor:
            windows.append((cursor, start))
        cursor = max(cursor, end)
    if cursor < horizon_minutes:
        windows.append((cursor, horizon_minutes))
    return windows


def _minutes(moment: dt.datetime, origin: dt.datetime) -> int:
    # Aware datetimes in one zone subtract as wall clocks; in UTC they subtract as real time.
    return int((moment.astimezone(dt.UTC) - origin.astimezone(dt.UTC)).total_seconds() // 60)


def _merge(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
