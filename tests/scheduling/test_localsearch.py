"""The critical-path tabu search of plain flexible job shops: moves keep plans feasible."""

from __future__ import annotations

import os
import pickle
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from mes.scheduling.engine import critical_path, localsearch
from mes.scheduling.engine.fjsplib import read_fjsplib
from mes.scheduling.engine.generator import shop_problem
from mes.scheduling.engine.heuristic import default_rules, dispatch
from mes.scheduling.engine.instance import Instance
from mes.scheduling.engine.plan import score
from mes.scheduling.engine.problem import Phase
from mes.scheduling.engine.solver import plan_result
from tests.scheduling.conftest import assert_feasible, solve_checked


def flexible_job_shop(tmp_path, jobs: int = 12, machines: int = 6, ops: int = 7, seed: int = 5):
    """A random FJSPLIB file with two to four eligible machines per operation."""
    rng = random.Random(seed)
    lines = [f"{jobs} {machines} 3"]
    for _ in range(jobs):
        fields = [ops]
        for _ in range(ops):
            eligible = rng.sample(range(1, machines + 1), rng.randint(2, 4))
            fields.append(len(eligible))
            for m in eligible:
                fields += [m, rng.randint(1, 20)]
        lines.append(" ".join(map(str, fields)))
    path = tmp_path / "random.fjs"
    path.write_text("\n".join(lines) + "\n")
    return read_fjsplib(path)


def test_applies_to_plain_flexible_job_shops_only(tmp_path):
    assert localsearch.applies(Instance(flexible_job_shop(tmp_path)))
    assert not localsearch.applies(Instance(shop_problem(orders=5, seed=1)))


def test_every_plan_found_is_feasible_and_no_worse(tmp_path):
    problem = flexible_job_shop(tmp_path)
    instance = Instance(problem)
    start = min((dispatch(instance, rule) for rule in default_rules(instance)), key=lambda p: score(instance, p))
    search = critical_path.CriticalPathSearch(instance, start, seed=1)
    found = []

    def improved(plan):
        found.append(plan)
        assert_feasible(problem, plan_result(instance, plan, Phase.LOCAL_SEARCH))

    search.run(float("inf"), lambda: search.iterations >= 1500, improved)
    best = search.plan()
    assert_feasible(problem, plan_result(instance, best, Phase.LOCAL_SEARCH))
    assert max(best.end) == search.best_makespan <= max(start.end)
    assert [max(p.end) for p in found] == sorted((max(p.end) for p in found), reverse=True)


