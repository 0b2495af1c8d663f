"""The engine against exhaustive search and known optima on small cases, feature by feature."""

from __future__ import annotations

import pytest

from mes.scheduling.engine.problem import (
    Assignment,
    Job,
    Objective,
    Precedence,
    Problem,
    Resource,
    SetupMatrix,
    SolveStatus,
    Task,
    TaskStatus,
    Term,
    Window,
    WindowKind,
)
from tests.scheduling.bruteforce import brute_force
from tests.scheduling.conftest import solve_checked

MAKESPAN = Objective.lexicographic(Term.MAKESPAN)


def chain(job: str, *durations: dict[str, int]) -> tuple[list[Task], list[Precedence]]:
    ops = [Task(f"{job}.{k}", job, d) for k, d in enumerate(durations)]
    return ops, [Precedence(a.key, b.key) for a, b in zip(ops, ops[1:])]


def assert_optimal(problem: Problem, time_limit: float = 5.0):
    result = solve_checked(problem, time_limit=time_limit)
    best = brute_force(problem)
    assert best is not None
    levels = problem.objective.levels
    expected = tuple(sum(w * best[t] for t, w in level.items()) for level in levels)
    assert result.levels == expected
    assert result.status == SolveStatus.OPTIMAL
    return result


def test_flexible_job_shop_known_optimum():
    ops, arcs = [], []
    for job, durations in {
        "A": ({"M1": 3, "M2": 5}, {"M2": 2}),
        "B": ({"M1": 2}, {"M1": 4, "M2": 3}),
        "C": ({"M2": 4, "M1": 6}, {"M1": 1}),
    }.items():
        o, a = chain(job, *durations)
        ops += o
        arcs += a
    problem = Problem(
        machines=(Resource("M1"), Resource("M2")),
        jobs=tuple(Job(k) for k in "ABC"),
        operations=tuple(ops),
        precedences=tuple(arcs),
        objective=MAKESPAN,
    )
    result = assert_optimal(problem)
    assert result.objective[Term.MAKESPAN] == 9


def test_sequence_dependent_setups_group_families():
    setups = SetupMatrix(default=10, changes={("A", "B"): 3})
    problem = Problem(
        machines=(Resource("M1", setups=setups, initial_family="B"),),
        jobs=tuple(Job(f"J{k}", family=f) for k, f in enumerate("ABAB")),
        operations=tuple(Task(f"J{k}.0", f"J{k}", {"M1": 5}) for k in range(4)),
        objective=Objective.lexicographic(Term.MAKESPAN, Term.SETUP_TIME),
    )
    result = assert_optimal(problem)
    # B, B first (no change from the initial family), one change B->A costing 10.
    assert result.objective[Term.SETUP_TIME] == 10
    assert result.objective[Term.MAKESPAN] == 30


def test_asymmetric_setups_and_tardiness_on_two_machines():
    matrix = SetupMatrix(default=4, changes={("X", "Y"): 1, ("Y", "Z"): 1, ("Z", "X"): 6})
    jobs = (
        Job("J1", due=8, weight=3, family="X"),
        Job("J2", due=6, weight=1, family="Y"),
        Job("J3", due=12, weight=2, family="Z"),
        Job("J4", due=9, weight=2, family="X"),
        Job("J5", release=3, due=10, weight=1, family="Y"),
    )
    operations = tuple(
        Task(f"{j.key}.0", j.key, {"M1": d1, "M2": d2})
        for j, (d1, d2) in zip(jobs, [(3, 4), (2, 3), (4, 2), (3, 3), (2, 2)])
    )
    problem = Problem(
        machines=(Resource("M1", setups=matrix), Resource("M2", setups=matrix)),
        jobs=jobs,
        operations=operations,
        objective=Objective.lexicographic(Term.WEIGHTED_TARDINESS, Term.MAKESPAN, Term.SETUP_TIME),
    )
    assert_optimal(problem)


