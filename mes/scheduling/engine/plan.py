"""A plan as arrays, its objective values, and the decoder that left-shifts a plan.

The decoder takes machine assignments and the order of operations on each machine and
gives every operation its earliest start allowed by calendars, setups, precedence,
release, pins and fixed work (a semi-active schedule). Since all those constraints are
monotone, the earliest solution is the least fixpoint of pushing starts forward, and it is
no later anywhere than any feasible plan with the same sequences.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from mes.scheduling.engine.instance import Instance
from mes.scheduling.engine.problem import TaskStatus, Term

UNSET = -(10**15)


@dataclass
class Plan:
    """Machine, elapsed start/end, working start (None off the machine) and setup per op."""

    machine: list[int]
    start: list[int]
    end: list[int]
    wstart: list[int | None]
    setup: list[int]

    def copy(self) -> Plan:
        return Plan(self.machine[:], self.start[:], self.end[:], self.wstart[:], self.setup[:])

    def sequences(self, instance: Instance) -> list[list[int]]:
        """Operations that occupy each machine, in working-time order."""
        result: list[list[int]] = [[] for _ in instance.machine_keys]
        for i in range(instance.n):
            if self.wstart[i] is not None:
                result[self.machine[i]].append(i)
        for ops in result:
            ops.sort(key=lambda i: (self.wstart[i], self.start[i], i))
        return result


def occupies(instance: Instance, i: int, m: int) -> bool:
    """Whether op i on machine m holds the machine (not finished, some work to do)."""
    f = instance.fixed[i]
    if f is not None:
        return f.wstart is not None
    return instance.work(i, m) > 0


def required_setup(instance: Instance, m: int, before: int | None, after: int) -> int:
    """Setup the engine enforces before ``after`` when ``before`` precedes it on m.

    Setups between two fixed operations (or before a fixed one that opens the machine's
    sequence) are history or the caller's business, so they are not enforced.
    """
    if instance.fixed[after] is not None and (before is None or instance.fixed[before] is not None):
        return 0
    family = instance.initial_family[m] if before is None else instance.family[before]
    return instance.setup_minutes(m, family, instance.family[after])


def job_completions(instance: Instance, plan: Plan) -> list[int | None]:
    completions: list[int | None] = []
    for ops in instance.job_ops:
        completions.append(max((plan.end[i] for i in ops), default=None))
    return completions


def evaluate(instance: Instance, plan: Plan) -> dict[Term, int]:
    """Every objective term of a complete plan."""
    completions = job_completions(instance, plan)
    tardiness = flow = 0
    for j, completion in enumerate(completions):
        if completion is None:
            continue
        due = instance.job_due[j]
        if due is not None:
            tardiness += instance.job_weight[j] * max(0, completion - due)
        flow += instance.job_weight[j] * max(0, completion - instance.job_release[j])
    changes = deviation = 0
    ops = instance.problem.operations
    for i in range(instance.n):
        if instance.prev_machine[i] is None or ops[i].status != TaskStatus.PLANNED:
            continue
        changes += plan.machine[i] != instance.prev_machine[i]
        deviation += abs(plan.start[i] - instance.prev_start[i])
    return {
        Term.WEIGHTED_TARDINESS: tardiness,
        Term.MAKESPAN: max(plan.end, default=0),
        Term.TOTAL_FLOW_TIME: flow,
        Term.SETUP_TIME: sum(plan.setup),
        Term.MACHINE_CHANGES: changes,
        Term.START_DEVIATION: deviation,
    }


def levels(instance: Instance, values: dict[Term, int]) -> tuple[int, ...]:
    return tuple(sum(weight * values[term] for term, weight in level) for level in instance.levels)


def score(instance: Instance, plan: Plan) -> tuple[int, ...]:
    return levels(instance, evaluate(instance, plan))


def decode(instance: Instance, machine: list[int], order: list[float] | list[int]) -> Plan | None:
    """Semi-active plan for the given machines, sequencing each machine by ``order``.

    Returns None when the sequences cannot be timed (they contradict a pin, fixed work or
    each other).
    """
    n = instance.n
    fixed = instance.fixed
    start = [UNSET] * n
    end = [UNSET] * n
    wstart: list[int | None] = [None] * n
    setup = [0] * n
    machine = machine[:]
    sequences: list[list[int]] = [[] for _ in instance.machine_keys]
    for i in range(n):
        f = fixed[i]
        if f is not None:
            machine[i] = f.machine
            start[i], end[i], wstart[i] = f.start, f.end, f.wstart
            if f.wstart is not None:
                sequences[f.machine].append(i)
        elif occupies(instance, i, machine[i]):
            sequences[machine[i]].append(i)
    prev_on_machine: list[int | None] = [None] * n
    next_on_machine: list[int | None] = [None] * n
    for seq in sequences:
        seq.sort(key=lambda i: sequence_key(instance, i, order))
        for a, b in zip(seq, seq[1:]):
            prev_on_machine[b] = a
            next_on_machine[a] = b
    for m, seq in enumerate(sequences):
        if seq:
            setup[seq[0]] = required_setup(instance, m, None, seq[0])
        for a, b in zip(seq, seq[1:]):
            setup[b] = required_setup(instance, m, a, b)

    pending = [i for i in range(n) if fixed[i] is None]
    pending.sort(key=lambda i: (order[i], i))
    queue = deque(pending)
    queued = [False] * n
    for i in pending:
        queued[i] = True
    budget = 50 * n + 1000
    while queue:
        budget -= 1
        if budget < 0:
            return None
        i = queue.popleft()
        queued[i] = False
        ready = instance.earliest(i)
        end_target = UNSET
        for arc in instance.preds[i]:
            p = arc.before
            if start[p] == UNSET:
                continue
            if arc.finish_to_start is not None:
                ready = max(ready, end[p] + arc.finish_to_start)
            if arc.start_to_start is not None:
                ready = max(ready, start[p] + arc.start_to_start)
            if arc.end_to_end is not None:
                end_target = max(end_target, end[p] + arc.end_to_end)
        m = machine[i]
        work = instance.work(i, m)
        pinned = instance.pinned_start[i]
        if work == 0:
            s = max(ready, end_target)
            if pinned is not None:
                if s > pinned:
                    return None
                s = pinned
            e = s
            ws = None
        else:
            calendar = instance.calendars[m]
            wmin = calendar.working(ready)
            if end_target != UNSET:
                wmin = max(wmin, calendar.working(end_target - 1) + 1 - work)
            prev = prev_on_machine[i]
            if prev is None:
                wmin = max(wmin, calendar.working(instance.now) + setup[i])
            elif wstart[prev] is not None:
                wmin = max(wmin, wstart[prev] + _wlen(instance, prev, machine) + setup[i])
            ws = calendar.earliest_fit(wmin, work, instance.resumable[i])
            if pinned is not None:
                wp = calendar.working(pinned)
                if ws > wp:
                    return None
                ws = wp
            s = calendar.elapsed_start(ws)
            e = calendar.end_of(ws, work)
        if s != start[i] or e != end[i]:
            start[i], end[i], wstart[i] = s, e, ws
            for arc in instance.succs[i]:
                j = arc.after
                if fixed[j] is None and not queued[j]:
                    queued[j] = True
                    queue.append(j)
            j = next_on_machine[i]
            if j is not None and fixed[j] is None and not queued[j]:
                queued[j] = True
                queue.append(j)
    plan = Plan(machine, start, end, wstart, setup)
    if not _fixed_respected(instance, plan, prev_on_machine):
        return None
    return plan


def sequence_key(instance: Instance, i: int, order) -> tuple:
    """Fixed work sorts by when it occupies the machine, and first among equals."""
    f = instance.fixed[i]
    if f is not None and f.wstart is not None:
        return (instance.calendars[f.machine].elapsed_start(f.wstart), 0, i)
    return (order[i], 1, i)


def _wlen(instance: Instance, i: int, machine: list[int]) -> int:
    f = instance.fixed[i]
    if f is not None:
        return f.wend - f.wstart
    return instance.work(i, machine[i])


def _fixed_respected(instance: Instance, plan: Plan, prev_on_machine: list[int | None]) -> bool:
    """Fixed operations never move, so check that what precedes them leaves them room."""
    for i, f in enumerate(instance.fixed):
        if f is None or f.why in ("finished", "started"):
            continue
        if f.wstart is not None:
            prev = prev_on_machine[i]
            calendar_ready = (
                instance.calendars[f.machine].working(instance.now) if prev is None
                else plan.wstart[prev] + _wlen(instance, prev, plan.machine)
            )
            if f.wstart < calendar_ready + plan.setup[i]:
                return False
        for arc in instance.preds[i]:
            p = arc.before
            if arc.finish_to_start is not None and plan.end[p] + arc.finish_to_start > f.start:
                return False
            if arc.start_to_start is not None and plan.start[p] + arc.start_to_start > f.start:
                return False
            if arc.end_to_end is not None and plan.end[p] + arc.end_to_end > f.end:
                return False
    for i, f in enumerate(instance.fixed):
        # A planned op squeezed in before a started one must still leave its setup room.
        if f is not None and f.why == "started" and f.wstart is not None:
            prev = prev_on_machine[i]
            if prev is not None and instance.fixed[prev] is None:
                return False
    return True


def timed(instance: Instance, machine: list[int], start: list[int]) -> Plan:
    """The plan with exactly these machines and starts (no left shift), for objectives that
    value staying where the previous plan was."""
    n = instance.n
    end = [0] * n
    wstart: list[int | None] = [None] * n
    machine = machine[:]
    start = start[:]
    for i in range(n):
        f = instance.fixed[i]
        if f is not None:
            machine[i], start[i], end[i], wstart[i] = f.machine, f.start, f.end, f.wstart
            continue
        work = instance.work(i, machine[i])
        if work == 0:
            end[i] = start[i]
            continue
        calendar = instance.calendars[machine[i]]
        wstart[i] = calendar.working(start[i])
        end[i] = calendar.end_of(wstart[i], work)
    plan = Plan(machine, start, end, wstart, [0] * n)
    for m, sequence in enumerate(plan.sequences(instance)):
        previous = None
        for i in sequence:
            plan.setup[i] = required_setup(instance, m, previous, i)
            previous = i
    return plan
