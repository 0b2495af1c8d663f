"""Overall equipment effectiveness: availability × performance × quality, with the minutes lost
behind each factor. Pure: no Flask, no database. The same figures for connected machines (from
their state timeline and counters) and hand-reported ones (from the terminal's time and reports)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OeeInput:
    """What OEE is computed from, for one machine over one window (or summed over several)."""

    planned_minutes: float  # planned production time in the window (calendar shifts, minus planned stops)
    run_minutes: float  # time the machine ran
    ideal_minutes: float  # Σ ideal cycle time × pieces made (good + scrap)
    good: int
    total: int  # good + scrap

    def __add__(self, other: OeeInput) -> OeeInput:
        if not isinstance(other, OeeInput):
            return NotImplemented
        return OeeInput(
            planned_minutes=self.planned_minutes + other.planned_minutes,
            run_minutes=self.run_minutes + other.run_minutes,
            ideal_minutes=self.ideal_minutes + other.ideal_minutes,
            good=self.good + other.good,
            total=self.total + other.total,
        )


#: Nothing planned, nothing run, nothing made: the neutral element of ``+``.
EMPTY = OeeInput(0.0, 0.0, 0.0, 0, 0)


@dataclass(frozen=True)
class Oee:
    availability: float | None  # run / planned, None when planned_minutes == 0
    performance: float | None  # ideal / run (capped at 1.0), None when run_minutes == 0
    quality: float | None  # good / total, None when total == 0
    oee: float | None  # product of the three, None if any is None
    availability_loss_minutes: float  # planned - run (>= 0)
    performance_loss_minutes: float  # run - ideal (>= 0)
    quality_loss_minutes: float  # ideal time of the scrap pieces


def compute(figures: OeeInput) -> Oee:
    """OEE of ``figures``. A machine that ran outside planned time may exceed an availability of
    1 (the figure says so honestly); performance is capped at 1 because an ideal cycle time that
    is beaten means the routing's standard is wrong, not that the machine made time."""
    planned, run, ideal = figures.planned_minutes, figures.run_minutes, figures.ideal_minutes
    availability = run / planned if planned > 0 else None
    performance = min(ideal / run, 1.0) if run > 0 else None
    quality = figures.good / figures.total if figures.total > 0 else None
    parts = (availability, performance, quality)
    oee = None if any(p is None for p in parts) else availability * performance * quality  # type: ignore[operator]
    scrap = figures.total - figures.good
    quality_loss = ideal * scrap / figures.total if figures.total > 0 else 0.0
    return Oee(
        availability=availability,
        performance=performance,
        quality=quality,
        oee=oee,
        availability_loss_minutes=max(planned - run, 0.0),
        performance_loss_minutes=max(run - ideal, 0.0),
        quality_loss_minutes=max(quality_loss, 0.0),
    )
