"""Tabu search on the critical path for plain flexible job shops (makespan, no calendars).

For the classic problem (makespan only, no calendars, setups, fixed work or pins, plain
finish-to-start precedence, positive durations) a plan is a machine and a position for
every operation, and its makespan is the longest path through the job and machine arcs.
Each step takes an operation on a critical path out of its machine and puts it back where
the estimated longest path through it is shortest: on any of its eligible machines, at any
position that cannot close a cycle (the moves of Mastrolilli and Gambardella's tabu search
for the flexible job shop, which cover both reassignment and the N5/N7 resequencing of
critical blocks). The estimate uses heads and tails of the current plan; the chosen move
is then timed exactly. A move back to where an operation came from is tabu for a few
steps, unless it beats the best plan. Thousands of such steps cost what one CP-SAT
neighbourhood costs, so this runs on one core beside the CP-SAT large-neighbourhood search
and both share their best plans; in a child process of its own (``child_search``) where
one can be started, so that it never waits for the interpreter lock the CP-SAT side takes.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

from mes.scheduling.engine.child import ChildSearch
from mes.scheduling.engine.instance import Instance
from mes.scheduling.engine.plan import Plan, decode
from mes.scheduling.engine.problem import Problem, Term


def applies(instance: Instance) -> bool:
    """Whether the instance is a plain flexible job shop this search handles exactly."""
    inst = instance
    if [[term for term, _ in level] for level in inst.levels] != [[Term.MAKESPAN]]:
        return False
    if any(inst.machine_has_windows) or any(matrix is not None for matrix in inst.setup):
        return False
    if any(f is not None for f in inst.fixed) or any(p is not None for p in inst.pinned_start):
        return False
    if inst.frozen_until is not None:
        return False
    if any(arc.finish_to_start is None or arc.start_to_start is not None or arc.end_to_end is not None
           for arc in inst.arcs):
        return False
    return inst.n > 1 and all(cands and all(w > 0 for _, w in cands) for cands in inst.candidates)


class CriticalPathSearch:
    """Improves a plan of a plain flexible job shop by tabu search until a deadline."""

    # Steps without a new best plan before restarting from the best with a perturbation.
    stall = 3000
    # A move back is tabu for tenure + a random part of tenure_spread steps.
    tenure = 8
    tenure_spread = 12
    # Steps for which a moved operation stays where it was put (0: only the way back is tabu).
    hold = 5

    def __init__(self, instance: Instance, plan: Plan, seed: int = 0):
        inst = instance
        self.inst = inst
        self.n = n = inst.n
        self.rng = random.Random(seed)
        self.earliest = [inst.earliest(i) for i in range(n)]
        self.work = [dict(inst.candidates[i]) for i in range(n)]
        # Job arcs as (other, lag) lists.
        self.jsucc = [[(arc.after, arc.finish_to_start) for arc in inst.succs[i]] for i in range(n)]
        self.jpred = [[(arc.before, arc.finish_to_start) for arc in inst.preds[i]] for i in range(n)]
        self.pred_count = [len(preds) for preds in self.jpred]
        self.flexible = [len(inst.candidates[i]) > 1 for i in range(n)]
        self.lock = threading.Lock()
        self.external: Plan | None = None
        self.iterations = 0
        self._load(plan)
        self.best_machine = self.machine[:]
        self.best_seqs = [seq[:] for seq in self.seqs]
        self.best_makespan = self.makespan

    # -- state -------------------------------------------------------------------------------

    def _load(self, plan: Plan) -> None:
        self.machine = plan.machine[:]
        self.seqs = plan.sequences(self.inst)
        if not self._time():
            raise ValueError("plan has a cycle")

    def _time(self) -> bool:
        """Times the current plan; False (and nothing changed) when its arcs form a cycle."""
        timing = self._timing(self.machine, self.seqs)
        if timing is None:
            return False
        self.p, self.head, self.tail, self.makespan = timing
        return True

    def _timing(self, machine: list[int], seqs: list[list[int]]):
        """Durations, heads (earliest starts), tails (longest path after the end) and makespan."""
        n, work = self.n, self.work
        p = [work[i][machine[i]] for i in range(n)]
        msucc = [-1] * n
        indegree = self.pred_count[:]
        for seq in seqs:
            if len(seq) > 1:
                previous = seq[0]
                for b in seq[1:]:
                    msucc[previous] = b
                    indegree[b] += 1
                    previous = b
        head = self.earliest[:]
        stack = [i for i in range(n) if not indegree[i]]
        order = []
        jsucc = self.jsucc
        makespan = 0
        while stack:
            i = stack.pop()
            order.append(i)
            finish = head[i] + p[i]
            if finish > makespan:
                makespan = finish
            for j, lag in jsucc[i]:
                if finish + lag > head[j]:
                    head[j] = finish + lag
                indegree[j] -= 1
                if not indegree[j]:
                    stack.append(j)
            j = msucc[i]
            if j >= 0:
                if finish > head[j]:
                    head[j] = finish
                indegree[j] -= 1
                if not indegree[j]:
                    stack.append(j)
        if len(order) < n:
            return None
        tail = [0] * n
        for i in reversed(order):
            best = 0
            for j, lag in jsucc[i]:
                value = lag + p[j] + tail[j]
                if value > best:
                    best = value
            j = msucc[i]
            if j >= 0:
                value = p[j] + tail[j]
                if value > best:
                    best = value
            tail[i] = best
        return p, head, tail, makespan

    def plan(self) -> Plan | None:
        """The best plan found, timed by the engine's decoder."""
        with self.lock:
            machine, seqs = self.best_machine[:], [seq[:] for seq in self.best_seqs]
        timing = self._timing(machine, seqs)
        if timing is None:
            return None
        # Heads increase along each machine's sequence, so they serve as the decoder's order.
        return decode(self.inst, machine, timing[1])

    def adopt(self, plan: Plan, makespan: int) -> None:
        """A better plan found elsewhere: continue from it at the next step."""
        with self.lock:
            if makespan < self.best_makespan:
                self.external = plan

    # -- moves -------------------------------------------------------------------------------

    def _best_move(self, tabu: dict, it: int):
        """The non-tabu move of a critical operation with the shortest estimated path
        through it (ties broken at random), and the exact timing after it."""
        n, head, tail, p, machine, seqs = self.n, self.head, self.tail, self.p, self.machine, self.seqs
        makespan, best_makespan, rng = self.makespan, self.best_makespan, self.rng
        finish = [head[i] + p[i] for i in range(n)]
        after = [p[i] + tail[i] for i in range(n)]
        best_value, chosen, ties = None, None, 0
        for v in range(n):
            if finish[v] + tail[v] != makespan:
                continue
            held = tabu.get(v, -1) >= it
            # Head and tail that v's own job imposes wherever it goes, and the limits
            # beyond which a position would close a cycle.
            r_job = self.earliest[v]
            q_limit = None
            for a, lag in self.jpred[v]:
                if finish[a] + lag > r_job:
                    r_job = finish[a] + lag
                if q_limit is None or after[a] < q_limit:
                    q_limit = after[a]
            q_job = 0
            r_limit = None
            for b, lag in self.jsucc[v]:
                if lag + after[b] > q_job:
                    q_job = lag + after[b]
                if r_limit is None or finish[b] < r_limit:
                    r_limit = finish[b]
            if r_limit is None:
                r_limit = makespan + 1
            if q_limit is None:
                q_limit = makespan + 1
            m_old = machine[v]
            old_seq = seqs[m_old]
            old_pos = old_seq.index(v)
            old_prev = old_seq[old_pos - 1] if old_pos > 0 else -1
            for k, pk in self.work[v].items():
                seq = old_seq[:old_pos] + old_seq[old_pos + 1:] if k == m_old else seqs[k]
                length = len(seq)
                u = -1
                r_u = r_job
                for pos in range(length + 1):
                    if pos:
                        u = seq[pos - 1]
                        if head[u] >= r_limit:
                            break
                        if finish[u] > r_job:
                            r_u = finish[u]
                    if pos < length:
                        w = seq[pos]
                        if tail[w] >= q_limit:
                            continue
                        q = after[w] if after[w] > q_job else q_job
                    else:
                        q = q_job
                    value = r_u + pk + q
                    if best_value is not None and value > best_value:
                        continue
                    if k == m_old and pos == old_pos:
                        continue
                    if (held or tabu.get((v, k, u), -1) >= it) and value >= best_makespan:
                        continue
                    if best_value is None or value < best_value:
                        best_value, chosen, ties = value, (v, k, pos, m_old, old_prev), 1
                    else:
                        ties += 1
                        if rng.randrange(ties) == 0:
                            chosen = (v, k, pos, m_old, old_prev)
        if chosen is None:
            return None
        v, k, pos, m_old, _ = chosen
        old_pos = seqs[m_old].index(v)
        self._apply(v, k, pos)
        timing = self._timing(machine, seqs)
        self._apply(v, m_old, old_pos)
        if timing is None:
            return None
        return chosen, timing

    def _apply(self, v: int, k: int, pos: int) -> None:
        m_old = self.machine[v]
        self.seqs[m_old].remove(v)
        self.seqs[k].insert(pos, v)
        self.machine[v] = k

    def _perturb(self, moves: int) -> None:
        """A few random feasible reassignments, to leave a basin the tabu list cannot."""
        for _ in range(moves):
            v = self.rng.randrange(self.n)
            k = self.rng.choice(list(self.work[v]))
            saved_machine, saved_seqs = self.machine[:], [seq[:] for seq in self.seqs]
            seq = [i for i in self.seqs[k] if i != v]
            pos = self.rng.randrange(len(seq) + 1)
            self._apply(v, k, pos)
            if not self._time():
                self.machine, self.seqs = saved_machine, saved_seqs
                self._time()

    # -- the search --------------------------------------------------------------------------

    def run(self, deadline: float, should_stop: Callable[[], bool],
            on_improve: Callable[[Plan], None], lower_bound: int | None = None) -> None:
        tabu: dict = {}
        it = 0
        since_best = 0
        stall = self.stall
        while True:
            if it % 16 == 0:
                if should_stop() or time.monotonic() >= deadline:
                    return
                with self.lock:
                    external, self.external = self.external, None
                if external is not None:
                    self._load(external)
                    makespan = max(external.end)
                    if makespan < self.best_makespan:
                        self.best_makespan = self.makespan
                        self.best_machine, self.best_seqs = self.machine[:], [seq[:] for seq in self.seqs]
                    since_best = 0
            if lower_bound is not None and self.best_makespan <= lower_bound:
                return
            it += 1
            self.iterations = it
            move = self._best_move(tabu, it)
            if move is None:
                self._perturb(3)
                continue
            (v, k, pos, m_old, old_prev), timing = move
            self._apply(v, k, pos)
            self.p, self.head, self.tail, self.makespan = timing
            tabu[(v, m_old, old_prev)] = it + self.tenure + self.rng.randrange(self.tenure_spread)
            if self.hold:
                tabu[v] = it + self.hold
            if self.makespan < self.best_makespan:
                with self.lock:
                    self.best_makespan = self.makespan
                    self.best_machine, self.best_seqs = self.machine[:], [seq[:] for seq in self.seqs]
                since_best = 0
                plan = self.plan()
                if plan is not None:
                    on_improve(plan)
            else:
                since_best += 1
                if since_best >= stall:
                    with self.lock:
                        self.machine, self.seqs = self.best_machine[:], [seq[:] for seq in self.best_seqs]
                    self._time()
                    self._perturb(2 + self.rng.randrange(4))
                    tabu.clear()
                    since_best = 0


def child_search(problem: Problem, plan: Plan, seed: int, lower_bound: int | None) -> ChildSearch:
    """The tabu search from ``plan`` for a child process (see ``child``): its ``run`` blocks
    until the deadline or a stop, reporting each better plan; its ``offer`` passes the child
    a better plan found elsewhere."""
    return ChildSearch(f"{__name__}:search_in_child", (problem, plan, seed, lower_bound), "tabu search")


def search_in_child(arguments: tuple, deadline: float, send: Callable[[Plan], None],
                    inbox: Callable[[Callable[[Plan], None]], None]) -> None:
    """The child's side: the search, taking the plans the parent offers as they come."""
    problem, plan, seed, lower_bound = arguments
    search = CriticalPathSearch(Instance(problem), plan, seed)
    inbox(lambda other: search.adopt(other, max(other.end)))
    search.run(deadline, lambda: False, send, lower_bound)
