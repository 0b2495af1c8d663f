"""Statistical process control for measured characteristics: individuals and moving range,
X-bar/R by subgroup, process capability (Cp/Cpk) and the Western Electric rules. Pure: plain
floats in, dataclasses out; no Flask, no database."""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

#: Control chart constants by subgroup size n (ASTM / Montgomery tables).
D2 = {2: 1.128, 3: 1.693, 4: 2.059, 5: 2.326, 6: 2.534, 7: 2.704, 8: 2.847, 9: 2.970, 10: 3.078}
A2 = {2: 1.880, 3: 1.023, 4: 0.729, 5: 0.577, 6: 0.483, 7: 0.419, 8: 0.373, 9: 0.337, 10: 0.308}
D3 = {2: 0.0, 3: 0.0, 4: 0.0, 5: 0.0, 6: 0.0, 7: 0.076, 8: 0.136, 9: 0.184, 10: 0.223}
D4 = {2: 3.267, 3: 2.574, 4: 2.282, 5: 2.114, 6: 2.004, 7: 1.924, 8: 1.864, 9: 1.816, 10: 1.777}


@dataclass(frozen=True)
class Limits:
    center: float
    lcl: float
    ucl: float


@dataclass
class Chart:
    """A chart of points with its limits, the short-term sigma they imply, and per point the
    Western Electric rules it breaks (rule numbers 1 to 4)."""

    points: list[float]
    limits: Limits
    sigma: float
    range_points: list[float | None] = field(default_factory=list)
    range_limits: Limits | None = None
    flags: dict[int, list[int]] = field(default_factory=dict)


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def stdev(values: Sequence[float]) -> float:
    """Sample standard deviation (n - 1)."""
    if len(values) < 2:
        return 0.0
    m = mean(values)
    return math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1))


def individuals(values: Sequence[float]) -> Chart:
    """Individuals and moving range chart (at least two values)."""
    if len(values) < 2:
        raise ValueError("an individuals chart needs at least two values")
    moving = [abs(values[i] - values[i - 1]) for i in range(1, len(values))]
    mr_bar = mean(moving)
    center = mean(values)
    sigma = mr_bar / D2[2]
    chart = Chart(list(values), Limits(center, center - 3 * sigma, center + 3 * sigma), sigma,
                  [None, *moving], Limits(mr_bar, 0.0, D4[2] * mr_bar))
    chart.flags = western_electric(chart.points, center, sigma)
    return chart


def xbar_r(subgroups: Sequence[Sequence[float]]) -> Chart:
    """X-bar and R chart of equal subgroups of 2 to 10 values (at least two subgroups)."""
    sizes = {len(g) for g in subgroups}
    if len(subgroups) < 2 or len(sizes) != 1 or next(iter(sizes)) not in D2:
        raise ValueError("X-bar/R needs at least two subgroups of the same size, 2 to 10")
    n = next(iter(sizes))
    means = [mean(g) for g in subgroups]
    ranges = [max(g) - min(g) for g in subgroups]
    center, r_bar = mean(means), mean(ranges)
    sigma = r_bar / D2[n]
    chart = Chart(means, Limits(center, center - A2[n] * r_bar, center + A2[n] * r_bar), sigma / math.sqrt(n),
                  list(ranges), Limits(r_bar, D3[n] * r_bar, D4[n] * r_bar))
    chart.flags = western_electric(means, center, sigma / math.sqrt(n))
    return chart


@dataclass(frozen=True)
class Capability:
    cp: float | None
    cpk: float | None
    mean: float
    sigma: float


def capability(values: Sequence[float], lower: float | None, upper: float | None, sigma: float | None = None) -> Capability:
    """Cp and Cpk of ``values`` against the specification limits, with ``sigma`` (the chart's
    short-term sigma) or else the sample standard deviation. Cp needs both limits; Cpk uses
    the nearer one. None where it cannot be computed (no spread, no limit)."""
    m = mean(values)
    s = sigma if sigma is not None else stdev(values)
    if s <= 0:
        return Capability(None, None, m, s)
    cp = (upper - lower) / (6 * s) if lower is not None and upper is not None else None
    sides = [x for x in ((upper - m) / (3 * s) if upper is not None else None,
                         (m - lower) / (3 * s) if lower is not None else None) if x is not None]
    return Capability(cp, min(sides) if sides else None, m, s)


def western_electric(points: Sequence[float], center: float, sigma: float) -> dict[int, list[int]]:
    """Per index, the rules the point completes:
    1 beyond 3 sigma; 2 two of three beyond 2 sigma on one side; 3 four of five beyond 1 sigma
    on one side; 4 eight in a row on one side of the center line."""
    flags: dict[int, list[int]] = {}
    if sigma <= 0:
        return flags
    z = [(p - center) / sigma for p in points]

    def flag(i: int, rule: int) -> None:
        flags.setdefault(i, [])
        if rule not in flags[i]:
            flags[i].append(rule)

    for i, zi in enumerate(z):
        if abs(zi) > 3:
            flag(i, 1)
        for side in (1, -1):
            if side * zi > 2 and i >= 2 and sum(1 for v in z[i - 2:i + 1] if side * v > 2) >= 2:
                flag(i, 2)
            if side * zi > 1 and i >= 4 and sum(1 for v in z[i - 4:i + 1] if side * v > 1) >= 4:
                flag(i, 3)
            if i >= 7 and all(side * v > 0 for v in z[i - 7:i + 1]):
                flag(i, 4)
    return flags
