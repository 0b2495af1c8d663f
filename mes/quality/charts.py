"""Pareto ordering and the geometry of the server-drawn SVG charts (Pareto bars with their
cumulative line, control charts with limits and flagged points). Pure: plain values in, plain
coordinates out; the templates draw them."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

WIDTH, HEIGHT, PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 720, 260, 56, 56, 16, 56


@dataclass(frozen=True)
class ParetoRow:
    label: str
    count: int
    share: float  # of the total, 0..1
    cumulative: float  # 0..1


def pareto(counts: Mapping[str, int]) -> list[ParetoRow]:
    """Largest first (ties by label), with each row's share and the running share."""
    total = sum(v for v in counts.values() if v > 0)
    rows: list[ParetoRow] = []
    running = 0
    for label, count in sorted(((k, v) for k, v in counts.items() if v > 0), key=lambda kv: (-kv[1], kv[0])):
        running += count
        rows.append(ParetoRow(label, count, count / total, running / total))
    return rows


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    count: int
    label_x: float


@dataclass
class ParetoPicture:
    width: int
    height: int
    bars: list[Bar]
    line: str  # polyline points of the cumulative share
    axis_y: float
    top: float
    max_count: int


def pareto_picture(rows: Sequence[ParetoRow]) -> ParetoPicture:
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    base = PAD_TOP + plot_h
    top = max((r.count for r in rows), default=1)
    slot = plot_w / max(len(rows), 1)
    bars, points = [], []
    for i, r in enumerate(rows):
        h = plot_h * r.count / top
        x = PAD_LEFT + i * slot + slot * 0.1
        bars.append(Bar(round(x, 1), round(base - h, 1), round(slot * 0.8, 1), round(h, 1), r.label, r.count,
                        round(x + slot * 0.4, 1)))
        points.append(f"{x + slot * 0.4:.1f},{base - plot_h * r.cumulative:.1f}")
    return ParetoPicture(WIDTH, HEIGHT, bars, " ".join(points), base, PAD_TOP, top)


@dataclass
class Line:
    y: float
    value: float
    kind: str  # center, control, spec


@dataclass
class Dot:
    x: float
    y: float
    value: float
    flagged: bool
    rules: list[int] = field(default_factory=list)
    label: str = ""


@dataclass
class ChartPicture:
    width: int
    height: int
    line: str
    dots: list[Dot]
    lines: list[Line]
    left: float
    right: float


def chart_picture(points: Sequence[float | None], lines: Sequence[tuple[float, str]], flags: Mapping[int, list[int]],
                  labels: Sequence[str] = (), height: int = HEIGHT) -> ChartPicture:
    """A run chart of ``points`` (None leaves a gap, e.g. the first moving range) with horizontal
    ``lines`` (value, kind); the scale covers the points and the lines with a margin."""
    values = [p for p in points if p is not None] + [v for v, _k in lines]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    if high == low:
        low, high = low - 1, high + 1
    margin = (high - low) * 0.08
    low, high = low - margin, high + margin
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = height - PAD_TOP - PAD_BOTTOM

    def y_of(v: float) -> float:
        return round(PAD_TOP + plot_h * (high - v) / (high - low), 1)

    step = plot_w / max(len(points) - 1, 1)
    dots: list[Dot] = []
    coords: list[str] = []
    for i, p in enumerate(points):
        if p is None:
            continue
        x = round(PAD_LEFT + i * step, 1)
        rules = list(flags.get(i, []))
        dots.append(Dot(x, y_of(p), p, bool(rules), rules, labels[i] if i < len(labels) else str(i + 1)))
        coords.append(f"{x},{y_of(p)}")
    return ChartPicture(WIDTH, height, " ".join(coords), dots, [Line(y_of(v), v, k) for v, k in lines],
                        PAD_LEFT, WIDTH - PAD_RIGHT)
