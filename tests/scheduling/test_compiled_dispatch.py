"""The compiled dispatch places every operation exactly where ``heuristic.dispatch`` does, and
the priority search it serves starts afresh once converged, never reporting a worse plan."""

from __future__ import annotations

import bisect
import os
import pickle
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mes.scheduling.engine import compiled_dispatch
from mes.scheduling.engine.child import compile_kernels_in_background
from mes.scheduling.engine.compiled_dispatch import CompiledDispatcher
from mes.scheduling.engine.generator import breakdown_scenario, busiest_machine, shop_problem
from mes.scheduling.engine.heuristic import Rule, default_rules, dispatch
from mes.scheduling.engine.instance import Instance
from mes.scheduling.engine.plan import score
from mes.scheduling.engine.priority_search import PrioritySearch
from mes.scheduling.engine.problem import SchedulingError
from mes.scheduling.engine.sequence_search import scored_dispatch
from mes.scheduling.engine.solver import plan_result
from tests.scheduling.conftest import assert_feasible
from tests.scheduling.test_properties import SETTINGS, problems

ROOT = Path(__file__).resolve().parents[2]


def fields(plan):
    return None if plan is None else (plan.machine, plan.start, plan.end, plan.wstart, plan.setup)


def sampled_rules(rng: random.Random, count: int) -> list[Rule]:
    return [Rule(rng.choice(["atcs", "atcs", "mwkr"]), rng.uniform(1.0, 30.0), rng.uniform(0.05, 2.0))
            for _ in range(count)]


def test_the_kernel_is_compiled_here():
    # Numba is a required dependency: the search must not silently run the Python dispatch.
    assert compiled_dispatch.COMPILED


@settings(max_examples=300, **SETTINGS)
@given(problems(max_ops=5), st.randoms(use_true_random=False))
def test_same_plans_as_the_python_dispatch_on_random_problems(problem, rng):
    # Calendars with breakdowns, setups, finished and started work, pins, a frozen horizon,
    # start-to-start and end-to-end lags, resumable and zero-length operations.
    try:
        instance = Instance(problem)
    except SchedulingError:
        return
    compiled = CompiledDispatcher(instance)
    for rule in default_rules(instance) + sampled_rules(rng, 3):
        boost = [rng.uniform(0.5, 2.0) for _ in instance.job_keys] if rng.random() < 0.5 else None
        expected = dispatch(instance, rule, boost)
        got = compiled.dispatch(rule, boost)
        assert fields(got) == fields(expected), rule
        if got is not None:
            assert_feasible(problem, plan_result(instance, got, rule.kind))


def test_same_plans_on_generated_shops_and_after_a_breakdown():
    rng = random.Random(7)
    late = shop_problem(orders=80, seed=3, load=2.0)
    instance = Instance(late)
    plan = dispatch(instance)
    result = plan_result(instance, plan, "heuristic")
    broken = breakdown_scenario(late, result, busiest_machine(result, 2000), start=600)
    for problem in (late, shop_problem(orders=40, seed=5), broken):
        instance = Instance(problem)
        compiled = CompiledDispatcher(instance)
        for rule in default_rules(instance) + sampled_rules(rng, 4):
            boost = [rng.uniform(1.0, 1.6) for _ in instance.job_keys]
            assert fields(compiled.dispatch(rule, boost)) == fields(dispatch(instance, rule, boost)), rule
            assert fields(compiled.dispatch(rule)) == fields(dispatch(instance, rule)), rule


def test_the_halving_search_finds_what_bisect_right_finds():
    rng = random.Random(11)
    for _ in range(2000):
        values = sorted(rng.randint(-5, 40) for _ in range(rng.randint(0, 30)))
        lo = rng.randint(0, len(values))
        hi = rng.randint(lo, len(values))
        x = rng.randint(-8, 45)
        array = np.array(values or [0], dtype=np.int64)
        assert compiled_dispatch._bisect_right(array, lo, hi, x) == bisect.bisect_right(values, x, lo, hi)


