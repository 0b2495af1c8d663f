"""A local search on the plan itself: moves on the machine sequences, timed by a compiled decoder.

The priority search only reaches plans that a dispatch rule can make: every operation
starts as soon as its rule picks it, in the order the priorities give. A late job is often
held up by one operation waiting behind another job's on the same machine, or on a busy
machine while another of its eligible machines idles, and no change of the job priorities
moves just that one. This search does: it takes the best plan, moves one operation of a
late job (picked in proportion to its weighted tardiness) a few places earlier in its
machine's sequence or onto another of its eligible machines, times the new sequences with
``plan.decode``'s semi-active timing (compiled here: calendars, setups, precedence,
releases, pins and fixed work, the same plans as ``plan.decode``; a property test compares
them), and keeps the move by late acceptance: when the plan's score is no worse than
before it or than ``HISTORY`` moves earlier.

Like ``compiled_dispatch`` it runs only in the priority search's child process.
"""

from __future__ import annotations

import random
import time
from collections import namedtuple
from collections.abc import Callable

import numpy as np

from mes.scheduling.engine import compiled_dispatch
from mes.scheduling.engine.compiled_dispatch import (
    NONE,
    CompiledDispatcher,
    _earliest_fit,
    _elapsed_end,
    _elapsed_start,
    _kernel,
    _setup,
    _working,
)
from mes.scheduling.engine.generator import shop_problem
from mes.scheduling.engine.heuristic import Rule
from mes.scheduling.engine.instance import Instance
from mes.scheduling.engine.jit import COMPILED
from mes.scheduling.engine.plan import UNSET, Plan, decode, score
from mes.scheduling.engine.priority_search import PrioritySearch
from mes.scheduling.engine.problem import TaskStatus, Term

# Fixed work as arrays: machine, times and working span (NONE: not on the machine), why it is
# fixed (FINISHED, STARTED or HELD: frozen or pinned), and pinned starts (NONE: none).
_Fixed = namedtuple("_Fixed", "machine start end wstart wend why pinned")
FREE, FINISHED, STARTED, HELD = range(4)
_WHY = {"finished": FINISHED, "started": STARTED}
# Scratch arrays of one timing.
_Scratch = namedtuple("_Scratch", "prev_on next_on last queue queued ready")


@_kernel
def _work(st, i, m):
    for c in range(st.cand_ptr[i], st.cand_ptr[i + 1]):
        if st.cand_m[c] == m:
            return st.cand_w[c]
    return -1


@_kernel
def _wlen(st, fx, machine, i):
    if st.fixed[i]:
        return fx.wend[i] - fx.wstart[i]
    return _work(st, i, machine[i])


@_kernel
def _fixed_ok(st, fx, sc, machine, start, end, wstart, setup):
    """``plan._fixed_respected``: what precedes fixed work leaves it room."""
    for i in range(st.n):
        if not st.fixed[i] or fx.why[i] == FINISHED or fx.why[i] == STARTED:
            continue
        if fx.wstart[i] != NONE:
            prev = sc.prev_on[i]
            if prev < 0:
                ready = _working(st.cal, fx.machine[i], st.now)
            else:
                ready = wstart[prev] + _wlen(st, fx, machine, prev)
            if fx.wstart[i] < ready + setup[i]:
                return False
        for a in range(st.pred_ptr[i], st.pred_ptr[i + 1]):
            p = st.pred_op[a]
            if st.pred_fs[a] != NONE and end[p] + st.pred_fs[a] > fx.start[i]:
                return False
            if st.pred_ss[a] != NONE and start[p] + st.pred_ss[a] > fx.start[i]:
                return False
            if st.pred_ee[a] != NONE and end[p] + st.pred_ee[a] > fx.end[i]:
                return False
    for i in range(st.n):
        if st.fixed[i] and fx.why[i] == STARTED and fx.wstart[i] != NONE:
            prev = sc.prev_on[i]
            if prev >= 0 and not st.fixed[prev]:
                return False
    return True


