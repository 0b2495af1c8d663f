"""Property tests: random small problems always yield a feasible plan (or a reasoned refusal)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mes.scheduling.engine.heuristic import default_rules, dispatch
from mes.scheduling.engine.instance import Instance
from mes.scheduling.engine.problem import (
    Assignment,
    Job,
    Objective,
    Precedence,
    Problem,
    Resource,
    SchedulingError,
    SetupMatrix,
    Task,
    TaskStatus,
    Term,
    Window,
    WindowKind,
)
from mes.scheduling.engine.solver import plan_result, solve
from tests.scheduling.conftest import assert_feasible
from tests.scheduling.bruteforce import brute_force

FAMILIES = ["a", "b", "c"]
PIN_CODES = {"pins_conflict", "pinned_start_violates_precedence", "pinned_overlaps_fixed", "pinned_start_off_shift",
             "pinned_start_before_release", "no_plan_found"}


@st.composite
def windows(draw):
    result = []
    for _ in range(draw(st.integers(0, 3))):
        start = draw(st.integers(0, 150))
        length = draw(st.integers(1, 40))
        kind = draw(st.sampled_from([WindowKind.OFF_SHIFT, WindowKind.OFF_SHIFT, WindowKind.BREAKDOWN]))
        result.append(Window(start, start + length, kind))
    return tuple(result)


@st.composite
def problems(draw, pins: bool = True, history: bool = True, max_ops: int = 3):
    machine_count = draw(st.integers(1, 3))
    machines = []
    for m in range(machine_count):
        setups = None
        if draw(st.booleans()):
            changes = {(a, b): draw(st.integers(0, 12)) for a in FAMILIES for b in FAMILIES if a != b and draw(st.booleans())}
            setups = SetupMatrix(default=draw(st.integers(0, 10)), changes=changes)
        machines.append(Resource(f"M{m}", windows=draw(windows()), setups=setups,
                                 initial_family=draw(st.sampled_from([None] + FAMILIES))))
    keys = [m.key for m in machines]
    jobs, operations, precedences, previous = [], [], [], []
    busy: set[str] = set()  # a machine runs one started operation at a time
    for j in range(draw(st.integers(1, 4))):
        job = f"J{j}"
        jobs.append(Job(job, release=draw(st.integers(0, 30)), due=draw(st.one_of(st.none(), st.integers(10, 200))),
                        weight=draw(st.integers(0, 5)), family=draw(st.sampled_from(FAMILIES))))
        ops = []
        for o in range(draw(st.integers(1, max_ops))):
            eligible = draw(st.lists(st.sampled_from(keys), min_size=1, max_size=len(keys), unique=True))
            durations = {m: draw(st.integers(0 if o else 1, 40)) for m in eligible}
            fields = {}
            if history and o == 0 and draw(st.integers(0, 5)) == 0 and eligible[0] not in busy:
                machine = eligible[0]
                if draw(st.booleans()):
                    fields = dict(status=TaskStatus.FINISHED, machine=machine, start=-30, end=-10)
                else:
                    fields = dict(status=TaskStatus.STARTED, machine=machine, start=-5, remaining=draw(st.integers(0, 20)))
                    busy.add(machine)
            elif pins and draw(st.integers(0, 6)) == 0:
                fields["pinned_machine"] = draw(st.sampled_from(eligible))
            elif pins and draw(st.integers(0, 10)) == 0:
                fields["pinned_start"] = draw(st.integers(0, 120))
            op = Task(f"{job}.{o}", job, durations, family=draw(st.sampled_from([None] + FAMILIES)),
                      resumable=draw(st.booleans()), **fields)
            if history and draw(st.integers(0, 3)) == 0 and op.status == TaskStatus.PLANNED:
                previous.append(Assignment(op.key, draw(st.sampled_from(eligible)), draw(st.integers(0, 100))))
            if ops:
                before = draw(st.sampled_from(ops)).key
                kind = draw(st.integers(0, 4))
                if kind == 0:
                    precedences.append(Precedence(before, op.key, finish_to_start=None,
                                                  start_to_start=draw(st.integers(0, 10)), end_to_end=draw(st.integers(0, 10))))
                elif kind == 1:
                    precedences.append(Precedence(before, op.key, finish_to_start=None, end_to_end=draw(st.integers(0, 10))))
                elif kind == 2:
                    precedences.append(Precedence(before, op.key, finish_to_start=None, start_to_start=draw(st.integers(0, 10))))
                else:
                    precedences.append(Precedence(before, op.key, finish_to_start=draw(st.integers(0, 10))))
            ops.append(op)
        operations += ops
    levels = draw(st.sampled_from([
        None,
        Objective.lexicographic(Term.MAKESPAN),
        Objective.lexicographic(Term.WEIGHTED_TARDINESS, Term.MAKESPAN, Term.SETUP_TIME),
        Objective.lexicographic(Term.TOTAL_FLOW_TIME, Term.SETUP_TIME),
    ]))
    return Problem(
        machines=tuple(machines), jobs=tuple(jobs), operations=tuple(operations), precedences=tuple(precedences),
        previous=tuple(previous), frozen_until=draw(st.one_of(st.none(), st.integers(0, 60))) if previous else None,
        objective=levels,
    )


SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@settings(max_examples=150, **SETTINGS)
@given(problems())
def test_solve_always_gives_a_feasible_plan(problem):
    try:
        result = solve(problem, time_limit=0.3, workers=1)
    except SchedulingError as error:
        # Only pins can make a well-formed random problem impossible.
        assert {r.code for r in error.reasons} <= PIN_CODES, error
        assert error.keys
        return
    assert_feasible(problem, result)


@settings(max_examples=150, **SETTINGS)
@given(problems())
def test_every_dispatch_plan_is_feasible(problem):
    try:
        instance = Instance(problem)
    except SchedulingError as error:
        assert {r.code for r in error.reasons} <= PIN_CODES
        return
    for rule in default_rules(instance):
        plan = dispatch(instance, rule)
        if plan is not None:
            assert_feasible(problem, plan_result(instance, plan, rule.kind))


@settings(max_examples=80, **SETTINGS)
@given(problems(pins=False, history=False, max_ops=2))
def test_small_problems_are_solved_to_optimality(problem):
    objective = problem.objective or Objective()
    problem = Problem(**{**problem.__dict__, "objective": objective, "previous": (), "frozen_until": None})
    if sum(len(op.durations) for op in problem.operations) > 9 or len(problem.operations) > 6:
        return
    result = assert_feasible(problem, solve(problem, time_limit=5, workers=2))
    best = brute_force(problem)
    expected = tuple(sum(w * best[t] for t, w in level.items()) for level in objective.levels)
    assert result.levels == expected
