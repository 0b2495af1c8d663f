"""The project's JSON problem format (documented in docs/scheduling.md): read, write, results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mes.scheduling.engine.problem import (
    Assignment,
    Job,
    Objective,
    Precedence,
    Problem,
    ProblemFileError,
    Resource,
    Result,
    SetupMatrix,
    Task,
    TaskStatus,
    Term,
    Window,
    WindowKind,
)

FORMAT = "mes-scheduling-problem"
VERSION = 1


class _Reader:
    """Walks the parsed JSON, naming the exact field of anything wrong."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, path: str, detail: str) -> ProblemFileError:
        return ProblemFileError(self.source, None, path, detail)

    def obj(self, value: Any, path: str, allowed: set[str]) -> dict:
        if not isinstance(value, dict):
            raise self.fail(path, "expected an object")
        unknown = set(value) - allowed
        if unknown:
            raise self.fail(path, f"unknown field(s) {', '.join(sorted(unknown))}")
        return value

    def array(self, value: Any, path: str) -> list:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(path, "expected an array")
        return value

    def integer(self, value: Any, path: str, optional: bool = False) -> int | None:
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(path, f"expected an integer, got {json.dumps(value)}")
        return value

    def string(self, value: Any, path: str, optional: bool = False) -> str | None:
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value:
            raise self.fail(path, f"expected a non-empty string, got {json.dumps(value)}")
        return value

    def boolean(self, value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(path, f"expected true or false, got {json.dumps(value)}")
        return value

    def choice(self, value: Any, path: str, enum):
        try:
            return enum(value)
        except ValueError:
            options = ", ".join(e.value for e in enum)
            raise self.fail(path, f"expected one of {options}, got {json.dumps(value)}") from None


def read_problem(path: str | Path) -> Problem:
    return parse_problem(Path(path).read_text(), str(path))


def parse_problem(text: str, source: str = "<json>") -> Problem:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ProblemFileError(source, error.lineno, f"column {error.colno}", f"invalid JSON: {error.msg}") from None
    return problem_from_dict(data, source)


def problem_from_dict(data: Any, source: str = "<json>") -> Problem:
    r = _Reader(source)
    top = r.obj(data, "(top level)", {
        "format", "version", "now", "frozen_until", "machines", "jobs", "precedences", "previous", "objective",
    })
    if "format" in top and top["format"] != FORMAT:
        raise r.fail("format", f"expected {FORMAT!r}")
    if "version" in top and top["version"] != VERSION:
        raise r.fail("version", f"only version {VERSION} is known")
    machines = tuple(_machine(r, m, f"machines[{k}]") for k, m in enumerate(r.array(top.get("machines"), "machines")))
    jobs: list[Job] = []
    operations: list[Task] = []
    precedences: list[Precedence] = []
    for k, raw in enumerate(r.array(top.get("jobs"), "jobs")):
        path = f"jobs[{k}]"
        job = r.obj(raw, path, {"key", "release", "due", "weight", "family", "operations", "chain"})
        key = r.string(job.get("key"), f"{path}.key")
        jobs.append(Job(
            key=key,
            release=r.integer(job.get("release", 0), f"{path}.release"),
            due=r.integer(job.get("due"), f"{path}.due", optional=True),
            weight=r.integer(job.get("weight", 1), f"{path}.weight"),
            family=r.string(job.get("family"), f"{path}.family", optional=True),
        ))
        ops = [_operation(r, o, key, f"{path}.operations[{n}]") for n, o in enumerate(r.array(job.get("operations"), f"{path}.operations"))]
        if not ops:
            raise r.fail(f"{path}.operations", "a job needs at least one operation")
        operations += ops
        if r.boolean(job.get("chain", False), f"{path}.chain"):
            precedences += [Precedence(a.key, b.key) for a, b in zip(ops, ops[1:])]
    for k, raw in enumerate(r.array(top.get("precedences"), "precedences")):
        path = f"precedences[{k}]"
        p = r.obj(raw, path, {"before", "after", "finish_to_start", "start_to_start", "end_to_end"})
        precedences.append(Precedence(
            before=r.string(p.get("before"), f"{path}.before"),
            after=r.string(p.get("after"), f"{path}.after"),
            finish_to_start=r.integer(p.get("finish_to_start", 0), f"{path}.finish_to_start", optional=True),
            start_to_start=r.integer(p.get("start_to_start"), f"{path}.start_to_start", optional=True),
            end_to_end=r.integer(p.get("end_to_end"), f"{path}.end_to_end", optional=True),
        ))
    previous = []
    for k, raw in enumerate(r.array(top.get("previous"), "previous")):
        path = f"previous[{k}]"
        a = r.obj(raw, path, {"operation", "machine", "start"})
        previous.append(Assignment(
            r.string(a.get("operation"), f"{path}.operation"),
            r.string(a.get("machine"), f"{path}.machine"),
            r.integer(a.get("start"), f"{path}.start"),
        ))
    objective = None
    if top.get("objective") is not None:
        levels = []
        for k, raw in enumerate(r.array(top["objective"], "objective")):
            path = f"objective[{k}]"
            if not isinstance(raw, dict) or not raw:
                raise r.fail(path, "expected an object mapping terms to weights")
            level = {}
            for name, weight in raw.items():
                level[r.choice(name, f"{path}", Term)] = r.integer(weight, f"{path}.{name}")
            levels.append(level)
        objective = Objective(levels=tuple(levels))
    return Problem(
        machines=machines,
        jobs=tuple(jobs),
        operations=tuple(operations),
        precedences=tuple(precedences),
        now=r.integer(top.get("now", 0), "now"),
        frozen_until=r.integer(top.get("frozen_until"), "frozen_until", optional=True),
        previous=tuple(previous),
        objective=objective,
    )


def _machine(r: _Reader, raw: Any, path: str) -> Resource:
    m = r.obj(raw, path, {"key", "work_center", "initial_family", "windows", "setups"})
    windows = []
    for k, w in enumerate(r.array(m.get("windows"), f"{path}.windows")):
        wpath = f"{path}.windows[{k}]"
        w = r.obj(w, wpath, {"start", "end", "kind"})
        start = r.integer(w.get("start"), f"{wpath}.start")
        end = r.integer(w.get("end"), f"{wpath}.end")
        if end < start:
            raise r.fail(f"{wpath}.end", f"ends ({end}) before it starts ({start})")
        windows.append(Window(start, end, r.choice(w.get("kind", "off_shift"), f"{wpath}.kind", WindowKind)))
    setups = None
    if m.get("setups") is not None:
        spath = f"{path}.setups"
        s = r.obj(m["setups"], spath, {"default", "changes"})
        changes = {}
        for k, c in enumerate(r.array(s.get("changes"), f"{spath}.changes")):
            cpath = f"{spath}.changes[{k}]"
            c = r.obj(c, cpath, {"from", "to", "minutes"})
            pair = (r.string(c.get("from"), f"{cpath}.from"), r.string(c.get("to"), f"{cpath}.to"))
            changes[pair] = r.integer(c.get("minutes"), f"{cpath}.minutes")
            if changes[pair] < 0:
                raise r.fail(f"{cpath}.minutes", "a setup cannot be negative")
        default = r.integer(s.get("default", 0), f"{spath}.default")
        if default < 0:
            raise r.fail(f"{spath}.default", "a setup cannot be negative")
        setups = SetupMatrix(default=default, changes=changes)
    return Resource(
        key=r.string(m.get("key"), f"{path}.key"),
        windows=tuple(windows),
        setups=setups,
        initial_family=r.string(m.get("initial_family"), f"{path}.initial_family", optional=True),
        work_center=r.string(m.get("work_center"), f"{path}.work_center", optional=True),
    )


def _operation(r: _Reader, raw: Any, job: str, path: str) -> Task:
    o = r.obj(raw, path, {
        "key", "durations", "family", "resumable", "status", "machine", "start", "end", "remaining",
        "pinned_machine", "pinned_start",
    })
    durations_raw = o.get("durations", {})
    if not isinstance(durations_raw, dict):
        raise r.fail(f"{path}.durations", "expected an object mapping machine keys to minutes")
    durations = {}
    for machine, minutes in durations_raw.items():
        durations[machine] = r.integer(minutes, f"{path}.durations.{machine}")
    return Task(
        key=r.string(o.get("key"), f"{path}.key"),
        job=job,
        durations=durations,
        family=r.string(o.get("family"), f"{path}.family", optional=True),
        resumable=r.boolean(o.get("resumable", True), f"{path}.resumable"),
        status=r.choice(o.get("status", "planned"), f"{path}.status", TaskStatus),
        machine=r.string(o.get("machine"), f"{path}.machine", optional=True),
        start=r.integer(o.get("start"), f"{path}.start", optional=True),
        end=r.integer(o.get("end"), f"{path}.end", optional=True),
        remaining=r.integer(o.get("remaining"), f"{path}.remaining", optional=True),
        pinned_machine=r.string(o.get("pinned_machine"), f"{path}.pinned_machine", optional=True),
        pinned_start=r.integer(o.get("pinned_start"), f"{path}.pinned_start", optional=True),
    )


def problem_to_dict(problem: Problem) -> dict:
    """The JSON document of a problem (jobs nest their operations, in problem order)."""
    ops_by_job: dict[str, list[Task]] = {job.key: [] for job in problem.jobs}
    for op in problem.operations:
        ops_by_job.setdefault(op.job, []).append(op)
    data: dict[str, Any] = {"format": FORMAT, "version": VERSION, "now": problem.now}
    if problem.frozen_until is not None:
        data["frozen_until"] = problem.frozen_until
    data["machines"] = [_machine_dict(m) for m in problem.machines]
    data["jobs"] = []
    for job in problem.jobs:
        entry: dict[str, Any] = {"key": job.key, "release": job.release, "due": job.due, "weight": job.weight}
        if job.family is not None:
            entry["family"] = job.family
        entry["operations"] = [_operation_dict(op) for op in ops_by_job[job.key]]
        data["jobs"].append(entry)
    data["precedences"] = [_precedence_dict(p) for p in problem.precedences]
    if problem.previous:
        data["previous"] = [{"operation": a.operation, "machine": a.machine, "start": a.start} for a in problem.previous]
    if problem.objective is not None:
        data["objective"] = [{str(term): weight for term, weight in level.items()} for level in problem.objective.levels]
    return data


def _machine_dict(m: Resource) -> dict:
    entry: dict[str, Any] = {"key": m.key}
    if m.work_center is not None:
        entry["work_center"] = m.work_center
    if m.initial_family is not None:
        entry["initial_family"] = m.initial_family
    if m.windows:
        entry["windows"] = [{"start": w.start, "end": w.end, "kind": str(w.kind)} for w in m.windows]
    if m.setups is not None:
        entry["setups"] = {
            "default": m.setups.default,
            "changes": [{"from": a, "to": b, "minutes": v} for (a, b), v in m.setups.changes.items()],
        }
    return entry


def _operation_dict(op: Task) -> dict:
    entry: dict[str, Any] = {"key": op.key, "durations": dict(op.durations)}
    if op.family is not None:
        entry["family"] = op.family
    if not op.resumable:
        entry["resumable"] = False
    if op.status != TaskStatus.PLANNED:
        entry["status"] = str(op.status)
    for name in ("machine", "start", "end", "remaining", "pinned_machine", "pinned_start"):
        value = getattr(op, name)
        if value is not None:
            entry[name] = value
    return entry


def _precedence_dict(p: Precedence) -> dict:
    entry: dict[str, Any] = {"before": p.before, "after": p.after, "finish_to_start": p.finish_to_start}
    if p.start_to_start is not None:
        entry["start_to_start"] = p.start_to_start
    if p.end_to_end is not None:
        entry["end_to_end"] = p.end_to_end
    return entry


def write_problem(problem: Problem, path: str | Path) -> None:
    Path(path).write_text(json.dumps(problem_to_dict(problem), indent=1) + "\n")


def result_to_dict(result: Result) -> dict:
    """The whole result keyed by operation keys (for services and `mes solve --full`)."""
    return {
        "status": str(result.status),
        "phase": str(result.phase),
        "levels": list(result.levels),
        "objective": {str(term): value for term, value in result.objective.items()},
        "lower_bound": result.lower_bound,
        "seconds": result.seconds,
        "warnings": list(result.warnings),
        "released": list(result.released),
        "operations": [
            {"operation": s.operation, "job": s.job, "machine": s.machine, "start": s.start, "end": s.end, "setup": s.setup}
            for s in result.operations
        ],
    }
