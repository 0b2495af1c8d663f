"""Which inspections are due on an operation, and whether its first article lets good pieces
through. Pure: works on plain values (the plan's lines, pieces reported, results so far).

- first piece: due from the start until its latest result passes (a failed first piece is
  measured again after the machine is corrected);
- every N pieces: the k-th check is due once k·N pieces are reported;
- last piece: due once the reported pieces reach the lot size, or when finishing;
- per lot: due once, as soon as pieces are reported.

Every occasion but the first piece counts as done once recorded, passed or not (a failure there
is a nonconformance, not a reason to measure again)."""
from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

FIRST, EVERY_N, LAST, LOT = "first", "every_n", "last", "lot"


@dataclass(frozen=True)
class PlanLine:
    key: Hashable  # the characteristic
    frequency: str
    every_n: int | None = None


@dataclass(frozen=True)
class Occasion:
    key: Hashable
    frequency: str
    sample_no: int = 1


def due(plan: Sequence[PlanLine], pieces: int, lot_size: int, latest: Mapping[Occasion, bool],
        finishing: bool = False) -> list[Occasion]:
    """The occasions still to inspect, given ``pieces`` reported (good plus scrap) of a lot of
    ``lot_size`` and ``latest``: for each occasion recorded, whether its latest result passed."""
    out: list[Occasion] = []
    for line in plan:
        if line.frequency == FIRST:
            occasion = Occasion(line.key, FIRST)
            if not latest.get(occasion, False):
                out.append(occasion)
        elif line.frequency == EVERY_N and line.every_n:
            for k in range(1, pieces // line.every_n + 1):
                occasion = Occasion(line.key, EVERY_N, k)
                if occasion not in latest:
                    out.append(occasion)
        elif line.frequency == LAST and (finishing or pieces >= lot_size):
            occasion = Occasion(line.key, LAST)
            if occasion not in latest:
                out.append(occasion)
        elif line.frequency == LOT and (finishing or pieces > 0):
            occasion = Occasion(line.key, LOT)
            if occasion not in latest:
                out.append(occasion)
    return out


def first_article_open(plan: Sequence[PlanLine], latest: Mapping[Occasion, bool]) -> list[Hashable]:
    """The first-piece characteristics whose latest result is missing or failed: while any is,
    a gated operation reports no good pieces."""
    return [line.key for line in plan if line.frequency == FIRST and not latest.get(Occasion(line.key, FIRST), False)]


def judge(value: Decimal, lower: Decimal | None, upper: Decimal | None) -> bool:
    """Whether a measured value lies within its limits (limits included)."""
    return (lower is None or value >= lower) and (upper is None or value <= upper)


def plausible(value: Decimal, lower: Decimal | None, upper: Decimal | None, nominal: Decimal | None = None) -> bool:
    """Whether a value could be a real measurement rather than a typing error (a slipped decimal
    point is ten times off). The plausible band reaches five tolerance widths, or a fifth of the
    size, whichever is more, beyond the limits."""
    if lower is None and upper is None:
        return True
    if lower is not None and upper is not None:
        ref, width = nominal if nominal is not None else (lower + upper) / 2, upper - lower
    elif upper is not None:  # "at most": from zero (or the nominal) up to the limit
        ref = nominal if nominal is not None else Decimal(0)
        width = abs(upper - ref)
    else:
        assert lower is not None
        ref = nominal if nominal is not None else lower
        width = abs(lower - ref)
    size = max(abs(x) for x in (lower, upper, ref) if x is not None)
    margin = max(5 * width, size / 5)
    low = min(x for x in (lower, ref) if x is not None) - margin
    high = max(x for x in (upper, ref) if x is not None) + margin
    return low <= value <= high
