"""Independent feasibility checker: verifies a Result against its Problem from first principles.

It shares no code with the engine beyond the problem dataclasses, so that a bug in the
engine's calendar, setup or precedence handling shows up here as a violation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from mes.scheduling.engine.problem import (
    Objective,
    Problem,
    Result,
    ScheduledTask,
    TaskStatus,
    Term,
    Window,
    WindowKind,
)


class _Windows:
    """A machine's windows merged into disjoint spans, each flagged if it holds a breakdown."""

    def __init__(self, windows: Sequence[Window]):
        spans: list[list] = []
        for w in sorted(windows, key=lambda w: (w.start, w.end)):
            if w.end <= w.start:
                continue
            if spans and w.start <= spans[-1][1]:
                spans[-1][1] = max(spans[-1][1], w.end)
                spans[-1][2] = spans[-1][2] or w.kind == WindowKind.BREAKDOWN
            else:
                spans.append([w.start, w.end, w.kind == WindowKind.BREAKDOWN])
        self.spans = spans
        self.raw = list(windows)

    def working_minutes(self, a: int, b: int) -> int:
        if b <= a:
            return 0
        return (b - a) - sum(max(0, min(b, e) - max(a, s)) for s, e, _ in self.spans)

    def is_working(self, t: int) -> bool:
        return not any(s <= t < e for s, e, _ in self.spans)

    def overlaps(self, a: int, b: int, breakdown_only: bool) -> bool:
        return any(
            max(a, w.start) < min(b, w.end)
            for w in self.raw
            if not breakdown_only or w.kind == WindowKind.BREAKDOWN
        )

    def end_after(self, t: int, work: int) -> int:
        """End of ``work`` working minutes counted from t."""
        for s, e, _ in self.spans:
            if e <= t:
                continue
            if s > t:
                if t + work <= s:
                    return t + work
                work -= s - t
            t = max(t, e)
        return t + work


def check(problem: Problem, result: Result) -> list[str]:
    """All violations of the problem's constraints by the result (empty when feasible)."""
    errors: list[str] = []
    ops = {op.key: op for op in problem.operations}
    jobs = {job.key: job for job in problem.jobs}
    machines = {m.key: m for m in problem.machines}
    windows = {m.key: _Windows(m.windows) for m in problem.machines}
    now = problem.now
    planned: dict[str, ScheduledTask] = {}
    for s in result.operations:
        if s.operation not in ops:
            errors.append(f"{s.operation}: not an operation of the problem")
        elif s.operation in planned:
            errors.append(f"{s.operation}: scheduled twice")
        else:
            planned[s.operation] = s
    for key in ops:
        if key not in planned:
            errors.append(f"{key}: missing from the plan")
    if errors:
        return errors

    previous = {a.operation: a for a in problem.previous}
    released = set(result.released)
    frozen: set[str] = set()
    fixed: set[str] = set()
    for key, op in ops.items():
        s = planned[key]
        if s.job != op.job:
            errors.append(f"{key}: reported for job {s.job}, belongs to {op.job}")
        if s.machine not in machines:
            errors.append(f"{key}: unknown machine {s.machine}")
            continue
        cal = windows[s.machine]
        if op.status == TaskStatus.FINISHED:
            fixed.add(key)
            if (s.machine, s.start, s.end) != (op.machine, op.start, op.end):
                errors.append(f"{key}: finished operation moved")
            continue
        if op.status == TaskStatus.STARTED:
            fixed.add(key)
            expected = max(op.start, now) if op.remaining == 0 else cal.end_after(now, op.remaining)
            if (s.machine, s.start, s.end) != (op.machine, op.start, expected):
                errors.append(f"{key}: started operation should stay on {op.machine} from {op.start} to {expected}, is on {s.machine} {s.start}-{s.end}")
            continue
        if s.machine not in op.durations:
            errors.append(f"{key}: machine {s.machine} is not eligible")
            continue
        work = op.durations[s.machine]
        if op.pinned_machine is not None and s.machine != op.pinned_machine:
            errors.append(f"{key}: pinned to {op.pinned_machine}, planned on {s.machine}")
        if op.pinned_start is not None and s.start != op.pinned_start:
            errors.append(f"{key}: pinned to start {op.pinned_start}, starts {s.start}")
        if op.pinned_start is not None and (op.pinned_machine is not None or len(op.durations) == 1):
            fixed.add(key)
        prev = previous.get(key)
        is_frozen = (
            problem.frozen_until is not None and prev is not None and prev.start < problem.frozen_until
            and key not in released
        )
        if is_frozen:
            frozen.add(key)
            fixed.add(key)
            if (s.machine, s.start) != (prev.machine, prev.start):
                errors.append(f"{key}: frozen at {prev.machine} {prev.start}, planned at {s.machine} {s.start}")
        elif op.pinned_start is None and problem.frozen_until is not None and s.start < problem.frozen_until:
            errors.append(f"{key}: starts at {s.start}, inside the frozen horizon (until {problem.frozen_until})")
        if s.start < now:
            errors.append(f"{key}: starts at {s.start}, before now ({now})")
        job = jobs[op.job]
        if s.start < job.release:
            errors.append(f"{key}: starts at {s.start}, before its job's release {job.release}")
        if work == 0:
            if s.end != s.start:
                errors.append(f"{key}: zero work but spans {s.start}-{s.end}")
            continue
        if not cal.is_working(s.start):
            errors.append(f"{key}: starts at {s.start}, outside {s.machine}'s working time")
        if cal.working_minutes(s.start, s.end) != work or not cal.is_working(s.end - 1):
            errors.append(f"{key}: {s.start}-{s.end} on {s.machine} does not hold exactly {work} working minutes")
        if cal.overlaps(s.start, s.end, breakdown_only=op.resumable):
            what = "a breakdown" if op.resumable else "a window"
            errors.append(f"{key}: {s.start}-{s.end} overlaps {what} of {s.machine}")

    for p in problem.precedences:
        if ops[p.after].status != TaskStatus.PLANNED:
            continue
        a, b = planned[p.before], planned[p.after]
        if p.finish_to_start is not None and b.start < a.end + p.finish_to_start:
            errors.append(f"{p.after}: starts {b.start}, before {p.before} ends {a.end} + {p.finish_to_start}")
        if p.start_to_start is not None and b.start < a.start + p.start_to_start:
            errors.append(f"{p.after}: starts {b.start}, before {p.before} starts {a.start} + {p.start_to_start}")
        if p.end_to_end is not None and b.end < a.end + p.end_to_end:
            errors.append(f"{p.after}: ends {b.end}, before {p.before} ends {a.end} + {p.end_to_end}")

    errors += _check_machines(problem, planned, ops, jobs, windows, fixed)
    values = objective_values(problem, result)
    for term, value in values.items():
        if term in result.objective and result.objective[term] != value:
            errors.append(f"objective {term}: reported {result.objective[term]}, is {value}")
    return errors


