"""The statistic ``benchmarks/workers.py`` reports for k workers: the expected best of k
searches drawn at random from those it ran."""

from __future__ import annotations

import itertools
import random
import statistics

import pytest

from benchmarks.workers import expected_best


@pytest.mark.parametrize("k", [1, 2, 3, 8])
def test_expected_best_is_the_mean_minimum_over_all_subsets(k):
    rng = random.Random(k)
    values = [rng.randint(60_000, 90_000) for _ in range(8)] + [75_000, 75_000]  # ties count twice
    brute = statistics.mean(min(subset) for subset in itertools.combinations(values, k))
    assert expected_best(values, k) == pytest.approx(brute)


def test_expected_best_of_one_is_the_mean_and_of_all_the_minimum():
    values = [5, 3, 9, 3]
    assert expected_best(values, 1) == pytest.approx(5.0)
    assert expected_best(values, 4) == 3
    assert expected_best(values, 2) == pytest.approx((3 + 3 + 3 + 3 + 5 + 3) / 6)
