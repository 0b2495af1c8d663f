"""Bad input is reported as a SchedulingError naming the offending keys, never as an empty plan."""

from __future__ import annotations

import pytest

from mes.scheduling.engine.problem import (
    Assignment,
    Job,
    Objective,
    Precedence,
    Problem,
    Resource,
    SchedulingError,
    Task,
    TaskStatus,
    Term,
    Window,
    WindowKind,
)
from mes.scheduling.engine.solver import solve
from tests.scheduling.conftest import solve_checked

MACHINES = (Resource("M1"), Resource("M2"))


def problem(*operations: Task, precedences=(), jobs=None, **kwargs) -> Problem:
    jobs = jobs or tuple(Job(k) for k in sorted({op.job for op in operations}))
    return Problem(machines=MACHINES, jobs=jobs, operations=tuple(operations), precedences=tuple(precedences), **kwargs)


def error_of(p: Problem) -> SchedulingError:
    with pytest.raises(SchedulingError) as caught:
        solve(p, time_limit=1)
    return caught.value


def test_operation_without_eligible_machine():
    error = error_of(problem(Task("A.0", "A", {})))
    assert error.code == "no_eligible_machine"
    assert error.keys == ("A.0",)
    assert "A.0" in str(error)


def test_negative_duration():
    error = error_of(problem(Task("A.0", "A", {"M1": -5, "M2": 3})))
    assert error.code == "negative_duration"
    assert "A.0" in error.keys


def test_precedence_cycle_names_the_cycle():
    ops = [Task(f"A.{k}", "A", {"M1": 1}) for k in range(4)]
    arcs = [Precedence("A.0", "A.1"), Precedence("A.1", "A.2"), Precedence("A.2", "A.3"), Precedence("A.3", "A.1")]
    error = error_of(problem(*ops, precedences=arcs))
    assert error.code == "precedence_cycle"
    assert set(error.keys) == {"A.1", "A.2", "A.3"}
    assert "cycle" in str(error)


def test_pinned_start_violating_precedence():
    ops = [Task("A.0", "A", {"M1": 30}), Task("A.1", "A", {"M2": 10}, pinned_start=20)]
    error = error_of(problem(*ops, precedences=[Precedence("A.0", "A.1")]))
    assert error.code == "pinned_start_violates_precedence"
    assert error.keys == ("A.1", "A.0")


def test_pinned_start_overlapping_a_started_operation():
    ops = [
        Task("A.0", "A", {"M1": 30}, status=TaskStatus.STARTED, machine="M1", start=0, remaining=30),
        Task("B.0", "B", {"M1": 10}, pinned_start=10),
    ]
    error = error_of(problem(*ops))
    assert error.code == "pinned_overlaps_fixed"
    assert set(error.keys) == {"A.0", "B.0"}


def test_pinned_machine_not_eligible():
    error = error_of(problem(Task("A.0", "A", {"M1": 5}, pinned_machine="M2")))
    assert error.code == "pinned_machine_not_eligible"
    assert error.keys == ("A.0", "M2")


def test_pinned_start_in_a_breakdown():
    machines = (Resource("M1", windows=(Window(0, 60, WindowKind.BREAKDOWN),)),)
    p = Problem(machines=machines, jobs=(Job("A"),), operations=(Task("A.0", "A", {"M1": 5}, pinned_start=30),))
    assert error_of(p).code == "pinned_start_off_shift"


def test_pins_that_cannot_all_hold_are_named():
    # Both pinned at 0 on the only machine: validation cannot see it, CP-SAT proves it.
    ops = [Task("A.0", "A", {"M1": 10, "M2": 10}, pinned_start=0), Task("B.0", "B", {"M1": 10, "M2": 10}, pinned_start=0),
           Task("C.0", "C", {"M1": 10, "M2": 10}, pinned_start=5)]
    error = error_of(problem(*ops))
    assert error.code == "pins_conflict"
    assert set(error.keys) <= {"A.0", "B.0", "C.0"} and len(error.keys) >= 2


def test_unknown_references_and_duplicates():
    assert error_of(problem(Task("A.0", "A", {"M9": 5}))).code == "unknown_machine"
    assert error_of(problem(Task("A.0", "A", {"M1": 5}), precedences=[Precedence("A.0", "X")])).code == "unknown_operation"
    assert error_of(problem(Task("A.0", "A", {"M1": 5}), Task("A.0", "A", {"M1": 5}))).code == "duplicate_key"
    p = Problem(machines=MACHINES, jobs=(), operations=(Task("A.0", "Z", {"M1": 5}),))
    assert error_of(p).code == "unknown_job"


def test_negative_lag():
    ops = [Task("A.0", "A", {"M1": 5}), Task("A.1", "A", {"M1": 5})]
    assert error_of(problem(*ops, precedences=[Precedence("A.0", "A.1", finish_to_start=-3)])).code == "negative_lag"


def test_several_problems_are_reported_together():
    error = error_of(problem(Task("A.0", "A", {}), Task("B.0", "B", {"M1": -1})))
    assert {r.code for r in error.reasons} == {"no_eligible_machine", "negative_duration"}


def test_frozen_operation_that_lost_its_machine_is_released_with_a_warning():
    p = Problem(
        machines=(Resource("M1", windows=(Window(0, 100, WindowKind.BREAKDOWN),)), Resource("M2")),
        jobs=(Job("A"),),
        operations=(Task("A.0", "A", {"M1": 10, "M2": 20}),),
        previous=(Assignment("A.0", "M1", 0),),
        frozen_until=30,
        objective=Objective.lexicographic(Term.MAKESPAN),
    )
    result = solve_checked(p)
    assert result.released == ("A.0",)
    assert any("A.0" in w for w in result.warnings)
    assert result.by_operation()["A.0"].start >= 30 or result.by_operation()["A.0"].machine == "M2"