@_kernel
def _retime(st, fx, sc, perm, machine, start, end, wstart, setup):
    """``plan.decode`` with the operations in ``perm`` order (sorted by ``sequence_key``):
    True, and the plan in the arrays, when the sequences can be timed."""
    n = st.n
    for m in range(st.machines):
        sc.last[m] = -1
    for i in range(n):
        sc.prev_on[i] = -1
        sc.next_on[i] = -1
        sc.queued[i] = False
        setup[i] = 0
        if st.fixed[i]:
            machine[i], start[i], end[i], wstart[i] = fx.machine[i], fx.start[i], fx.end[i], fx.wstart[i]
        else:
            start[i], end[i], wstart[i] = UNSET, UNSET, NONE
    for k in range(n):
        i = perm[k]
        m = machine[i]
        if st.fixed[i]:
            occupies = fx.wstart[i] != NONE
        else:
            occupies = _work(st, i, m) > 0
        if occupies:
            p = sc.last[m]
            if p >= 0:
                sc.prev_on[i] = p
                sc.next_on[p] = i
            setup[i] = _setup(st.su, m, p, i)
            sc.last[m] = i
    queue, queued = sc.queue, sc.queued
    head, size = 0, 0
    for k in range(n):
        i = perm[k]
        if not st.fixed[i]:
            queue[size] = i
            size += 1
            queued[i] = True
    budget = 50 * n + 1000
    cal = st.cal
    while size > 0:
        budget -= 1
        if budget < 0:
            return False
        i = queue[head]
        head = (head + 1) % n
        size -= 1
        queued[i] = False
        ready = st.earliest[i]
        end_target = UNSET
        for a in range(st.pred_ptr[i], st.pred_ptr[i + 1]):
            p = st.pred_op[a]
            if start[p] == UNSET:
                continue
            if st.pred_fs[a] != NONE:
                ready = max(ready, end[p] + st.pred_fs[a])
            if st.pred_ss[a] != NONE:
                ready = max(ready, start[p] + st.pred_ss[a])
            if st.pred_ee[a] != NONE:
                end_target = max(end_target, end[p] + st.pred_ee[a])
        sc.ready[i] = ready
        m = machine[i]
        work = _work(st, i, m)
        pinned = fx.pinned[i]
        if work == 0:
            s = max(ready, end_target)
            if pinned != NONE:
                if s > pinned:
                    return False
                s = pinned
            e = s
            ws = NONE
        else:
            wmin = _working(cal, m, ready)
            if end_target != UNSET:
                wmin = max(wmin, _working(cal, m, end_target - 1) + 1 - work)
            prev = sc.prev_on[i]
            if prev < 0:
                wmin = max(wmin, _working(cal, m, st.now) + setup[i])
            elif wstart[prev] != NONE:
                wmin = max(wmin, wstart[prev] + _wlen(st, fx, machine, prev) + setup[i])
            ws = _earliest_fit(cal, m, wmin, work, st.resumable[i])
            if pinned != NONE:
                wp = _working(cal, m, pinned)
                if ws > wp:
                    return False
                ws = wp
            s = _elapsed_start(cal, m, ws)
            e = _elapsed_end(cal, m, ws + work)
        if s != start[i] or e != end[i]:
            start[i], end[i], wstart[i] = s, e, ws
            for a in range(st.succ_ptr[i], st.succ_ptr[i + 1]):
                j = st.succ_op[a]
                if not st.fixed[j] and not queued[j]:
                    queued[j] = True
                    queue[(head + size) % n] = j
                    size += 1
            j = sc.next_on[i]
            if j >= 0 and not st.fixed[j] and not queued[j]:
                queued[j] = True
                queue[(head + size) % n] = j
                size += 1
    return _fixed_ok(st, fx, sc, machine, start, end, wstart, setup)


