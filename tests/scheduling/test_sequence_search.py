"""The sequence search's compiled timing gives exactly ``plan.decode``'s plans and its scorer
exactly ``plan.score``; it reports only ever better plans, finds them on late shops, and in
the child process polishes the best plan of all the search processes."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mes.scheduling.engine.generator import breakdown_scenario, busiest_machine, shop_problem
from mes.scheduling.engine.heuristic import Rule, dispatch
from mes.scheduling.engine.instance import Instance
from mes.scheduling.engine.compiled_dispatch import NONE, CompiledDispatcher
from mes.scheduling.engine.plan import decode, score
from mes.scheduling.engine.priority_search import PrioritySearch
from mes.scheduling.engine.problem import SchedulingError
from mes.scheduling.engine import sequence_search
from mes.scheduling.engine.sequence_search import REACH, SHARE, Retimer, Scorer, SequenceSearch, _copy, _retime, search_in_child
from mes.scheduling.engine.solver import plan_result
from tests.scheduling.conftest import assert_feasible
from tests.scheduling.test_compiled_dispatch import fields
from tests.scheduling.test_properties import SETTINGS, problems


def shuffled(instance: Instance, rng: random.Random, plan=None) -> tuple[list[int], list[float]]:
    """Machines and an order: the plan's, perturbed, or drawn at random."""
    machine, order = [], []
    for i in range(instance.n):
        if plan is not None and rng.random() < 0.8:
            machine.append(plan.machine[i])
            order.append(plan.start[i] + rng.uniform(-300, 300))
        else:
            machine.append(rng.choice(instance.candidates[i])[0])
            order.append(rng.uniform(0, 5000))
    return machine, order


@settings(max_examples=300, **SETTINGS)
@given(problems(max_ops=5), st.randoms(use_true_random=False))
def test_same_plans_and_scores_as_the_python_decoder_on_random_problems(problem, rng):
    # Calendars with breakdowns, setups, finished and started work, pins, a frozen horizon,
    # start-to-start and end-to-end lags, resumable and zero-length operations.
    try:
        instance = Instance(problem)
    except SchedulingError:
        return
    retimer, scorer = Retimer(instance), Scorer(instance)
    start = dispatch(instance)
    for attempt in range(4):
        machine, order = shuffled(instance, rng, start if attempt % 2 else None)
        expected = decode(instance, machine, order)
        got = retimer.decode(machine, order)
        assert fields(got) == fields(expected)
        if got is not None:
            arrays = retimer.arrays(np.array(machine), np.array(order))
            assert scorer.score(arrays[0], arrays[1], arrays[2], arrays[4]) == score(instance, got)
            assert_feasible(problem, plan_result(instance, got, "sequence"))


def test_same_plans_on_generated_shops_and_after_a_breakdown():
    rng = random.Random(11)
    late = shop_problem(orders=80, seed=3, load=2.0)
    instance = Instance(late)
    result = plan_result(instance, dispatch(instance), "heuristic")
    broken = breakdown_scenario(late, result, busiest_machine(result, 2000), start=600)
    for problem in (late, shop_problem(orders=40, seed=5), broken):
        instance = Instance(problem)
        retimer, scorer = Retimer(instance), Scorer(instance)
        plan = dispatch(instance, Rule("atcs", 5.0, 0.5))
        assert fields(retimer.decode(plan.machine, plan.start)) == fields(decode(instance, plan.machine, plan.start))
        for _ in range(5):
            machine, order = shuffled(instance, rng, plan)
            got = retimer.decode(machine, order)
            assert fields(got) == fields(decode(instance, machine, order))
            if got is not None:
                arrays = retimer.arrays(np.array(machine), np.array(order))
                assert scorer.score(arrays[0], arrays[1], arrays[2], arrays[4]) == score(instance, got)


def sequences_perm(timing, n: int) -> np.ndarray:
    """An order of all operations in which each machine's operations follow its sequence."""
    perm = []
    for m in range(len(timing.first)):
        i = timing.first[m]
        while i >= 0:
            perm.append(i)
            i = timing.next_on[i]
    listed = set(perm)
    return np.array(perm + [i for i in range(n) if i not in listed], np.int64)


def check_moves(instance: Instance, plan, rng: random.Random, moves: int) -> None:
    """Random moves timed incrementally give the times a full timing of the same sequences
    gives (and fail exactly when it fails)."""
    retimer = Retimer(instance)
    if not retimer.compiled or plan is None:
        return
    now, trial, fresh = retimer.timing(), retimer.timing(), retimer.timing()
    assert retimer.retime(np.array(plan.machine), np.array(plan.start, np.float64), now)
    movable = [i for i in range(instance.n) if instance.fixed[i] is None and now.wstart[i] != NONE
               and any(w > 0 for _, w in instance.candidates[i])]
    if not movable:
        return
    planned = ~retimer.is_fixed
    for _ in range(moves):
        o = rng.choice(movable)
        m = rng.choice([m for m, w in instance.candidates[o] if w > 0])
        on = [i for i in range(instance.n) if now.machine[i] == m and i != o and (now.prev_on[i] >= 0 or now.first[m] == i)]
        after = rng.choice(on + [-1])
        _copy(now, trial)
        moved = retimer.move(trial, o, m, after)
        assert trial.machine[o] == m and trial.prev_on[o] == after
        fresh.machine[:] = trial.machine
        timed = _retime(retimer.static, retimer.fx, retimer.queue, sequences_perm(trial, instance.n), fresh)
        assert moved == timed
        if moved:
            for a, b in zip(trial, fresh):
                assert (a == b).all()
            assert (trial.ready[planned] == fresh.ready[planned]).all()
            now, trial = trial, now


