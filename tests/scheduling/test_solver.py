"""solve(): phases, progress reports, stopping, time limits and the dispatch heuristic."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, replace

import pytest
from ortools.sat.python import cp_model

from mes.scheduling.engine import child, lns, priority_search, solver
from mes.scheduling.engine.fjsplib import read_fjsplib
from mes.scheduling.engine.generator import shop_problem
from mes.scheduling.engine.heuristic import Rule, default_rules, dispatch
from mes.scheduling.engine.instance import Instance
from mes.scheduling.engine.problem import Objective, Phase, Progress, SolveStatus, Term
from mes.scheduling.engine.solver import plan_result
from tests.scheduling.conftest import assert_feasible, solve_checked


@pytest.fixture(scope="module")
def shop():
    return shop_problem(orders=25, seed=3)


@pytest.fixture(scope="module")
def lns_shop(shop):
    """The shop planned for setup time, then makespan: above the whole-model limit, so LNS
    does the improving (with due dates first, the priority searches would)."""
    return replace(shop, objective=Objective.lexicographic(Term.SETUP_TIME, Term.MAKESPAN))


@pytest.fixture(scope="module")
def small_shop():
    """Few enough operations that CP-SAT gets the whole model for the whole time limit."""
    return shop_problem(orders=10, seed=3)


@dataclass
class CpSatCall:
    at: float  # the engine's clock when the call began
    max_time_in_seconds: float
    num_workers: int
    wall_time: float = 0.0  # CP-SAT's own measure of the call


class EngineClock:
    """The engine's clock in a test, immune to machine load: it moves by a fixed step each time
    the engine reads it, and each CP-SAT call lasts the whole time limit it was given (as if
    every call used all of it). Every CP-SAT call is recorded; an engine still reading the
    clock a second past its time limit, or calling CP-SAT too often, fails at once."""

    STEP = 0.02

    def __init__(self, time_limit: float, max_calls: int = 1000):
        self.time_limit = time_limit
        self.max_calls = max_calls
        self.now = 1000.0
        self.origin: float | None = None
        self.calls: list[CpSatCall] = []
        self.on_call = lambda call: None
        self.lock = threading.Lock()

    @property
    def deadline(self) -> float:
        return self.origin + self.time_limit

    def monotonic(self) -> float:
        with self.lock:
            self.now += self.STEP
            if self.origin is None:
                self.origin = self.now  # solve() reads the clock first of all to set its deadline
            elif self.now > self.deadline + 1.0:
                raise RuntimeError(f"the engine is still at work {self.now - self.deadline:.2f} s past its time limit")
            return self.now

    def __getattr__(self, name: str):
        return getattr(time, name)  # anything else of the time module, unchanged

    def solver_class(self) -> type:
        clock, real = self, cp_model.CpSolver

        class RecordingSolver(real):
            def solve(self, *args, **kwargs):
                with clock.lock:
                    call = CpSatCall(clock.now, self.parameters.max_time_in_seconds, self.parameters.num_workers)
                    clock.calls.append(call)
                    if len(clock.calls) > clock.max_calls:
                        raise RuntimeError(f"CP-SAT called {len(clock.calls)} times")
                clock.on_call(call)
                # Recorded as asked; run for at most a second past the limit, so a broken
                # engine fails the test instead of hanging it.
                self.parameters.max_time_in_seconds = min(call.max_time_in_seconds, clock.time_limit + 1.0)
                try:
                    return super().solve(*args, **kwargs)
                finally:
                    call.wall_time = self.wall_time
                    with clock.lock:  # other threads may have moved the clock meanwhile
                        clock.now = max(clock.now, call.at + call.max_time_in_seconds)

        return RecordingSolver


@pytest.fixture
def engine_clock(monkeypatch):
    """Install an EngineClock with the given time limit (call the fixture's value)."""
    def install(time_limit: float, max_calls: int = 1000) -> EngineClock:
        clock = EngineClock(time_limit, max_calls)
        for module in (solver, lns, priority_search, child):
            monkeypatch.setattr(module, "time", clock)
        monkeypatch.setattr(cp_model, "CpSolver", clock.solver_class())
        return clock

    return install


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


def test_progress_is_reported_and_improves(shop, engine_clock):
    engine_clock(3)
    seen: list[Progress] = []
    result = solve_checked(shop, time_limit=3, progress=seen.append)
    assert seen
    assert seen[0].phase in (Phase.HEURISTIC, Phase.REPAIR)
    assert [p.objective for p in seen] == sorted((p.objective for p in seen), reverse=True)
    assert seen[-1].objective == result.levels
    assert all(p.seconds <= 3.5 for p in seen)


@pytest.mark.parametrize("which", ["whole model", "neighbourhoods"])
def test_stop_event_ends_the_search_with_the_best_plan(lns_shop, small_shop, engine_clock, which):
    # The stop comes while the first CP-SAT call runs: with the small shop that call has the
    # whole minute, so only the stop request can end it early.
    problem = small_shop if which == "whole model" else lns_shop
    clock = engine_clock(60, max_calls=10)
    stop = threading.Event()
    clock.on_call = lambda call: stop.set()
    result = solve_checked(problem, time_limit=60, stop=stop)
    assert result.operations
    # One call in all: the whole model's, or one per LNS thread (each of the two may have
    # been building its model when the stop came); no thread starts another.
    assert 1 <= len(clock.calls) <= (1 if which == "whole model" else 2)
    if which == "whole model":
        assert clock.calls[0].max_time_in_seconds > 50
        assert clock.calls[0].wall_time < 30


@pytest.mark.parametrize("which", ["whole model", "neighbourhoods"])
@pytest.mark.parametrize("workers", [1, 2])
def test_time_limit_is_respected(lns_shop, small_shop, engine_clock, which, workers):
    # Measured on the engine's own clock (see EngineClock), not the wall clock: every CP-SAT
    # call is given at most the time left, with the worker count asked for, and the engine
    # stops by itself at its deadline.
    problem = small_shop if which == "whole model" else lns_shop
    clock = engine_clock(1.5)
    result = solve_checked(problem, time_limit=1.5, workers=workers)
    assert clock.calls
    for call in clock.calls:
        assert call.num_workers <= workers
        assert 0 < call.max_time_in_seconds <= 1.5
        if workers == 1:  # one thread: the call begins when its limit was worked out
            assert call.at + call.max_time_in_seconds <= clock.deadline + 0.01 + 1e-9
    assert result.seconds <= 1.5 + 10 * EngineClock.STEP


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


def test_brandimarte_mk14_is_proven_optimal_from_the_tabu_search_plan(fjsp_data):
    # The dispatch plan is 719; the tabu search (in its own process) finds 694 within tenths
    # of a second, and the whole model, started again from that plan, proves it optimal.
    problem = read_fjsplib(fjsp_data / "brandimarte" / "mk14.fjs")
    phases = []
    result = solve_checked(problem, time_limit=10, progress=lambda p: phases.append(p.phase))
    assert result.status == SolveStatus.OPTIMAL
    assert result.levels == (694,)
    assert Phase.LOCAL_SEARCH in phases


def test_brandimarte_mk14_is_proven_optimal_on_a_busy_machine(fjsp_data):
    # With every core taken by other work, the tabu search's process starts slowly and its
    # 694 comes after the whole model's share of the time (1.5 s) has passed: the phase's
    # time counts from the search's first plan, so the proof still comes (it did not before).
    problem = read_fjsplib(fjsp_data / "brandimarte" / "mk14.fjs")
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(os.cpu_count() or 2)]
    try:
        result = solve_checked(problem, time_limit=10)
    finally:
        for process in busy:
            process.kill()
            process.wait()
    assert result.status == SolveStatus.OPTIMAL
    assert result.levels == (694,)
