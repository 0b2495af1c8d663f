"""Helpers for the scheduling engine's tests: the feasibility assertion and the benchmark files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from benchmarks._data import benchmark_data, missing

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


@pytest.fixture(scope="session", autouse=True)
def compiled_kernels() -> None:
    """Compile the tabu search's and the dispatch's kernels once, before any timed solve: a
    search in a child process would otherwise spend its first seconds waiting for the compiler."""
    from mes.scheduling.engine import critical_path, sequence_search

    critical_path.warm_up()
    sequence_search.warm_up()


@pytest.fixture
def checked():
    return solve_checked


@pytest.fixture(scope="session")
def fjsp_data() -> Path:
    """The public FJSPLIB files: a failure in CI (``CI`` set) when they are missing, a skip elsewhere."""
    path = benchmark_data("fjsp")
    if not path.is_dir():
        if os.environ.get("CI"):
            pytest.fail(missing(path))
        pytest.skip(missing(path))
    return path