@settings(max_examples=300, **SETTINGS)
@given(problems(max_ops=6), st.randoms(use_true_random=False))
def test_a_move_retimes_only_what_it_changes_to_the_same_plan_on_random_problems(problem, rng):
    try:
        instance = Instance(problem)
    except SchedulingError:
        return
    check_moves(instance, dispatch(instance), rng, 6)


def test_a_move_retimes_only_what_it_changes_to_the_same_plan_on_generated_shops():
    rng = random.Random(5)
    late = shop_problem(orders=60, seed=3, load=2.0)
    instance = Instance(late)
    result = plan_result(instance, dispatch(instance), "heuristic")
    broken = breakdown_scenario(late, result, busiest_machine(result, 2000), start=600)
    for problem in (late, broken):
        instance = Instance(problem)
        check_moves(instance, dispatch(instance, Rule("atcs", 5.0, 0.5)), rng, 150)


def test_the_moves_report_only_better_plans_and_improve_a_late_shop():
    problem = shop_problem(orders=80, seed=3, load=2.0)
    instance = Instance(problem)
    start = dispatch(instance, Rule("atcs", 5.0, 0.5))
    found = []
    search = SequenceSearch(instance, Retimer(instance), seed=2)
    best, value = search.improve(start, lambda: False, tries=400, on_plan=found.append)
    values = [score(instance, plan) for plan in found]
    assert values == sorted(values, reverse=True) and len(set(values)) == len(values)
    assert values and values[0] < score(instance, start), "a late shop has moves that help"
    assert value == score(instance, best) == values[-1]
    for plan in found[-1:] + found[:1]:
        assert_feasible(problem, plan_result(instance, plan, "sequence"))


def test_the_same_seed_gives_the_same_moves_and_another_seed_other_moves():
    # The moves' random draws are compiled (Numba's generator, seeded by each search).
    problem = shop_problem(orders=80, seed=3, load=2.0)
    instance = Instance(problem)
    start = dispatch(instance, Rule("atcs", 5.0, 0.5))
    retimer = Retimer(instance)
    runs = [SequenceSearch(instance, retimer, seed=seed).improve(start, lambda: False, tries=600)
            for seed in (7, 7, 8)]
    (first, value), (again, value_again), (other, _) = runs
    assert value < score(instance, start)
    assert (first.machine, first.start, value) == (again.machine, again.start, value_again)
    assert (other.machine, other.start) != (first.machine, first.start)


def test_a_push_takes_what_a_waiting_operation_waits_behind_later_and_helps_a_late_shop(monkeypatch):
    problem = shop_problem(orders=80, seed=3, load=2.0)
    instance = Instance(problem)
    start = dispatch(instance, Rule("atcs", 5.0, 0.5))
    retimer = Retimer(instance)
    search = SequenceSearch(instance, retimer, seed=4)
    now = retimer.timing()
    assert retimer.retime(np.array(start.machine, np.int64), np.array(start.start, np.float64), now)
    waiting = [i for i in range(instance.n) if now.start[i] > now.ready[i] and now.prev_on[i] >= 0]
    assert waiting, "a late shop has operations waiting behind others"
    elsewhere = on_machine = 0
    for o in waiting[:60]:
        b, machine, after = search._push(now, o)
        assert b == now.prev_on[o]
        if machine != now.machine[b]:
            elsewhere += 1
            assert machine in [m for m, _ in instance.candidates[b]]
            assert after < 0 or now.start[after] < now.start[b]
            continue
        on_machine += 1
        later = [o]  # o and up to REACH - 1 operations after it
        while len(later) < REACH and now.next_on[later[-1]] >= 0:
            later.append(now.next_on[later[-1]])
        assert after in later
        trial = retimer.timing()
        _copy(now, trial)
        if retimer.move(trial, b, machine, after):
            assert trial.next_on[after] == b and trial.prev_on[o] != b
    assert elsewhere and on_machine
    # Pushes alone improve the late shop, every plan reported better than the one before.
    monkeypatch.setattr(sequence_search, "PUSH", 1.0)
    found = []
    best, value = SequenceSearch(instance, retimer, seed=2).improve(start, lambda: False, tries=400,
                                                                    on_plan=found.append)
    values = [score(instance, plan) for plan in found]
    assert values and values == sorted(values, reverse=True) and values[0] < score(instance, start)
    assert_feasible(problem, plan_result(instance, best, "sequence"))