def test_long_operation_spans_off_shift_when_resumable():
    # Shifts of 8 hours (0-480, 1440-1920, ...): a 10-hour operation must cross a night.
    nights = tuple(Window(480 + 1440 * d, 1440 * (d + 1)) for d in range(3))
    problem = Problem(
        machines=(Resource("M1", windows=nights),),
        jobs=(Job("J"),),
        operations=(Task("J.0", "J", {"M1": 600}),),
        objective=MAKESPAN,
    )
    result = solve_checked(problem)
    op = result.operations[0]
    assert (op.start, op.end) == (0, 1440 + 120)


def test_non_resumable_operation_waits_for_a_whole_shift():
    nights = tuple(Window(480 + 1440 * d, 1440 * (d + 1)) for d in range(3))
    problem = Problem(
        machines=(Resource("M1", windows=nights),),
        jobs=(Job("J"),),
        operations=(
            Task("J.0", "J", {"M1": 300}),
            Task("J.1", "J", {"M1": 300}, resumable=False),
        ),
        precedences=(Precedence("J.0", "J.1"),),
        objective=MAKESPAN,
    )
    result = solve_checked(problem)
    second = result.by_operation()["J.1"]
    assert (second.start, second.end) == (1440, 1740)


def test_breakdown_is_never_overlapped_and_calendars_match_brute_force():
    windows = (Window(10, 20), Window(40, 45, WindowKind.BREAKDOWN))
    ops, arcs = [], []
    for job, durations in {"A": ({"M1": 8, "M2": 12}, {"M2": 6}), "B": ({"M1": 9}, {"M2": 4, "M1": 5})}.items():
        o, a = chain(job, *durations)
        ops += o
        arcs += a
    problem = Problem(
        machines=(Resource("M1", windows=windows), Resource("M2", windows=(Window(0, 5), Window(25, 30)))),
        jobs=(Job("A"), Job("B")),
        operations=tuple(ops),
        precedences=tuple(arcs),
        objective=MAKESPAN,
    )
    assert_optimal(problem)


def test_setups_are_counted_in_working_time():
    # A 30-minute setup cannot happen during the 60-minute night window.
    problem = Problem(
        machines=(Resource("M1", windows=(Window(100, 160),), setups=SetupMatrix(default=30)),),
        jobs=(Job("A", family="a"), Job("B", family="b")),
        operations=(Task("A.0", "A", {"M1": 90}), Task("B.0", "B", {"M1": 10})),
        precedences=(Precedence("A.0", "B.0"),),
        objective=MAKESPAN,
    )
    result = solve_checked(problem)
    b = result.by_operation()["B.0"]
    assert b.setup == 30
    assert b.start == 160 + 20  # A ends at 90; 10 working minutes before the night, 20 after
    assert_optimal(problem)


def test_assembly_branches_join():
    # Two parallel branches (parts) feed an assembly operation.
    ops = [
        Task("W.p1", "W", {"M1": 4}),
        Task("W.p2", "W", {"M1": 3, "M2": 5}),
        Task("W.q1", "W", {"M2": 2}),
        Task("W.asm", "W", {"M3": 3}),
        Task("V.0", "V", {"M1": 2, "M2": 2}),
        Task("V.1", "V", {"M3": 4}),
    ]
    arcs = [
        Precedence("W.p1", "W.asm"),
        Precedence("W.p2", "W.q1"),
        Precedence("W.q1", "W.asm"),
        Precedence("V.0", "V.1"),
    ]
    problem = Problem(
        machines=(Resource("M1"), Resource("M2"), Resource("M3")),
        jobs=(Job("W", due=9, weight=2), Job("V", due=6)),
        operations=tuple(ops),
        precedences=tuple(arcs),
        objective=Objective.lexicographic(Term.WEIGHTED_TARDINESS, Term.MAKESPAN),
    )
    result = assert_optimal(problem)
    by = result.by_operation()
    assert by["W.asm"].start >= max(by["W.p1"].end, by["W.q1"].end)