class Retimer:
    """``decode(machine, order)`` of ``plan.decode`` for one instance, compiled."""

    def __init__(self, instance: Instance, dispatcher: CompiledDispatcher | None = None):
        self.inst = instance
        n = instance.n
        self.compiled = COMPILED and n > 0
        if not self.compiled:
            return
        dispatcher = dispatcher or CompiledDispatcher(instance)
        self.static = st = getattr(dispatcher, "static", None)
        if st is None:  # the dispatcher found the fixed work infeasible: decode has nothing to time
            self.compiled = False
            return
        i64 = np.int64
        fixed = instance.fixed
        none = lambda value: NONE if value is None else value  # noqa: E731
        self.fx = _Fixed(
            machine=np.array([0 if f is None else f.machine for f in fixed], i64),
            start=np.array([UNSET if f is None else f.start for f in fixed], i64),
            end=np.array([UNSET if f is None else f.end for f in fixed], i64),
            wstart=np.array([NONE if f is None else none(f.wstart) for f in fixed], i64),
            wend=np.array([NONE if f is None else none(f.wend) for f in fixed], i64),
            why=np.array([FREE if f is None else _WHY.get(f.why, HELD) for f in fixed], i64),
            pinned=np.array([none(p) for p in instance.pinned_start], i64),
        )
        self.is_fixed = np.array([f is not None for f in fixed], np.bool_)
        # Fixed work sorts by when it occupies its machine, ahead of planned work at the same key.
        self.fixed_key = np.array([
            float(instance.calendars[f.machine].elapsed_start(f.wstart)) if f is not None and f.wstart is not None
            else 0.0 for f in fixed])
        self.flag = np.where(self.is_fixed, 0, 1)
        self.index = np.arange(n)
        self.scratch = _Scratch(prev_on=np.zeros(n, i64), next_on=np.zeros(n, i64),
                                last=np.zeros(max(1, st.machines), i64), queue=np.zeros(n, i64),
                                queued=np.zeros(n, np.bool_), ready=np.zeros(n, i64))

    def arrays(self, machine: np.ndarray, order: np.ndarray) -> tuple | None:
        """(machine, start, end, wstart, setup, ready) as arrays (ready: the earliest start
        precedence and release allow), or None when the sequences cannot be timed."""
        keys = np.where(self.is_fixed, self.fixed_key, order)
        perm = np.lexsort((self.index, self.flag, keys))
        n = self.inst.n
        machine = machine.astype(np.int64, copy=True)
        start, end, wstart, setup = (np.empty(n, np.int64) for _ in range(4))
        if not _retime(self.static, self.fx, self.scratch, perm, machine, start, end, wstart, setup):
            return None
        return machine, start, end, wstart, setup, self.scratch.ready.copy()

    def decode(self, machine: list[int], order: list[float]) -> Plan | None:
        """The plan ``plan.decode(instance, machine, order)`` gives."""
        if not self.compiled:
            return decode(self.inst, machine, order)
        result = self.arrays(np.array(machine, np.int64), np.array(order, np.float64))
        return None if result is None else to_plan(*result[:5])


def to_plan(machine: np.ndarray, start: np.ndarray, end: np.ndarray, wstart: np.ndarray, setup: np.ndarray) -> Plan:
    return Plan(machine.tolist(), start.tolist(), end.tolist(), [None if v == NONE else v for v in wstart.tolist()],
                setup.tolist())