def test_the_arrays_of_a_timing_score_as_its_plan():
    # The priority search scores the kernel's arrays and makes a plan only of a better one.
    instance = Instance(shop_problem(orders=60, seed=2, load=3.0))
    from_arrays = scored_dispatch(instance)
    rng = random.Random(5)
    for rule in default_rules(instance) + sampled_rules(rng, 6) + [Rule("atcs", 4.0, 0.3, noise=0.2)]:
        boost = [rng.uniform(1.0, 1.6) for _ in instance.job_keys]
        value, make = from_arrays(rule, boost)
        expected = dispatch(instance, rule, boost)
        assert fields(make()) == fields(expected), rule
        assert value == score(instance, expected), rule


def test_the_search_takes_the_same_steps_on_scored_arrays_as_on_plans():
    instance = Instance(shop_problem(orders=60, seed=2, load=3.0))
    compiled = CompiledDispatcher(instance)
    runs = []
    for scored in (None, scored_dispatch(instance)):
        found = []
        search = PrioritySearch(instance, [Rule("atcs", 3.0, 0.2)], time.monotonic() + 600, seed=4,
                                on_plan=found.append, patience=5, dispatcher=compiled.dispatch, restarts=True,
                                scored=scored)
        search.should_stop = lambda s=search: s.iterations >= 150
        search.run()
        runs.append([fields(plan) for plan in found])
    assert len(runs[0]) > 3 and runs[0] == runs[1]


def test_without_the_compiler_it_is_the_python_dispatch(tmp_path):
    problem = shop_problem(orders=20, seed=4, load=2.0)
    script = (
        "import pickle, sys\n"
        "from mes.scheduling.engine import compiled_dispatch\n"
        "from mes.scheduling.engine.heuristic import Rule\n"
        "from mes.scheduling.engine.instance import Instance\n"
        "problem = pickle.load(sys.stdin.buffer)\n"
        "plan = compiled_dispatch.CompiledDispatcher(Instance(problem)).dispatch(Rule('atcs', 4.0, 0.3))\n"
        "pickle.dump((compiled_dispatch.COMPILED, plan.machine, plan.start), sys.stdout.buffer)\n"
    )
    environment = {**os.environ, "MES_NO_JIT": "1", "PYTHONPATH": str(ROOT)}
    output = subprocess.run([sys.executable, "-c", script], input=pickle.dumps(problem), capture_output=True,
                            env=environment, check=True).stdout
    was_compiled, machine, start = pickle.loads(output)
    expected = dispatch(Instance(problem), Rule("atcs", 4.0, 0.3))
    assert not was_compiled
    assert (machine, start) == (expected.machine, expected.start)


def test_the_search_starts_afresh_once_converged_and_reports_only_better_plans():
    problem = shop_problem(orders=60, seed=2, load=3.0)
    instance = Instance(problem)
    compiled = CompiledDispatcher(instance)
    runs = {}
    for restarts in (False, True):
        found = []
        search = PrioritySearch(instance, [Rule("atcs", 3.0, 0.2)], time.monotonic() + 600, seed=3,
                                on_plan=found.append, patience=5, dispatcher=compiled.dispatch, restarts=restarts)
        search.should_stop = lambda s=search: s.iterations >= 200
        search.run()
        runs[restarts] = (search.iterations, found)
    ended, _ = runs[False]
    iterations, found = runs[True]
    assert ended < 200, "without restarts the search ends once converged"
    assert iterations == 200, "with restarts it goes on until stopped"
    values = [score(instance, plan) for plan in found]
    assert values == sorted(values, reverse=True) and len(set(values)) == len(values)
    assert values[-1] <= min(score(instance, plan) for plan in runs[False][1])


def test_the_server_can_compile_the_kernels_ahead_in_the_background():
    # ``mes run`` and ``mes demo`` start this, so that the first solve finds the kernels cached.
    process = compile_kernels_in_background()
    assert process is not None
    assert process.wait(timeout=600) == 0