def test_transfer_batch_overlap_lets_the_successor_start_early():
    problem = Problem(
        machines=(Resource("M1"), Resource("M2")),
        jobs=(Job("J"),),
        operations=(Task("J.0", "J", {"M1": 100}), Task("J.1", "J", {"M2": 60})),
        precedences=(Precedence("J.0", "J.1", finish_to_start=None, start_to_start=20, end_to_end=10),),
        objective=MAKESPAN,
    )
    result = assert_optimal(problem)
    first, second = result.by_operation()["J.0"], result.by_operation()["J.1"]
    assert second.start == 50 and second.end == 110  # the end-to-end lag binds
    assert second.start < first.end


def test_lags_with_setups_and_release_match_brute_force():
    problem = Problem(
        machines=(Resource("M1", setups=SetupMatrix(default=3)), Resource("M2")),
        jobs=(Job("A", family="x", due=20), Job("B", family="y", release=4, due=15, weight=2)),
        operations=(
            Task("A.0", "A", {"M1": 5}),
            Task("A.1", "A", {"M2": 6, "M1": 4}),
            Task("B.0", "B", {"M1": 4, "M2": 7}),
            Task("B.1", "B", {"M2": 3}),
        ),
        precedences=(
            Precedence("A.0", "A.1", finish_to_start=2),
            Precedence("B.0", "B.1", finish_to_start=None, start_to_start=1, end_to_end=1),
        ),
        objective=Objective.lexicographic(Term.WEIGHTED_TARDINESS, Term.MAKESPAN, Term.SETUP_TIME),
    )
    assert_optimal(problem)


def test_pins_are_honoured_and_optimal_around_them():
    ops, arcs = [], []
    for job, durations in {"A": ({"M1": 3, "M2": 4}, {"M2": 2}), "B": ({"M1": 2}, {"M1": 3, "M2": 3})}.items():
        o, a = chain(job, *durations)
        ops += o
        arcs += a
    ops[1] = Task("A.1", "A", {"M2": 2}, pinned_start=7)
    ops[3] = Task("B.1", "B", {"M1": 3, "M2": 3}, pinned_machine="M2")
    problem = Problem(
        machines=(Resource("M1"), Resource("M2")),
        jobs=(Job("A"), Job("B")),
        operations=tuple(ops),
        precedences=tuple(arcs),
        objective=MAKESPAN,
    )
    result = assert_optimal(problem)
    by = result.by_operation()
    assert by["A.1"].start == 7
    assert by["B.1"].machine == "M2"


def test_frozen_horizon_keeps_the_previous_plan():
    ops = tuple(Task(f"J{k}.0", f"J{k}", {"M1": 10, "M2": 10}) for k in range(4))
    previous = (
        Assignment("J0.0", "M2", 0),
        Assignment("J1.0", "M2", 10),
        Assignment("J2.0", "M2", 20),
        Assignment("J3.0", "M2", 30),
    )
    problem = Problem(
        machines=(Resource("M1"), Resource("M2")),
        jobs=tuple(Job(f"J{k}", due=10) for k in range(4)),
        operations=ops,
        previous=previous,
        frozen_until=15,
        objective=Objective.lexicographic(Term.WEIGHTED_TARDINESS, Term.MAKESPAN),
    )
    result = solve_checked(problem)
    by = result.by_operation()
    assert (by["J0.0"].machine, by["J0.0"].start) == ("M2", 0)
    assert (by["J1.0"].machine, by["J1.0"].start) == ("M2", 10)
    # The others start no earlier than the frozen horizon; best is one per machine at 15/20.
    assert sorted((by[k].start, by[k].machine) for k in ("J2.0", "J3.0")) == [(15, "M1"), (20, "M2")]


