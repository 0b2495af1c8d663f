"""Small charts as SVG markup, drawn on the server: no JavaScript, nothing to load, and nothing
the page's Content-Security-Policy forbids (presentation attributes only, no ``style``). Pure."""
from __future__ import annotations

from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT = 320, 140
PAD_LEFT, PAD_BOTTOM, PAD_TOP = 6, 22, 16


def _frame(body: list[str], title: str) -> str:
    return (f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
            f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>{"".join(body)}</svg>')


def bars(labels: Sequence[str], values: Sequence[float | None], title: str, unit: str = "") -> str:
    """A bar per label, the value written above it (a dash where there is none)."""
    known = [v for v in values if v is not None]
    top = max(known) if known and max(known) > 0 else 1.0
    n = max(len(values), 1)
    slot = (WIDTH - PAD_LEFT * 2) / n
    plot = HEIGHT - PAD_BOTTOM - PAD_TOP
    body = [f'<line x1="0" y1="{HEIGHT - PAD_BOTTOM}" x2="{WIDTH}" y2="{HEIGHT - PAD_BOTTOM}" stroke="#9aa0a6" stroke-width="1"/>']
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = PAD_LEFT + i * slot
        h = 0.0 if value is None else plot * value / top
        y = HEIGHT - PAD_BOTTOM - h
        body.append(f'<rect x="{x + slot * 0.15:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" '
                    f'fill="#1a73e8" rx="2"/>')
        text = "-" if value is None else f"{value:.0f}{unit}"
        body.append(f'<text x="{x + slot / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle" font-size="10" '
                    f'fill="#202124">{escape(text)}</text>')
        body.append(f'<text x="{x + slot / 2:.1f}" y="{HEIGHT - 7}" text-anchor="middle" font-size="10" '
                    f'fill="#5f6368">{escape(label)}</text>')
    return _frame(body, title)


def line(labels: Sequence[str], values: Sequence[float | None], title: str, unit: str = "%") -> str:
    """A line through the known values (0-100), with a dot and the value at each."""
    n = max(len(values), 1)
    slot = (WIDTH - PAD_LEFT * 2) / n
    plot = HEIGHT - PAD_BOTTOM - PAD_TOP
    body = [f'<line x1="0" y1="{HEIGHT - PAD_BOTTOM}" x2="{WIDTH}" y2="{HEIGHT - PAD_BOTTOM}" stroke="#9aa0a6" stroke-width="1"/>']
    points = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = PAD_LEFT + i * slot + slot / 2
        body.append(f'<text x="{x:.1f}" y="{HEIGHT - 7}" text-anchor="middle" font-size="10" fill="#5f6368">{escape(label)}</text>')
        if value is None:
            continue
        y = HEIGHT - PAD_BOTTOM - plot * min(max(value, 0.0), 100.0) / 100
        points.append(f"{x:.1f},{y:.1f}")
        body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#188038"/>')
        body.append(f'<text x="{x:.1f}" y="{y - 6:.1f}" text-anchor="middle" font-size="10" fill="#202124">{value:.0f}{unit}</text>')
    if len(points) > 1:
        body.insert(1, f'<polyline points="{" ".join(points)}" fill="none" stroke="#188038" stroke-width="2"/>')
    return _frame(body, title)