def test_the_compiled_kernel_and_plain_python_take_the_same_steps(tmp_path):
    # Same seed and steps: the same plan, whether Numba compiled the kernel or not.
    problem = flexible_job_shop(tmp_path, seed=11)
    instance = Instance(problem)
    start = max((dispatch(instance, rule) for rule in default_rules(instance)), key=lambda p: score(instance, p))
    script = (
        "import pickle, sys\n"
        "from mes.scheduling.engine import critical_path\n"
        "instance, start = pickle.load(sys.stdin.buffer)\n"
        "search = critical_path.CriticalPathSearch(instance, start, seed=3)\n"
        "search.run(float('inf'), lambda: search.iterations >= 512, lambda plan: None)\n"
        "plan = search.plan()\n"
        "pickle.dump((critical_path.COMPILED, search.iterations, plan.machine, plan.start), sys.stdout.buffer)\n"
    )
    runs = {}
    for plain in (False, True):
        environment = {key: value for key, value in os.environ.items() if key != "MES_NO_JIT"}
        environment["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
        if plain:
            environment["MES_NO_JIT"] = "1"
        done = subprocess.run([sys.executable, "-c", script], input=pickle.dumps((instance, start)),
                              capture_output=True, env=environment, check=True)
        compiled, iterations, machine, starts = pickle.loads(done.stdout)
        assert compiled is not plain and iterations == 512
        runs[plain] = (machine, starts)
    assert runs[False] == runs[True]
    assert max(runs[True][1]) < max(start.start)


def test_adopts_a_better_plan_from_elsewhere(tmp_path):
    problem = flexible_job_shop(tmp_path, seed=7)
    instance = Instance(problem)
    plans = [dispatch(instance, rule) for rule in default_rules(instance)]
    worst = max(plans, key=lambda p: score(instance, p))
    search = critical_path.CriticalPathSearch(instance, worst, seed=0)
    better = solve_checked(problem, time_limit=1, workers=1)
    plan = instance_plan(instance, better)
    search.adopt(plan, max(plan.end))
    search.run(float("inf"), lambda: search.iterations >= 20, lambda p: None)
    assert search.best_makespan <= better.levels[0]


def instance_plan(instance, result):
    from mes.scheduling.engine.plan import decode

    by_key = {row.operation: row for row in result.operations}
    machine = [instance.machine_index[by_key[key].machine] for key in instance.op_keys]
    return decode(instance, machine, [by_key[key].start for key in instance.op_keys])


def test_in_a_child_process_it_reports_plans_and_takes_the_plans_offered(tmp_path):
    # Large enough that the search needs far longer than a moment to reach the offered plan.
    problem = flexible_job_shop(tmp_path, jobs=30, machines=10, ops=10, seed=3)
    instance = Instance(problem)
    worst = max((dispatch(instance, rule) for rule in default_rules(instance)), key=lambda p: score(instance, p))
    better = instance_plan(instance, solve_checked(problem, time_limit=4, workers=2))
    target = max(better.end)
    # The child may stop early only at the lower bound, here the offered plan's makespan.
    child = localsearch.child_search(problem, worst, 0, target)
    found, errors = [], []

    def run():
        try:
            child.run(time.monotonic() + 120, found.append, lambda: False)
        except BaseException as error:
            errors.append(error)

    began = time.monotonic()
    thread = threading.Thread(target=run)
    thread.start()
    while child.child is None and thread.is_alive():
        time.sleep(0.01)
    child.offer(better)
    thread.join(60)
    assert not thread.is_alive() and not errors
    # It ended at once: it took the offered plan, which none of its own reached.
    assert time.monotonic() - began < 30
    assert all(max(plan.end) > target for plan in found)
    assert [max(p.end) for p in found] == sorted((max(p.end) for p in found), reverse=True)
    for plan in found:
        assert_feasible(problem, plan_result(instance, plan, Phase.LOCAL_SEARCH))


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("in_a_process", [True, False])
def test_solve_uses_it_beside_cp_sat_and_stops_on_request(tmp_path, monkeypatch, workers, in_a_process):
    if not in_a_process:
        class NoProcess(localsearch.ChildSearch):
            def run(self, *args, **kwargs):
                raise OSError("no processes here")

        monkeypatch.setattr(localsearch, "ChildSearch", NoProcess)
    problem = flexible_job_shop(tmp_path, jobs=15, ops=8)
    phases = []
    result = solve_checked(problem, time_limit=2, workers=workers, progress=lambda p: phases.append(p.phase))
    assert result.phase in (Phase.HEURISTIC, Phase.CP_SAT, Phase.LNS, Phase.LOCAL_SEARCH)
    if workers > 1:
        assert Phase.LOCAL_SEARCH in phases
    stop = threading.Event()
    timer = threading.Timer(0.5, stop.set)
    timer.start()
    stopped = solve_checked(problem, time_limit=60, workers=workers, stop=stop)
    timer.cancel()
    assert stopped.seconds < 5


def test_after_the_whole_model_every_worker_runs_a_tabu_search(tmp_path, monkeypatch):
    # One tabu search from the start, then one more per worker the whole model used.
    started = []
    real = localsearch.child_search

    def counted(problem, plan, seed, lower_bound):
        started.append(seed)
        return real(problem, plan, seed, lower_bound)

    monkeypatch.setattr(localsearch, "child_search", counted)
    problem = flexible_job_shop(tmp_path, jobs=20, ops=8, seed=13)
    result = solve_checked(problem, time_limit=3, workers=3)
    assert len(started) == 3 and len(set(started)) == 3
    assert result.levels[0] <= min(max(plan.end) for plan in (
        dispatch(Instance(problem), rule) for rule in default_rules(Instance(problem))))
