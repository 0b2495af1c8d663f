"""Working time of a machine: maps elapsed minutes to working minutes and back.

A machine works in the gaps between its unavailability windows. Its *working time* of an
elapsed minute t is t minus the window minutes before t, so a machine without windows has
working time equal to elapsed time. Operations and setups are measured in working time;
precedence, release and due dates in elapsed time.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable

from mes.scheduling.engine.problem import Window, WindowKind

# Far enough for any plan in minutes, small enough for CP-SAT's int64 arithmetic.
INFINITY = 10**12


class Calendar:
    """The working segments of one machine.

    Segment k is the elapsed span [starts[k], ends[k]) in which the machine works; its
    working-time span is [starts[k] - offsets[k], ends[k] - offsets[k]). The gap after
    segment k is a breakdown when ``breaks_after[k]``; resumable operations may span
    off-shift gaps but never a breakdown.
    """

    __slots__ = ("starts", "ends", "offsets", "wstarts", "wends", "breaks_after", "chain_end")

    def __init__(self, windows: Iterable[Window] = ()):
        merged: list[list[int | bool]] = []
        for window in sorted(windows, key=lambda w: (w.start, w.end)):
            if window.end <= window.start:
                continue
            breakdown = window.kind == WindowKind.BREAKDOWN
            if merged and window.start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], window.end)
                merged[-1][2] = merged[-1][2] or breakdown
            else:
                merged.append([window.start, window.end, breakdown])
        self.starts = [-INFINITY]
        self.ends: list[int] = []
        self.offsets = [0]
        self.breaks_after: list[bool] = []
        off = 0
        for start, end, breakdown in merged:
            self.ends.append(start)
            self.breaks_after.append(bool(breakdown))
            off += end - start
            self.starts.append(end)
            self.offsets.append(off)
        self.ends.append(INFINITY)
        self.breaks_after.append(False)
        self.wstarts = [s - o for s, o in zip(self.starts, self.offsets)]
        self.wends = [e - o for e, o in zip(self.ends, self.offsets)]
        # Working time at which the chain of segments joined by off-shift gaps ends.
        self.chain_end = [0] * len(self.starts)
        end = INFINITY
        for k in range(len(self.starts) - 1, -1, -1):
            if self.breaks_after[k]:
                end = self.wends[k]
            self.chain_end[k] = end

    @property
    def has_windows(self) -> bool:
        return len(self.starts) > 1

    def working(self, t: int) -> int:
        """Working minutes before elapsed t (the index of the first working minute >= t)."""
        k = bisect_right(self.starts, t) - 1
        return min(t, self.ends[k]) - self.offsets[k]

    def segment_of_working(self, w: int) -> int:
        return bisect_right(self.wstarts, w) - 1

    def elapsed_start(self, w: int) -> int:
        """Elapsed minute at which working minute w begins."""
        return w + self.offsets[self.segment_of_working(w)]

    def elapsed_end(self, w: int) -> int:
        """Elapsed minute just after working minute w - 1 ends (w > any start)."""
        return w - 1 + self.offsets[self.segment_of_working(w - 1)] + 1

    def is_working(self, t: int) -> bool:
        k = bisect_right(self.starts, t) - 1
        return t < self.ends[k]

    def fits(self, ws: int, work: int, resumable: bool) -> bool:
        k = self.segment_of_working(ws)
        limit = self.chain_end[k] if resumable else self.wends[k]
        return ws + work <= limit

    def earliest_fit(self, ws: int, work: int, resumable: bool) -> int:
        """Smallest working start >= ws at which ``work`` minutes fit (see class doc)."""
        k = self.segment_of_working(ws)
        while True:
            limit = self.chain_end[k] if resumable else self.wends[k]
            if ws + work <= limit:
                return ws
            # Jump to the first segment after the obstacle (segment end or breakdown).
            if resumable:
                while not self.breaks_after[k]:
                    k += 1
            k += 1
            ws = max(ws, self.wstarts[k])

    def end_of(self, ws: int, work: int) -> int:
        """Elapsed end of an operation of ``work`` > 0 minutes starting at working ws."""
        return self.elapsed_end(ws + work)

    def allowed_starts(self, lo: int, hi: int, work: int, resumable: bool) -> list[tuple[int, int]]:
        """Closed working-time ranges within [lo, hi] where an operation may start."""
        result: list[tuple[int, int]] = []
        k = self.segment_of_working(lo)
        while k < len(self.starts) and self.wstarts[k] <= hi:
            limit = self.chain_end[k] if resumable else self.wends[k]
            first = max(lo, self.wstarts[k])
            last = min(hi, self.wends[k] - 1, limit - work)
            if first <= last:
                if result and result[-1][1] + 1 >= first:
                    result[-1] = (result[-1][0], last)
                else:
                    result.append((first, last))
            k += 1
        return result

    def boundaries(self, lo: int, hi: int) -> list[tuple[int, int]]:
        """(working minute, offset increase) for each segment start in (lo, hi]."""
        result = []
        k = self.segment_of_working(lo) + 1
        while k < len(self.starts) and self.wstarts[k] <= hi:
            result.append((self.wstarts[k], self.offsets[k] - self.offsets[k - 1]))
            k += 1
        return result

    def offset_at_working(self, w: int) -> int:
        return self.offsets[self.segment_of_working(w)]
