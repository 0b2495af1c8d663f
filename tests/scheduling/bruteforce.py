"""Exhaustive search over machine assignments and machine sequences for tiny problems.

Independent of the engine: it times each sequence by scanning minutes with the checker's
window arithmetic. Semi-active timing is optimal for the regular objectives used here.
"""

from __future__ import annotations

from itertools import permutations, product

from mes.scheduling.engine.checker import _Windows
from mes.scheduling.engine.problem import Problem, Term

LIMIT = 5000


def brute_force(problem: Problem) -> dict[Term, int] | None:
    """Lexicographically best term values under the problem's objective (or makespan)."""
    ops = list(problem.operations)
    index = {op.key: i for i, op in enumerate(ops)}
    jobs = {job.key: job for job in problem.jobs}
    machines = {m.key: m for m in problem.machines}
    windows = {m.key: _Windows(m.windows) for m in problem.machines}
    preds = [[] for _ in ops]
    for p in problem.precedences:
        preds[index[p.after]].append((index[p.before], p))
    family = [op.family if op.family is not None else jobs[op.job].family for op in ops]
    levels = problem.objective.levels if problem.objective else ({Term.MAKESPAN: 1},)
    choices = [[op.pinned_machine] if op.pinned_machine else list(op.durations) for op in ops]
    best = None
    best_values = None
    for assignment in product(*choices):
        groups: dict[str, list[int]] = {}
        for i, m in enumerate(assignment):
            if ops[i].durations[m] > 0:
                groups.setdefault(m, []).append(i)
        keys = list(groups)
        for orders in product(*(permutations(groups[m]) for m in keys)):
            sequence_prev = {}
            for m, order in zip(keys, orders):
                for a, b in zip(order, order[1:]):
                    sequence_prev[b] = a
            timing = _time(problem, ops, assignment, preds, sequence_prev, family, machines, windows)
            if timing is None:
                continue
            values = _values(problem, ops, jobs, timing)
            key = tuple(sum(w * values[t] for t, w in level.items()) for level in levels)
            if best is None or key < best:
                best, best_values = key, values
    return best_values


def _time(problem, ops, assignment, preds, sequence_prev, family, machines, windows):
    n = len(ops)
    start = [None] * n
    end = [None] * n
    setup = [0] * n
    for _ in range(n + 1):
        progress = False
        for i, op in enumerate(ops):
            if start[i] is not None:
                continue
            deps = [a for a, _ in preds[i]] + ([sequence_prev[i]] if i in sequence_prev else [])
            if any(start[a] is None for a in deps):
                continue
            m = assignment[i]
            work = op.durations[m]
            ready = max(problem.now, next(j for j in problem.jobs if j.key == op.job).release)
            target = None
            for a, p in preds[i]:
                if p.finish_to_start is not None:
                    ready = max(ready, end[a] + p.finish_to_start)
                if p.start_to_start is not None:
                    ready = max(ready, start[a] + p.start_to_start)
                if p.end_to_end is not None:
                    target = max(target or -10**9, end[a] + p.end_to_end)
            if work == 0:
                s = max(ready, target if target is not None else ready)
                if op.pinned_start is not None:
                    if s > op.pinned_start:
                        return None
                    s = op.pinned_start
                start[i], end[i] = s, s
                progress = True
                continue
            cal = windows[m]
            prev = sequence_prev.get(i)
            matrix = machines[m].setups
            if prev is None:
                base = problem.now
                initial = machines[m].initial_family
                need = 0 if initial is None or matrix is None else matrix.minutes(initial, family[i])
            else:
                base = end[prev]
                need = 0 if matrix is None else matrix.minutes(family[prev], family[i])
            candidates = [op.pinned_start] if op.pinned_start is not None else range(max(ready, base), LIMIT)
            found = None
            for t in candidates:
                if t < ready or t < base or not cal.is_working(t) or cal.working_minutes(base, t) < need:
                    continue
                if op.resumable:
                    e = cal.end_after(t, work)
                    if cal.overlaps(t, e, breakdown_only=True):
                        continue
                else:
                    e = t + work
                    if cal.overlaps(t, e, breakdown_only=False):
                        continue
                if target is not None and e < target:
                    continue
                found = (t, e)
                break
            if found is None:
                return None
            start[i], end[i] = found
            setup[i] = need
            progress = True
        if not progress:
            break
    if any(s is None for s in start):
        return None
    return start, end, setup


def _values(problem, ops, jobs, timing):
    start, end, setup = timing
    completion: dict[str, int] = {}
    for i, op in enumerate(ops):
        completion[op.job] = max(completion.get(op.job, end[i]), end[i])
    tardiness = sum(j.weight * max(0, completion[j.key] - j.due) for j in problem.jobs if j.due is not None)
    flow = sum(j.weight * max(0, completion[j.key] - j.release) for j in problem.jobs)
    return {
        Term.MAKESPAN: max(end),
        Term.WEIGHTED_TARDINESS: tardiness,
        Term.TOTAL_FLOW_TIME: flow,
        Term.SETUP_TIME: sum(setup),
        Term.MACHINE_CHANGES: 0,
        Term.START_DEVIATION: 0,
    }
