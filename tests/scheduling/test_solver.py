"""solve(): phases, progress reports, stopping, time limits and the dispatch heuristic."""

from __future__ import annotations

import threading
import time

import pytest

from mes.scheduling.engine.fjsplib import read_fjsplib
from mes.scheduling.engine.heuristic import Rule, default_rules, dispatch
from mes.scheduling.engine.instance import Instance
from mes.scheduling.engine.problem import Phase, Progress, SolveStatus
from mes.scheduling.engine.solver import plan_result
from tests.scheduling.conftest import assert_feasible, solve_checked
from mes.scheduling.engine.generator import shop_problem

@pytest.fixture(scope="module")
def shop():
    return shop_problem(orders=25, seed=3)


def test_every_dispatch_rule_gives_a_feasible_plan(shop):
    instance = Instance(shop)
    for rule in default_rules(instance) + [Rule("atcs", 1.0, 0.2, noise=0.5, seed=7), Rule("mwkr")]:
        plan = dispatch(instance, rule)
        assert plan is not None
        assert_feasible(shop, plan_result(instance, plan, Phase.HEURISTIC))


def test_shop_plan_improves_on_the_heuristic(shop):
    instance = Instance(shop)
    heuristic = min(plan_result(instance, dispatch(instance, r), Phase.HEURISTIC).levels for r in default_rules(instance))
    result = solve_checked(shop, time_limit=6)
    assert result.levels <= heuristic
    assert result.phase in (Phase.CP_SAT, Phase.LNS, Phase.HEURISTIC)


def test_progress_is_reported_and_improves(shop):
    seen: list[Progress] = []
    result = solve_checked(shop, time_limit=3, progress=seen.append)
    assert seen
    assert seen[0].phase in (Phase.HEURISTIC, Phase.REPAIR)
    assert [p.objective for p in seen] == sorted((p.objective for p in seen), reverse=True)
    assert seen[-1].objective == result.levels
    assert all(p.seconds <= 3.5 for p in seen)


def test_stop_event_ends_the_search_with_the_best_plan(shop):
    stop = threading.Event()
    threading.Timer(0.5, stop.set).start()
    started = time.monotonic()
    result = solve_checked(shop, time_limit=60, stop=stop)
    assert time.monotonic() - started < 5
    assert result.operations


def test_time_limit_is_respected(shop):
    started = time.monotonic()
    solve_checked(shop, time_limit=1.5, workers=1)
    assert time.monotonic() - started < 3.0


def test_zero_time_limit_still_returns_a_plan(shop):
    result = solve_checked(shop, time_limit=0)
    assert result.phase in (Phase.HEURISTIC, Phase.REPAIR)
    assert result.status == SolveStatus.FEASIBLE


def test_brandimarte_mk01_is_solved_to_optimality(fjsp_data):
    problem = read_fjsplib(fjsp_data / "brandimarte" / "mk01.fjs")
    result = solve_checked(problem, time_limit=10)
    assert result.status == SolveStatus.OPTIMAL
    assert result.levels == (40,)
    assert result.lower_bound == 40
