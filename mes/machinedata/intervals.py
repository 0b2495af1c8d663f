"""Time spans as (start, end) datetimes: clip them to a window and measure their union, so a
machine tended by two workers at once, or reported twice, runs only once. Pure."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

Span = tuple[dt.datetime, dt.datetime]


def clip(spans: Iterable[Span], start: dt.datetime, end: dt.datetime) -> list[Span]:
    """The parts of ``spans`` inside [start, end), empty ones dropped."""
    out = []
    for a, b in spans:
        a, b = max(a, start), min(b, end)
        if b > a:
            out.append((a, b))
    return out


def union(spans: Iterable[Span]) -> list[Span]:
    """Overlapping and touching spans merged, in time order."""
    merged: list[Span] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            if b > merged[-1][1]:
                merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged


def minutes(spans: Iterable[Span]) -> float:
    """Minutes covered by ``spans``, each moment counted once."""
    return sum((b - a).total_seconds() for a, b in union(spans)) / 60
