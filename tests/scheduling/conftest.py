"""Helpers for the scheduling engine's tests: small problems and the feasibility assertion."""

from __future__ import annotations

import pytest

from mes.scheduling.engine.checker import check
from mes.scheduling.engine.problem import Problem, Result
from mes.scheduling.engine.solver import solve


def assert_feasible(problem: Problem, result: Result) -> Result:
    """Every schedule a test produces goes through the independent checker."""
    errors = check(problem, result)
    assert errors == [], "\n".join(errors)
    return result


def solve_checked(problem: Problem, time_limit: float = 2.0, workers: int = 2, **kwargs) -> Result:
    return assert_feasible(problem, solve(problem, time_limit=time_limit, workers=workers, **kwargs))


@pytest.fixture
def checked():
    return solve_checked