def _family(op, jobs) -> str | None:
    return op.family if op.family is not None else jobs[op.job].family


def _check_machines(problem, planned, ops, jobs, windows, fixed) -> list[str]:
    errors: list[str] = []
    now = problem.now
    on_machine: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    last_finished: dict[str, tuple[int, str]] = {}
    for key, op in ops.items():
        s = planned[key]
        if op.status == TaskStatus.FINISHED:
            if s.machine not in last_finished or last_finished[s.machine][0] < s.end:
                last_finished[s.machine] = (s.end, key)
            continue
        if op.status == TaskStatus.STARTED:
            if op.remaining:
                on_machine[s.machine].append((now, s.end, key))
            continue
        if op.durations.get(s.machine, 0) > 0:
            on_machine[s.machine].append((s.start, s.end, key))
    for machine in problem.machines:
        cal = windows[machine.key]
        initial = machine.initial_family
        if initial is None and machine.key in last_finished:
            initial = _family(ops[last_finished[machine.key][1]], jobs)
        setups = machine.setups
        sequence = sorted(on_machine[machine.key])
        before_key = None
        before_end = now
        for start, end, key in sequence:
            if start < before_end and before_key is not None:
                errors.append(f"{machine.key}: {before_key} and {key} overlap")
            family = _family(ops[key], jobs)
            if before_key is None:
                need = 0 if initial is None or setups is None else setups.minutes(initial, family)
                exempt = key in fixed
            else:
                need = 0 if setups is None else setups.minutes(_family(ops[before_key], jobs), family)
                exempt = key in fixed and before_key in fixed
            if exempt:
                need = 0
            if cal.working_minutes(before_end, start) < need:
                errors.append(f"{machine.key}: only {cal.working_minutes(before_end, start)} working minutes before {key} for a {need}-minute setup")
            reported = planned[key].setup
            if reported != need:
                errors.append(f"{key}: reported setup {reported}, needs {need}")
            before_key, before_end = key, end
    return errors


def objective_values(problem: Problem, result: Result) -> dict[Term, int]:
    """Every objective term of a result, computed from the problem's definitions."""
    by_op = result.by_operation()
    ops = {op.key: op for op in problem.operations}
    completion: dict[str, int] = {}
    for s in result.operations:
        completion[s.job] = max(completion.get(s.job, s.end), s.end)
    tardiness = flow = 0
    for job in problem.jobs:
        if job.key not in completion:
            continue
        if job.due is not None:
            tardiness += job.weight * max(0, completion[job.key] - job.due)
        flow += job.weight * max(0, completion[job.key] - job.release)
    changes = deviation = 0
    for a in problem.previous:
        op = ops.get(a.operation)
        if op is None or op.status != TaskStatus.PLANNED or a.operation not in by_op:
            continue
        changes += by_op[a.operation].machine != a.machine
        deviation += abs(by_op[a.operation].start - a.start)
    return {
        Term.WEIGHTED_TARDINESS: tardiness,
        Term.MAKESPAN: max((s.end for s in result.operations), default=0),
        Term.TOTAL_FLOW_TIME: flow,
        Term.SETUP_TIME: sum(s.setup for s in result.operations),
        Term.MACHINE_CHANGES: changes,
        Term.START_DEVIATION: deviation,
    }


def level_values(objective: Objective, values: dict[Term, int]) -> tuple[int, ...]:
    return tuple(sum(weight * values[term] for term, weight in level.items()) for level in objective.levels)