def test_started_and_finished_operations_stay_put():
    problem = Problem(
        machines=(Resource("M1", windows=(Window(50, 70, WindowKind.BREAKDOWN),)), Resource("M2")),
        jobs=(Job("A"), Job("B")),
        operations=(
            Task("A.0", "A", {"M1": 30}, status=TaskStatus.FINISHED, machine="M1", start=-40, end=-10),
            Task("A.1", "A", {"M1": 80, "M2": 90}, status=TaskStatus.STARTED, machine="M1", start=-5, remaining=60),
            Task("A.2", "A", {"M2": 10}),
            Task("B.0", "B", {"M1": 20, "M2": 40}),
        ),
        precedences=(Precedence("A.0", "A.1"), Precedence("A.1", "A.2")),
        objective=MAKESPAN,
    )
    result = solve_checked(problem)
    by = result.by_operation()
    # The started operation resumes after the breakdown: 50 minutes before, 10 after.
    assert (by["A.1"].start, by["A.1"].end) == (-5, 80)
    assert by["A.2"].start >= 80
    assert (by["A.0"].start, by["A.0"].end) == (-40, -10)


def test_stability_penalty_keeps_machines_unless_it_pays():
    # Previous plan put everything on M1; M2 is slower. Moving one op saves 5 minutes of
    # tardiness, less than the penalty of 60: nothing moves. With penalty 1 it moves.
    ops = tuple(Task(f"J{k}.0", f"J{k}", {"M1": 10, "M2": 15}) for k in range(3))
    previous = tuple(Assignment(f"J{k}.0", "M1", 10 * k) for k in range(3))
    base = dict(
        machines=(Resource("M1"), Resource("M2")),
        jobs=tuple(Job(f"J{k}", due=25) for k in range(3)),
        operations=ops,
        previous=previous,
    )
    sticky = solve_checked(Problem(**base, objective=Objective.rescheduling(machine_change_minutes=60)))
    assert sticky.objective[Term.MACHINE_CHANGES] == 0
    assert sticky.objective[Term.WEIGHTED_TARDINESS] == 5
    loose = solve_checked(Problem(**base, objective=Objective.rescheduling(machine_change_minutes=1)))
    assert loose.objective[Term.MACHINE_CHANGES] == 1
    assert loose.objective[Term.WEIGHTED_TARDINESS] == 0


def test_start_deviation_is_minimised_after_the_first_level():
    ops = tuple(Task(f"J{k}.0", f"J{k}", {"M1": 10}) for k in range(3))
    previous = (Assignment("J0.0", "M1", 40), Assignment("J1.0", "M1", 0), Assignment("J2.0", "M1", 20))
    problem = Problem(
        machines=(Resource("M1"),),
        jobs=tuple(Job(f"J{k}") for k in range(3)),
        operations=ops,
        previous=previous,
        objective=Objective(levels=({Term.START_DEVIATION: 1},)),
    )
    result = solve_checked(problem)
    assert result.objective[Term.START_DEVIATION] == 0
    assert [result.by_operation()[f"J{k}.0"].start for k in range(3)] == [40, 0, 20]


@pytest.mark.parametrize("flow", [False, True])
def test_flow_time_objective_matches_brute_force(flow):
    ops, arcs = [], []
    for job, durations in {"A": ({"M1": 3}, {"M2": 3}), "B": ({"M1": 1, "M2": 4}, {"M1": 2}), "C": ({"M2": 2},)}.items():
        o, a = chain(job, *durations)
        ops += o
        arcs += a
    second = Term.TOTAL_FLOW_TIME if flow else Term.MAKESPAN
    problem = Problem(
        machines=(Resource("M1"), Resource("M2")),
        jobs=(Job("A", weight=2), Job("B", release=1), Job("C", weight=3)),
        operations=tuple(ops),
        precedences=tuple(arcs),
        objective=Objective.lexicographic(second, Term.MAKESPAN if flow else Term.TOTAL_FLOW_TIME),
    )
    assert_optimal(problem)
