"""FJSPLIB and JSON problem files: reading, writing, round trips and precise error messages."""

from __future__ import annotations

import json

import pytest

from mes.scheduling.engine.fjsplib import parse_fjsplib, read_fjsplib, write_fjsplib
from mes.scheduling.engine.jsonformat import parse_problem, problem_from_dict, problem_to_dict
from mes.scheduling.engine.problem import (
    Assignment,
    Job,
    Objective,
    Precedence,
    Problem,
    ProblemFileError,
    Resource,
    SetupMatrix,
    Task,
    TaskStatus,
    Term,
    Window,
    WindowKind,
)

EXAMPLE = "2 2 1.5\n2 2 1 25 2 37 1 2 24\n1 1 1 10\n"


def test_fjsplib_example_from_the_format_description():
    problem = parse_fjsplib(EXAMPLE)
    assert [m.key for m in problem.machines] == ["M1", "M2"]
    assert [op.durations for op in problem.operations] == [{"M1": 25, "M2": 37}, {"M2": 24}, {"M1": 10}]
    assert problem.precedences == (Precedence("J1.1", "J1.2"),)
    assert problem.objective == Objective.lexicographic(Term.MAKESPAN)


def test_fjsplib_whitespace_and_missing_third_header_number():
    text = "2\t2\n\n2  2 1 25 2 37   1 2 24\n\n1 1 1 10\n"
    assert parse_fjsplib(text).operations == parse_fjsplib(EXAMPLE).operations


def test_fjsplib_zero_based_machines_are_recognised():
    problem = parse_fjsplib("1 2\n2 1 0 5 1 1 7\n")
    assert [op.durations for op in problem.operations] == [{"M1": 5}, {"M2": 7}]


@pytest.mark.parametrize("name", ["brandimarte/mk01.fjs", "brandimarte/mk10.fjs", "hurink/edata/mt06.fjs", "dauzere/04a.fjs", "behnke/behnke6.fjs"])
def test_fjsplib_round_trip_on_benchmark_files(fjsp_data, name):
    problem = read_fjsplib(fjsp_data / name)
    again = parse_fjsplib(write_fjsplib(problem))
    assert again.operations == problem.operations
    assert again.precedences == problem.precedences
    assert len(again.machines) == len(problem.machines)


@pytest.mark.parametrize(
    "text, line, fragment",
    [
        ("", None, "empty"),
        ("2 x\n", 1, "'x' is not an integer"),
        ("2 2\n1 1 1 5\n", None, "announces 2 job lines"),
        ("1 2\n2 1 1 5 1 3 4\n", 2, "machine 3 is outside 1..2"),
        ("1 2\n2 1 1 5\n", 2, "ends early"),
        ("1 2\n1 1 1 5 9\n", 2, "unexpected value"),
        ("1 2\n1 1 1 -5\n", 2, "negative duration"),
        ("1 2\n1 0\n", 2, "has no machine"),
    ],
)
def test_fjsplib_errors_name_line_and_field(text, line, fragment):
    with pytest.raises(ProblemFileError) as caught:
        parse_fjsplib(text, "bad.fjs")
    assert caught.value.line == line
    assert fragment in str(caught.value)
    assert caught.value.code == "malformed_problem_file"


def rich_problem() -> Problem:
    """A problem using every feature of the format."""
    return Problem(
        machines=(
            Resource("M1", windows=(Window(480, 1440), Window(2000, 2100, WindowKind.BREAKDOWN)),
                     setups=SetupMatrix(default=20, changes={("a", "b"): 5}), initial_family="a", work_center="WC1"),
            Resource("M2"),
        ),
        jobs=(Job("W1", release=10, due=900, weight=3, family="a"), Job("W2", family="b")),
        operations=(
            Task("W1/10", "W1", {"M1": 30, "M2": 45}, status=TaskStatus.FINISHED, machine="M1", start=-60, end=-30),
            Task("W1/20", "W1", {"M1": 60}, family="b", status=TaskStatus.STARTED, machine="M1", start=-10, remaining=50),
            Task("W1/30", "W1", {"M2": 20}, resumable=False, pinned_machine="M2", pinned_start=300),
            Task("W2/10", "W2", {"M1": 15, "M2": 0}),
        ),
        precedences=(
            Precedence("W1/10", "W1/20"),
            Precedence("W1/20", "W1/30", finish_to_start=None, start_to_start=10, end_to_end=5),
            Precedence("W2/10", "W1/30", finish_to_start=15),
        ),
        now=0,
        frozen_until=120,
        previous=(Assignment("W2/10", "M2", 40),),
        objective=Objective(levels=({Term.WEIGHTED_TARDINESS: 1, Term.MACHINE_CHANGES: 30}, {Term.MAKESPAN: 1})),
    )


def test_json_round_trip_keeps_everything():
    problem = rich_problem()
    data = problem_to_dict(problem)
    assert problem_from_dict(json.loads(json.dumps(data))) == problem


def test_json_chain_shortcut_and_defaults():
    text = json.dumps({
        "machines": [{"key": "M1"}],
        "jobs": [{"key": "J", "chain": True, "operations": [
            {"key": "J.1", "durations": {"M1": 3}}, {"key": "J.2", "durations": {"M1": 4}}]}],
    })
    problem = parse_problem(text)
    assert problem.precedences == (Precedence("J.1", "J.2"),)
    assert problem.jobs == (Job("J"),)
    assert problem.objective is None


@pytest.mark.parametrize(
    "mutate, field, fragment",
    [
        (lambda d: d["jobs"][1]["operations"][0]["durations"].update(M1="ten"), "jobs[1].operations[0].durations.M1", "expected an integer"),
        (lambda d: d["machines"][0]["windows"][0].update(kind="holiday"), "machines[0].windows[0].kind", "expected one of"),
        (lambda d: d["jobs"][0].update(colour="red"), "jobs[0]", "unknown field(s) colour"),
        (lambda d: d["precedences"][0].pop("before"), "precedences[0].before", "non-empty string"),
        (lambda d: d.update(objective=[{"speed": 1}]), "objective[0]", "expected one of"),
        (lambda d: d["machines"][0]["windows"][0].update(end=0), "machines[0].windows[0].end", "ends (0) before"),
    ],
)
def test_json_errors_name_the_field(mutate, field, fragment):
    data = problem_to_dict(rich_problem())
    mutate(data)
    with pytest.raises(ProblemFileError) as caught:
        problem_from_dict(data, "plan.json")
    assert caught.value.field == field
    assert fragment in str(caught.value)


def test_json_syntax_error_names_the_line():
    with pytest.raises(ProblemFileError) as caught:
        parse_problem('{\n  "machines": [\n  }', "plan.json")
    assert caught.value.line == 3
