"""`mes solve FILE`: plan an FJSPLIB or JSON problem file and print the plan as one JSON object.

Uses only the engine, click and the standard library (no application context, no database), so
it also runs as ``python -m mes.scheduling.solve_cli FILE``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from mes.scheduling.engine.fjsplib import parse_fjsplib
from mes.scheduling.engine.jsonformat import parse_problem, result_to_dict
from mes.scheduling.engine.problem import Problem, ProblemFileError, Result, SchedulingError, Term
from mes.scheduling.engine.solver import solve


def detect_format(path: Path, text: str) -> str:
    """"json" or "fjsplib", by extension first and then by the first character."""
    suffix = path.suffix.lower()
    if suffix == ".json":
        return "json"
    if suffix in (".fjs", ".fjsp", ".txt"):
        return "fjsplib"
    return "json" if text.lstrip().startswith("{") else "fjsplib"


def load_problem(path: Path, kind: str = "auto") -> Problem:
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise ProblemFileError(str(path), None, "file", f"cannot be read: {error}") from None
    if kind == "auto":
        kind = detect_format(path, text)
    return parse_problem(text, str(path)) if kind == "json" else parse_fjsplib(text, str(path))


def summary(problem: Problem, result: Result) -> dict:
    """The plan with jobs, operations (within their job) and machines as 0-based file indexes."""
    job_index = {job.key: k for k, job in enumerate(problem.jobs)}
    machine_index = {m.key: k for k, m in enumerate(problem.machines)}
    op_index: dict[str, int] = {}
    counts: dict[str, int] = {}
    for op in problem.operations:
        op_index[op.key] = counts.get(op.job, 0)
        counts[op.job] = op_index[op.key] + 1
    operations = sorted(
        (
            {"job": job_index[s.job], "op": op_index[s.operation], "machine": machine_index[s.machine],
             "start": s.start, "end": s.end}
            for s in result.operations
        ),
        key=lambda o: (o["job"], o["op"]),
    )
    return {
        "status": str(result.status),
        "objective": result.levels[0] if result.levels else 0,
        "makespan": result.objective[Term.MAKESPAN],
        "lower_bound": result.lower_bound,
        "seconds": result.seconds,
        "operations": operations,
    }


@click.command("solve")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--time-limit", type=click.FloatRange(min=0), default=10.0, show_default=True, help="Seconds to search.")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True, help="CP-SAT worker threads.")
@click.option("--format", "kind", type=click.Choice(["auto", "fjsplib", "json"]), default="auto", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed of the search.")
@click.option("--full", is_flag=True, help="Print the full result keyed by operation keys.")
def solve_command(file: Path, time_limit: float, workers: int, kind: str, seed: int, full: bool) -> None:
    """Plan FILE (FJSPLIB text or the JSON problem format) and print the plan as JSON."""
    try:
        problem = load_problem(file, kind)
    except ProblemFileError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    try:
        result = solve(problem, time_limit=time_limit, workers=workers, seed=seed)
    except SchedulingError as error:
        click.echo(json.dumps({
            "status": "infeasible",
            "reasons": [{"code": r.code, "keys": list(r.keys), "message": r.message} for r in error.reasons],
        }))
        for reason in error.reasons:
            click.echo(f"error: {reason.code}: {reason.message}", err=True)
        sys.exit(3)
    click.echo(json.dumps(result_to_dict(result) if full else summary(problem, result)))


if __name__ == "__main__":
    solve_command()
