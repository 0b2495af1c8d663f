"""A machine's state timeline from its state events: each state lasts until the next event by
timestamp (however late the messages came), the last one until now. Pure."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Interval:
    state: str
    start: dt.datetime
    end: dt.datetime
    reason: str | None = None

    @property
    def minutes(self) -> float:
        return (self.end - self.start).total_seconds() / 60


def intervals(events: Iterable[tuple[dt.datetime, str, str | None]], start: dt.datetime, end: dt.datetime,
              now: dt.datetime) -> list[Interval]:
    """The timeline within [start, min(end, now)): ``events`` are (ts, state, reason), including
    the last one before ``start`` (it says what the machine did when the window opened).
    Consecutive events of one state merge; nothing is known before the first event."""
    stop = min(end, now)
    ordered = sorted(events, key=lambda e: e[0])
    out: list[Interval] = []
    for i, (ts, state, reason) in enumerate(ordered):
        until = ordered[i + 1][0] if i + 1 < len(ordered) else stop
        a, b = max(ts, start), min(until, stop)
        if b <= a:
            continue
        if out and out[-1].state == state and out[-1].end == a:
            out[-1] = Interval(state, out[-1].start, b, out[-1].reason)
        else:
            out.append(Interval(state, a, b, reason))
    return out


def minutes_by_state(spans: Iterable[Interval]) -> dict[str, float]:
    out: dict[str, float] = {}
    for span in spans:
        out[span.state] = out.get(span.state, 0.0) + span.minutes
    return out