def sequence_starts(monkeypatch, sent: list) -> list:
    """Each start of a sequence search, as (time, plans sent so far, the plan it starts from):
    the exact boundary between the child's two phases, where a clock reading is not (a step
    of the priority search begun just before the switch may report just after it)."""
    starts = []
    improve = SequenceSearch.improve

    def noted(search, plan, *args, **kwargs):
        starts.append((time.monotonic(), len(sent), plan))
        return improve(search, plan, *args, **kwargs)

    monkeypatch.setattr(SequenceSearch, "improve", noted)
    return starts


def test_the_child_search_ends_with_the_sequence_search_and_sends_only_better_plans(monkeypatch):
    problem = shop_problem(orders=60, seed=2, load=3.0)
    instance = Instance(problem)
    start = dispatch(instance, Rule("atcs", 5.0, 0.5))
    sent = []
    began = time.monotonic()
    polished = sequence_starts(monkeypatch, sent)
    deadline = began + 5.0
    search_in_child((problem, [Rule("atcs", 5.0, 0.5)], 0, start, 50), deadline,
                    lambda plan: sent.append((time.monotonic(), plan)), lambda take: None)
    values = [score(instance, plan) for _, plan in sent]
    assert values == sorted(values, reverse=True) and len(set(values)) == len(values)
    assert values[0] < score(instance, start)
    assert len(polished) == 1 and polished[0][0] >= began + 5.0 * (1 - SHARE), "the last share of the time is the sequence search's"
    assert len(sent) > polished[0][1], "the sequence search improved the priority search's best plan"
    assert time.monotonic() < deadline + 1.0
    assert_feasible(problem, plan_result(instance, sent[-1][1], "sequence"))


def test_the_child_search_polishes_a_better_plan_offered_by_another_search(monkeypatch):
    # Another search's plan, better than anything this child's priority search reaches in
    # its 1.4 s from a poor start: the sequence search goes on from it, not from its own.
    problem = shop_problem(orders=60, seed=2, load=3.0)
    instance = Instance(problem)
    dispatcher = CompiledDispatcher(instance)
    elsewhere = []
    PrioritySearch(instance, [Rule("atcs", 5.0, 0.5)], time.monotonic() + 8.0, seed=5, on_plan=elsewhere.append,
                   patience=50, dispatcher=dispatcher.dispatch, restarts=True).run()
    offered = elsewhere[-1]
    start = dispatch(instance, Rule("edd"))
    sent = []
    polished = sequence_starts(monkeypatch, sent)
    search_in_child((problem, [Rule("edd")], 1, start, 50), time.monotonic() + 2.0, sent.append, lambda take: take(offered))
    assert len(polished) == 1 and polished[0][2] is offered, "the sequence search goes on from the offered plan"
    own, better = sent[:polished[0][1]], sent[polished[0][1]:]
    assert own and min(score(instance, plan) for plan in own) > score(instance, offered), \
        "the child's own search stays behind the offered plan"
    assert better, "the sequence search improved the offered plan"
    assert max(score(instance, plan) for plan in better) < score(instance, offered)
    assert_feasible(problem, plan_result(instance, sent[-1], "sequence"))


WARMED = """
import json, time
from numba.core.registry import CPUDispatcher
from mes.scheduling.engine import compiled_dispatch, sequence_search
from mes.scheduling.engine.compiled_dispatch import CompiledDispatcher
from mes.scheduling.engine.generator import shop_problem
from mes.scheduling.engine.heuristic import Rule
from mes.scheduling.engine.instance import Instance
from mes.scheduling.engine.priority_search import PrioritySearch

def signatures():
    return {f"{module.__name__}.{name}": len(kernel.signatures) for module in (compiled_dispatch, sequence_search)
            for name, kernel in vars(module).items() if isinstance(kernel, CPUDispatcher)}

sequence_search.warm_up()
warm = signatures()
instance = Instance(shop_problem(40, 2, load=2.0))
dispatcher = CompiledDispatcher(instance)
search = PrioritySearch(instance, [Rule("atcs")], time.monotonic() + 1.0, seed=1, patience=5,
                        dispatcher=dispatcher.dispatch, restarts=True,
                        scored=sequence_search.scored_dispatch(instance, dispatcher))
search.run()
moves = sequence_search.SequenceSearch(instance, sequence_search.Retimer(instance, dispatcher), seed=1)
moves.improve(search.found[2], lambda: False, tries=300)
print(json.dumps({"warm": warm, "after": signatures(), "tries": moves.tries}))
"""


def test_the_warm_up_compiles_every_kernel_a_search_on_a_real_shop_runs():
    # Else the first search after an install compiles them itself, in each search process:
    # seconds of the planner's 30 s.
    result = subprocess.run([sys.executable, "-c", WARMED], capture_output=True, text=True, check=True)
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["tries"] > 100
    assert figures["warm"]["mes.scheduling.engine.sequence_search._moves"] >= 1
    assert figures["after"] == figures["warm"], "a real search compiled what the warm-up had not"
