"""Working-time arithmetic of machine calendars."""

from mes.scheduling.engine.calendar import Calendar
from mes.scheduling.engine.problem import Window, WindowKind


def test_no_windows_is_identity():
    calendar = Calendar()
    assert calendar.working(123) == 123
    assert calendar.elapsed_start(77) == 77
    assert calendar.end_of(10, 5) == 15
    assert not calendar.has_windows


def test_working_time_skips_windows():
    calendar = Calendar([Window(10, 20), Window(30, 35)])
    assert calendar.working(5) == 5
    assert calendar.working(10) == 10
    assert calendar.working(15) == 10  # inside the window: next working minute is index 10
    assert calendar.working(20) == 10
    assert calendar.working(25) == 15
    assert calendar.working(40) == 25
    assert calendar.elapsed_start(10) == 20
    assert calendar.elapsed_start(19) == 29
    assert calendar.elapsed_start(20) == 35
    # An operation whose last working minute is 29 ends at 30, where the window starts.
    assert calendar.end_of(15, 5) == 30
    assert calendar.end_of(15, 6) == 36


def test_resumable_spans_off_shift_not_breakdown():
    calendar = Calendar([Window(10, 20), Window(30, 40, WindowKind.BREAKDOWN)])
    # 15 minutes from working minute 5: spans the off-shift window, fits before the breakdown.
    assert calendar.fits(5, 15, resumable=True)
    assert not calendar.fits(5, 15, resumable=False)
    # 30 minutes cannot cross the breakdown: the earliest fit starts after it.
    assert calendar.earliest_fit(0, 30, resumable=True) == 20
    assert calendar.elapsed_start(20) == 40
    assert calendar.earliest_fit(0, 8, resumable=False) == 0
    assert calendar.earliest_fit(5, 8, resumable=False) == 10


def test_overlapping_windows_merge_and_breakdown_wins():
    calendar = Calendar([Window(10, 20), Window(15, 25, WindowKind.BREAKDOWN)])
    assert calendar.working(30) == 15
    assert calendar.breaks_after[0]


def test_allowed_starts_and_boundaries():
    calendar = Calendar([Window(10, 20), Window(30, 35)])
    assert calendar.allowed_starts(0, 30, 4, resumable=False) == [(0, 6), (10, 16), (20, 30)]
    assert calendar.allowed_starts(0, 30, 4, resumable=True) == [(0, 30)]
    assert calendar.boundaries(0, 30) == [(10, 10), (20, 5)]
