"""Cumulative counters, pure: resets and rollovers are told apart, jumps refused, and the pieces
counted equal the pieces made however the readings arrive (late, out of order, repeated)."""
from __future__ import annotations

import datetime as dt
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from mes.machinedata.counters import (
    RESET,
    ROLLOVER,
    Reading,
    Step,
    allowed,
    replay,
    step,
)

T0 = dt.datetime(2026, 6, 1, 8, tzinfo=dt.UTC)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def test_first_reading_is_the_baseline():
    assert step(None, Reading(T0, 12345, 7), None, 600) == Step(0, 0)


def test_counting_up():
    assert step(Reading(T0, 10, 1), Reading(at(60), 25, 3), None, 600) == Step(15, 2)


def test_a_drop_is_a_reset_not_negative_parts():
    result = step(Reading(T0, 500, 9), Reading(at(60), 4, 0), None, 600)
    assert result == Step(4, 0, RESET)


def test_a_16_bit_counter_wraps():
    result = step(Reading(T0, 65530, 0), Reading(at(60), 4, 0), 65535, 600)
    assert result == Step(10, 0, ROLLOVER)


def test_a_drop_far_from_the_top_is_a_reset_even_with_a_maximum():
    result = step(Reading(T0, 30000, 0), Reading(at(60), 4, 0), 65535, 600)
    assert result == Step(4, 0, RESET)


def test_an_implausible_jump_is_refused():
    assert step(Reading(T0, 10, 0), Reading(at(60), 10 + 601, 0), None, 600) is None
    assert step(Reading(T0, 10, 0), Reading(at(60), 10 + 600, 0), None, 600) == Step(600, 0)
    # At least a minute's worth is allowed however close the readings are.
    assert allowed(T0, at(1), 600) == 600
    assert allowed(T0, at(600), 600) == 6000


@st.composite
def production(draw):  # type: ignore[no-untyped-def]
    """A machine's life: pieces made between readings, with resets and (16-bit) rollovers; the
    readings its gateway sends, each at least a second apart."""
    counter_max = draw(st.sampled_from([None, 255, 65535]))
    steps = draw(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 5), st.booleans()), min_size=1, max_size=60))
    start_good = draw(st.integers(0, counter_max or 10**6))
    good, scrap, t = start_good, 0, 0.0
    readings = [Reading(at(t), good, scrap)]
    made = 0
    for g, s, reset in steps:
        t += draw(st.integers(1, 120))
        if reset and counter_max is None and g < good:  # a reset the counter shows (it dropped)
            good, scrap = g, s
        else:
            good, scrap = good + g, scrap + s
            if counter_max is not None:
                good, scrap = good % (counter_max + 1), scrap % (counter_max + 1)
        made += g + s
        readings.append(Reading(at(t), good, scrap))
    return counter_max, readings, made


@settings(max_examples=300, deadline=None)
@given(production(), st.randoms(use_true_random=False))
def test_pieces_counted_equal_pieces_made_in_any_arrival_order(case, rnd: random.Random):
    counter_max, readings, made = case
    # The database keeps one reading per timestamp and orders them by timestamp, whatever came
    # when: shuffle and repeat the messages, keep the first of each timestamp.
    arrived = readings + rnd.sample(readings, k=min(len(readings), 5))
    rnd.shuffle(arrived)
    kept = {r.ts: r for r in reversed(arrived)}
    steps = replay(list(kept.values()), counter_max, max_rate_per_minute=100)
    assert all(s is not None for s in steps)
    assert sum(s.pieces for s in steps if s is not None) == made


@settings(max_examples=200, deadline=None)
@given(production(), st.integers(1, 10**9))
def test_a_glitch_counts_nothing_and_the_next_reading_carries_on(case, jump: int):
    counter_max, readings, made = case
    if counter_max is not None or len(readings) < 3:
        return
    prev, nxt = readings[1], readings[2]
    glitch = Reading(prev.ts + (nxt.ts - prev.ts) / 2, prev.good + 10**10 + jump, prev.scrap)
    steps = replay([*readings, glitch], None, max_rate_per_minute=100)
    assert steps.count(None) == 1
    assert sum(s.pieces for s in steps if s is not None) == made