class Scorer:
    """``plan.score`` on the arrays of a timing (the same integers), without building the plan."""

    def __init__(self, instance: Instance):
        self.inst = instance
        by_job = [i for ops in instance.job_ops for i in ops]
        self.by_job = np.array(by_job, np.int64)
        self.has_ops = np.array([bool(ops) for ops in instance.job_ops], np.bool_)
        sizes = [len(ops) for ops in instance.job_ops if ops]
        self.job_start = np.array([0] + list(np.cumsum(sizes))[:-1], np.int64) if sizes else np.zeros(0, np.int64)
        self.due = np.array([0 if d is None else d for d in instance.job_due], np.int64)
        self.has_due = np.array([d is not None for d in instance.job_due], np.bool_)
        self.weight = np.array(instance.job_weight, np.int64)
        self.release = np.array(instance.job_release, np.int64)
        ops = instance.problem.operations
        tracked = [i for i in range(instance.n)
                   if instance.prev_machine[i] is not None and ops[i].status == TaskStatus.PLANNED]
        self.tracked = np.array(tracked, np.int64)
        self.prev_machine = np.array([instance.prev_machine[i] for i in tracked], np.int64)
        self.prev_start = np.array([instance.prev_start[i] for i in tracked], np.int64)
        self.jobs = len(instance.job_ops)

    def completions(self, end: np.ndarray) -> np.ndarray:
        """Each job's completion (0 for a job without operations, which no term counts)."""
        completion = np.zeros(self.jobs, np.int64)
        if len(self.by_job):
            completion[self.has_ops] = np.maximum.reduceat(end[self.by_job], self.job_start)
        return completion

    def lateness(self, end: np.ndarray) -> np.ndarray:
        """Each job's weighted tardiness."""
        late = np.maximum(0, self.completions(end) - self.due) * self.weight
        return np.where(self.has_due & self.has_ops, late, 0)

    def score(self, machine: np.ndarray, start: np.ndarray, end: np.ndarray, setup: np.ndarray) -> tuple[int, ...]:
        completion = self.completions(end)
        counted = self.has_ops
        values = {
            Term.WEIGHTED_TARDINESS: int((np.maximum(0, completion - self.due) * self.weight)[counted & self.has_due].sum()),
            Term.MAKESPAN: int(end.max()) if len(end) else 0,
            Term.TOTAL_FLOW_TIME: int((np.maximum(0, completion - self.release) * self.weight)[counted].sum()),
            Term.SETUP_TIME: int(setup.sum()),
            Term.MACHINE_CHANGES: int((machine[self.tracked] != self.prev_machine).sum()),
            Term.START_DEVIATION: int(np.abs(start[self.tracked] - self.prev_start).sum()),
        }
        return tuple(sum(weight * values[term] for term, weight in level) for level in self.inst.levels)


# A move takes an operation this many places earlier in its machine's sequence at most.
REACH = 3
# Share of the moves that take the operation to another of its eligible machines.
REASSIGN = 0.4
# Late acceptance: a move is kept when the plan is no worse than now or than it was this
# many moves ago. On the 360-order shops, from the priority search's plans at 21 s, 9 s of
# moves ended 2.1 % lower with 100 than with 1 (only moves that make it no worse), 1.8 %
# with 200, 1.5 % with 30 and 400, 0.2 % with 1,000.
HISTORY = 100
# Share of the time limit the priority search's child gives this search at the end.
SHARE = 0.3


