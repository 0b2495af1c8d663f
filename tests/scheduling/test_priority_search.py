"""The priority search of large due-date shops: better plans than the dispatch rules, in a
process of its own when it may start one, stopped at once."""

from __future__ import annotations

import threading
import time

import pytest

from mes.scheduling.engine import priority_search, solver
from mes.scheduling.engine.checker import check
from mes.scheduling.engine.generator import shop_problem
from mes.scheduling.engine.heuristic import default_rules, dispatch
from mes.scheduling.engine.instance import Instance
from mes.scheduling.engine.plan import score
from mes.scheduling.engine.priority_search import PrioritySearch, run_in_process
from mes.scheduling.engine.problem import Phase, Term
from mes.scheduling.engine.solver import plan_result, solve


@pytest.fixture(scope="module")
def late_shop():
    """Loaded beyond what can be on time: the dispatch rules leave weighted tardiness."""
    return shop_problem(orders=60, seed=2, load=3.0)


@pytest.fixture(scope="module")
def best_rule(late_shop):
    instance = Instance(late_shop)
    ranked = sorted(((score(instance, dispatch(instance, rule)), k, rule)
                     for k, rule in enumerate(default_rules(instance))), key=lambda t: t[:2])
    rules = [rule for _, _, rule in ranked]
    return instance, rules, dispatch(instance, rules[0])


def test_the_search_beats_the_best_dispatch_rule_and_every_plan_is_feasible(late_shop, best_rule):
    instance, rules, start = best_rule
    first = score(instance, start)
    assert first[0] > 0
    found = []
    search = PrioritySearch(instance, rules, time.monotonic() + 600, seed=0, on_plan=found.append, start=start)
    search.should_stop = lambda: search.iterations >= 40
    search.run()
    assert search.iterations == 40
    assert found, "no plan better than the best rule in 40 dispatches"
    values = [score(instance, plan) for plan in found]
    assert values == sorted(values, reverse=True) and values[0] < first
    assert search.best_score == values[-1]
    for plan in (found[0], found[-1]):
        assert check(late_shop, plan_result(instance, plan, Phase.PRIORITY_SEARCH)) == []


def test_the_search_is_reproducible_for_a_seed(best_rule):
    instance, rules, start = best_rule
    results = []
    for _ in range(2):
        search = PrioritySearch(instance, rules, time.monotonic() + 600, seed=5, start=start)
        search.should_stop = lambda s=search: s.iterations >= 15
        search.run()
        results.append((search.best_score, search.best_rule))
    assert results[0] == results[1]


def test_in_a_process_it_reports_feasible_plans_and_stops_at_once(late_shop, best_rule):
    instance, rules, start = best_rule
    stop = threading.Event()
    found = []

    def on_plan(plan):
        found.append(plan)
        if len(found) >= 2:
            stop.set()

    began = time.monotonic()
    run_in_process(late_shop, rules, began + 120, 0, on_plan, stop.is_set, start=start)
    ended = time.monotonic()
    assert len(found) >= 2, "the child process sent fewer than two better plans in 120 s"
    values = [score(instance, plan) for plan in found]
    assert values == sorted(values, reverse=True) and values[0] < score(instance, start)
    assert check(late_shop, plan_result(instance, found[-1], Phase.PRIORITY_SEARCH)) == []
    # Stopped as soon as the second plan came: well before the two minutes it was given.
    assert ended - began < 60


def test_a_failing_search_in_a_process_is_not_silent(late_shop):
    bad = Instance(shop_problem(orders=5, seed=1)).problem  # another problem: its rules do not fit
    with pytest.raises(RuntimeError, match="priority search failed"):
        run_in_process(bad, ["not a rule"], time.monotonic() + 30, 0, lambda plan: None, lambda: False)


@pytest.mark.parametrize("in_a_process", [True, False])
def test_solve_on_a_large_late_shop_uses_the_search_and_keeps_every_guarantee(monkeypatch, in_a_process):
    # Above the whole-model limit, with due dates: priority search beside LNS, in a child
    # process, or in a thread where no process can be started.
    if not in_a_process:
        def refuse(*args, **kwargs):
            raise OSError("no processes here")

        monkeypatch.setattr(priority_search, "run_in_process", refuse)
    problem = shop_problem(orders=60, seed=2, load=3.0)
    instance = Instance(problem)
    assert sum(1 for f in instance.fixed if f is None) > solver.MONOLITHIC_LIMIT_RICH
    heuristic = min(score(instance, dispatch(instance, rule)) for rule in default_rules(instance))
    phases = []
    result = solve(problem, time_limit=6, workers=2, progress=lambda p: phases.append(p.phase))
    assert check(problem, result) == []
    assert result.levels < heuristic
    assert result.objective[Term.WEIGHTED_TARDINESS] <= heuristic[0]
    assert Phase.PRIORITY_SEARCH in phases


def test_every_worker_runs_a_priority_search_of_its_own_and_gets_the_others_plans(monkeypatch):
    # A large late shop with two workers: two searches in processes, with distinct seeds; the
    # better plans each finds are offered to the other (never back to itself).
    started, found, offers = [], {}, {}
    real = priority_search.run_in_process

    def counted(problem, rules, deadline, seed, on_plan, *args, on_start=None, **kwargs):
        started.append(seed)
        found[seed], offers[seed] = [], []

        def on_plan_counted(plan):
            found[seed].append(plan)
            on_plan(plan)

        def on_start_counted(child):
            offer = child.offer
            child.offer = lambda plan: (offers[seed].append(plan), offer(plan))
            on_start(child)

        return real(problem, rules, deadline, seed, on_plan_counted, *args, on_start=on_start_counted, **kwargs)

    monkeypatch.setattr(priority_search, "run_in_process", counted)
    problem = shop_problem(orders=60, seed=2, load=3.0)
    result = solve(problem, time_limit=4, workers=2)
    assert check(problem, result) == []
    assert len(started) == 2 and len(set(started)) == 2
    first, second = started
    assert offers[first] or offers[second], "the searches' better plans went to the other search"
    for seed, other in ((first, second), (second, first)):
        assert all(any(plan is mine for mine in found[other]) for plan in offers[seed])


def test_a_step_of_the_climb_raises_the_priority_of_a_few_late_jobs_only(best_rule):
    instance, rules, start = best_rule
    search = PrioritySearch(instance, rules, time.monotonic() + 600, seed=3, start=start)
    search.episode = priority_search.SAMPLED_RULES  # past the sampled rules: climbing
    search.best_rule = rules[0]
    late = set(search._late_jobs(start))
    cap = max(1, int(len(late) * priority_search.STEP))
    assert cap < len(late)
    raised_counts = []
    for _ in range(200):
        rule, boost = search._candidate()
        if boost is None:  # a nudge of the rule's parameters
            assert rule.kind == "atcs" and rule != rules[0]
            continue
        assert rule == rules[0]
        raised = {j for j, b in enumerate(boost) if b != 1.0}
        assert raised <= late and all(boost[j] > 1.0 for j in raised)
        raised_counts.append(len(raised))
    # Both kinds of step happen, and a step raises between one job and the cap.
    assert 50 < len(raised_counts) < 150
    assert min(raised_counts) == 1 and max(raised_counts) <= cap
