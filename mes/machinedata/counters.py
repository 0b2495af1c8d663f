"""Cumulative part counters: the pieces a reading adds to the one before it (by timestamp), with
resets and rollovers told apart, and jumps too large to be parts refused. Pure.

A counter that drops either wrapped past its maximum (a 16-bit counter goes 65535 → 0) or was
reset (a power cycle, an operator pressing reset). It wrapped when the pieces that would make
(max + 1 - before + after) are plausible for the time between the two readings; otherwise it was
reset, and the reading's value is what was made since the reset."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

RESET, ROLLOVER = "reset", "rollover"


@dataclass(frozen=True)
class Reading:
    ts: dt.datetime
    good: int
    scrap: int


@dataclass(frozen=True)
class Step:
    """What a reading adds to the previous one."""

    good: int
    scrap: int
    event: str | None = None  # RESET or ROLLOVER when a counter dropped

    @property
    def pieces(self) -> int:
        return self.good + self.scrap


def allowed(before: dt.datetime, after: dt.datetime, max_rate_per_minute: int) -> int:
    """The most pieces plausible between two readings: the rate over the time between them, and
    at least a minute's worth (gateways batch, clocks jitter)."""
    minutes = max((after - before).total_seconds() / 60, 1.0)
    return int(max_rate_per_minute * minutes)


def _one(before: int, after: int, counter_max: int | None, limit: int) -> tuple[int, str | None]:
    if after >= before:
        return after - before, None
    if counter_max is not None and before <= counter_max and after <= counter_max:
        wrapped = counter_max + 1 - before + after
        if wrapped <= limit:
            return wrapped, ROLLOVER
    return after, RESET


def step(prev: Reading | None, cur: Reading, counter_max: int | None, max_rate_per_minute: int) -> Step | None:
    """The pieces ``cur`` adds to ``prev``; None when the jump is implausible (not parts).
    The first reading of a machine only sets the baseline: what the counter held before the
    MES listened was not made now."""
    if prev is None:
        return Step(0, 0)
    limit = allowed(prev.ts, cur.ts, max_rate_per_minute)
    good, good_event = _one(prev.good, cur.good, counter_max, limit)
    scrap, scrap_event = _one(prev.scrap, cur.scrap, counter_max, limit)
    if RESET in (good_event, scrap_event):
        # A reset clears both counters: whatever they hold now was made since.
        good, scrap, event = cur.good, cur.scrap, RESET
    else:
        event = good_event or scrap_event
    if good + scrap > limit:
        return None
    return Step(good, scrap, event)


def replay(readings: list[Reading], counter_max: int | None, max_rate_per_minute: int) -> list[Step | None]:
    """The steps of readings taken in timestamp order (what the database holds, however the
    messages arrived). An implausible reading is skipped: the next compares with the one before."""
    out: list[Step | None] = []
    prev: Reading | None = None
    for reading in sorted(readings, key=lambda r: r.ts):
        result = step(prev, reading, counter_max, max_rate_per_minute)
        out.append(result)
        if result is not None:
            prev = reading
    return out