class SequenceSearch:
    """Improves a plan by single-operation moves of late jobs' operations (see above)."""

    def __init__(self, instance: Instance, retimer: Retimer, seed: int = 0):
        self.inst = instance
        self.retimer = retimer
        self.rng = random.Random(seed)
        self.scorer = Scorer(instance)
        self.jobs = len(instance.job_ops)
        self.movable = [[i for i in ops if instance.fixed[i] is None] for ops in instance.job_ops]
        self.tries = 0
        self.kept = 0

    def improve(self, plan: Plan, should_stop, tries: int | None = None,
                on_plan=lambda plan: None) -> tuple[Plan, tuple[int, ...]]:
        """The best plan reached from ``plan`` by moves until ``should_stop()`` (or ``tries``
        moves), and its score; ``on_plan`` gets each better plan."""
        inst, rng, retimer = self.inst, self.rng, self.retimer
        best_plan, best = plan, score(inst, plan)
        machine = np.array(plan.machine, np.int64)
        start = np.array(plan.start, np.int64)
        end = np.array(plan.end, np.int64)
        wstart = np.array([NONE if v is None else v for v in plan.wstart], np.int64)
        first = retimer.arrays(machine, start.astype(np.float64))
        ready = first[5] if first is not None else start.copy()
        # Late acceptance: the score now and those of the last HISTORY moves tried.
        current = best
        history = [best] * HISTORY
        done = 0
        while not should_stop() and (tries is None or done < tries):
            done += 1
            late = self.scorer.lateness(end)
            total = late.sum()
            if total <= 0:
                break
            job = int(np.searchsorted(np.cumsum(late), rng.random() * total, side="right"))
            ops = [i for i in self.movable[min(job, self.jobs - 1)] if wstart[i] != NONE]
            if not ops:
                continue
            # An operation that waits past its ready time (for its machine or a shift) can gain.
            waiting = [i for i in ops if start[i] > ready[i]]
            o = rng.choice(waiting or ops)
            order = start.astype(np.float64)
            new_machine = machine
            others = [m for m, w in inst.candidates[o] if m != machine[o] and w > 0]
            if others and rng.random() < REASSIGN:
                new_machine = machine.copy()
                new_machine[o] = rng.choice(others)
                # Somewhere between its ready time and its start in the other machine's sequence.
                order[o] = rng.uniform(min(ready[o], start[o]), start[o]) - 0.5
            else:
                on = np.flatnonzero((machine == machine[o]) & (wstart != NONE))
                sequence = on[np.lexsort((start[on], wstart[on]))]
                k = int(np.flatnonzero(sequence == o)[0])
                if k == 0:
                    continue
                before = int(sequence[k - rng.randint(1, min(REACH, k))])
                if inst.fixed[before] is not None:
                    continue
                order[o] = start[before] - 0.5
            self.tries += 1
            result = retimer.arrays(new_machine, order)
            if result is None:
                continue
            value = self.scorer.score(result[0], result[1], result[2], result[4])
            slot = self.tries % len(history)
            if value <= current or value <= history[slot]:
                current = value
                if value < best:
                    best_plan, best = to_plan(*result[:5]), value
                    self.kept += 1
                    on_plan(best_plan)
                machine, start, end, wstart, ready = result[0], result[1], result[2], result[3], result[5]
            history[slot] = current
        return best_plan, best


def search_in_child(arguments: tuple, deadline: float, send: Callable[[Plan], None],
                    inbox: Callable[[Callable[[Plan], None]], None]) -> None:
    """The child's side of ``priority_search.run_in_process``: the priority search with the
    compiled dispatch, starting afresh each time it converges, then, for the last ``SHARE``
    of its time, this search from the best plan of all: its own or the last one the parent
    offered (the best of the other searches, when better), so that every search process
    polishes the best plan, each with moves of its own. Each better plan goes to the parent."""
    problem, rules, seed, start, patience = arguments
    instance = Instance(problem)
    dispatcher = CompiledDispatcher(instance)
    best: list[tuple[tuple[int, ...], Plan]] = []
    offered: list[Plan] = []  # the last plan offered (set by the thread reading the offers)

    def take(plan: Plan) -> None:
        offered[:] = [plan]  # each offer beat every one before it: keep only the last

    inbox(take)

    def report(plan: Plan) -> None:
        value = score(instance, plan)
        if not best or value < best[0][0]:
            best[:] = [(value, plan)]
            send(plan)

    now = time.monotonic()
    switch = now + (deadline - now) * (1 - SHARE)
    PrioritySearch(instance, rules, switch, seed, on_plan=report, start=start, patience=patience,
                   dispatcher=dispatcher.dispatch, restarts=True).run()
    own = best[0][1] if best else start
    plan = min(filter(None, [own, *offered]), key=lambda plan: score(instance, plan), default=None)
    if plan is not None and dispatcher.feasible and COMPILED:
        search = SequenceSearch(instance, Retimer(instance, dispatcher), seed)
        search.improve(plan, lambda: time.monotonic() >= deadline, on_plan=report)


def warm_up() -> None:
    """Compiles the dispatch's and this search's kernels (or loads them from the cache), so
    that a search timed afterwards does not wait for the compiler (server, benchmarks, tests)."""
    compiled_dispatch.warm_up()
    instance = Instance(shop_problem(4, 1))
    dispatcher = CompiledDispatcher(instance)
    plan = dispatcher.dispatch(Rule("atcs"))
    if plan is not None and COMPILED:
        SequenceSearch(instance, Retimer(instance, dispatcher)).improve(plan, lambda: False, tries=20)
