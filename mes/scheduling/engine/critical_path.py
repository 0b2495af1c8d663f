"""The critical-path tabu search of ``localsearch``: a kernel compiled with Numba.

The kernel keeps the plan in flat integer arrays (machine of each operation, each machine's
sequence, heads and tails) and makes hundreds of thousands of steps in the seconds of a
solve; in plain Python it made about 1,400 per second on Brandimarte mk10, 25 times fewer. Numba
compiles it on first use and caches the machine code beside this file (or in the user's
cache folder), so only the first search after an install waits for the compiler. Without
Numba (or with ``MES_NO_JIT`` set) the same functions run as plain Python on lists.
This module is imported only where the search runs (its child process), so that the solver
and the web process never load the compiler.
"""

from __future__ import annotations

import threading
import time
from collections import namedtuple
from collections.abc import Callable

import numpy as np

from mes.scheduling.engine.fjsplib import parse_fjsplib
from mes.scheduling.engine.heuristic import dispatch
from mes.scheduling.engine.instance import Instance
from mes.scheduling.engine.jit import COMPILED
from mes.scheduling.engine.jit import kernel as _kernel
from mes.scheduling.engine.plan import Plan, decode

# The problem as flat integer arrays (numpy arrays when compiled, lists otherwise).
_Static = namedtuple("_Static", "n m work el_ptr el_m js_ptr js_to js_lag jp_ptr jp_from jp_lag "
                                "earliest pred_count")
# The search's state: plan (machine of each operation, flat machine sequences, position of
# each operation in its sequence), its timing, scratch space, tabu lists and the best plan.
_State = namedtuple("_State", "machine seq seqlen position p head tail finish after msucc indeg stack order "
                              "tabu_move tabu_first hold_until best_machine best_seq best_len move ctl")
# Slots of the control array (IT counts steps; CLOCK, the tabu lists' time, also jumps at restarts).
IT, SINCE_BEST, MAKESPAN, BEST, RNG, STALL, TENURE, TENURE_SPREAD, HOLD, PATIENCE, LONG_STALL, RESTARTS, CLOCK = range(13)
_MASK = (1 << 48) - 1


@_kernel
def _random(st, ctl, bound):
    """A number in [0, bound) from a 48-bit linear congruential generator kept in ``ctl``."""
    ctl[RNG] = (ctl[RNG] * 0x5DEECE66D + 0xB) & _MASK
    return (ctl[RNG] >> 17) % bound


@_kernel
def _timing(st, s):
    """Durations, heads (earliest starts) and tails (longest path after the end) of the
    current plan; its makespan, or -1 (timing undefined) when its arcs form a cycle."""
    n, m = st.n, st.m
    p, head, tail, msucc, indeg, stack, order = s.p, s.head, s.tail, s.msucc, s.indeg, s.stack, s.order
    machine, seq, seqlen = s.machine, s.seq, s.seqlen
    for i in range(n):
        p[i] = st.work[i * m + machine[i]]
        msucc[i] = -1
        indeg[i] = st.pred_count[i]
        head[i] = st.earliest[i]
    for k in range(m):
        base = k * n
        for j in range(1, seqlen[k]):
            b = seq[base + j]
            msucc[seq[base + j - 1]] = b
            indeg[b] += 1
    top = 0
    for i in range(n):
        if indeg[i] == 0:
            stack[top] = i
            top += 1
    count = 0
    makespan = 0
    while top > 0:
        top -= 1
        i = stack[top]
        order[count] = i
        count += 1
        finish = head[i] + p[i]
        if finish > makespan:
            makespan = finish
        for e in range(st.js_ptr[i], st.js_ptr[i + 1]):
            j = st.js_to[e]
            value = finish + st.js_lag[e]
            if value > head[j]:
                head[j] = value
            indeg[j] -= 1
            if indeg[j] == 0:
                stack[top] = j
                top += 1
        j = msucc[i]
        if j >= 0:
            if finish > head[j]:
                head[j] = finish
            indeg[j] -= 1
            if indeg[j] == 0:
                stack[top] = j
                top += 1
    if count < n:
        return -1
    for index in range(n - 1, -1, -1):
        i = order[index]
        best = 0
        for e in range(st.js_ptr[i], st.js_ptr[i + 1]):
            j = st.js_to[e]
            value = st.js_lag[e] + p[j] + tail[j]
            if value > best:
                best = value
        j = msucc[i]
        if j >= 0:
            value = p[j] + tail[j]
            if value > best:
                best = value
        tail[i] = best
    return makespan


@_kernel
def _apply(st, s, v, k, pos):
    """Moves operation v to machine k, at position pos of k's sequence without v."""
    n = st.n
    machine, seq, seqlen, position = s.machine, s.seq, s.seqlen, s.position
    old = machine[v]
    base = old * n
    length = seqlen[old]
    for j in range(position[v], length - 1):
        x = seq[base + j + 1]
        seq[base + j] = x
        position[x] = j
    seqlen[old] = length - 1
    base = k * n
    length = seqlen[k]
    for j in range(length, pos, -1):
        x = seq[base + j - 1]
        seq[base + j] = x
        position[x] = j
    seq[base + pos] = v
    position[v] = pos
    seqlen[k] = length + 1
    machine[v] = k


@_kernel
def _best_move(st, s, it):
    """The non-tabu move of a critical operation with the shortest estimated path through
    it (ties broken at random), written to ``s.move`` as (v, machine, position, old machine,
    old predecessor); False when every move is tabu."""
    n, m = st.n, st.m
    head, tail, p, finish, after = s.head, s.tail, s.p, s.finish, s.after
    machine, seq, seqlen, position, ctl = s.machine, s.seq, s.seqlen, s.position, s.ctl
    makespan = ctl[MAKESPAN]
    best_makespan = ctl[BEST]
    for i in range(n):
        finish[i] = head[i] + p[i]
        after[i] = p[i] + tail[i]
    best_value = -1
    ties = 0
    for v in range(n):
        if finish[v] + tail[v] != makespan:
            continue
        held = s.hold_until[v] >= it
        # Head and tail that v's own job imposes wherever it goes, and the limits beyond
        # which a position would close a cycle.
        r_job = st.earliest[v]
        q_limit = -1
        for e in range(st.jp_ptr[v], st.jp_ptr[v + 1]):
            a = st.jp_from[e]
            if finish[a] + st.jp_lag[e] > r_job:
                r_job = finish[a] + st.jp_lag[e]
            if q_limit < 0 or after[a] < q_limit:
                q_limit = after[a]
        q_job = 0
        r_limit = -1
        for e in range(st.js_ptr[v], st.js_ptr[v + 1]):
            b = st.js_to[e]
            if st.js_lag[e] + after[b] > q_job:
                q_job = st.js_lag[e] + after[b]
            if r_limit < 0 or finish[b] < r_limit:
                r_limit = finish[b]
        if r_limit < 0:
            r_limit = makespan + 1
        if q_limit < 0:
            q_limit = makespan + 1
        m_old = machine[v]
        old_pos = position[v]
        old_prev = seq[m_old * n + old_pos - 1] if old_pos > 0 else -1
        for e in range(st.el_ptr[v], st.el_ptr[v + 1]):
            k = st.el_m[e]
            pk = st.work[v * m + k]
            base = k * n
            same = k == m_old
            length = seqlen[k] - 1 if same else seqlen[k]
            u = -1
            r_u = r_job
            for pos in range(length + 1):
                if pos:
                    index = pos - 1
                    if same and index >= old_pos:
                        index += 1
                    u = seq[base + index]
                    if head[u] >= r_limit:
                        break
                    if finish[u] > r_job:
                        r_u = finish[u]
                if pos < length:
                    index = pos
                    if same and index >= old_pos:
                        index += 1
                    w = seq[base + index]
                    if tail[w] >= q_limit:
                        continue
                    q = after[w] if after[w] > q_job else q_job
                else:
                    q = q_job
                value = r_u + pk + q
                if best_value >= 0 and value > best_value:
                    continue
                if same and pos == old_pos:
                    continue
                if value >= best_makespan:
                    if held:
                        continue
                    if u >= 0:
                        if s.tabu_move[v * n + u] >= it:
                            continue
                    elif s.tabu_first[v * m + k] >= it:
                        continue
                take = False
                if best_value < 0 or value < best_value:
                    best_value = value
                    ties = 1
                    take = True
                else:
                    ties += 1
                    take = _random(st, ctl, ties) == 0
                if take:
                    s.move[0] = v
                    s.move[1] = k
                    s.move[2] = pos
                    s.move[3] = m_old
                    s.move[4] = old_prev
    return best_value >= 0


@_kernel
def _perturb(st, s, moves):
    """A few random feasible reassignments, to leave a basin the tabu list cannot."""
    n, ctl = st.n, s.ctl
    for _ in range(moves):
        v = _random(st, ctl, n)
        first = st.el_ptr[v]
        k = st.el_m[first + _random(st, ctl, st.el_ptr[v + 1] - first)]
        m_old = s.machine[v]
        old_pos = s.position[v]
        length = s.seqlen[k] - 1 if k == m_old else s.seqlen[k]
        _apply(st, s, v, k, _random(st, ctl, length + 1))
        makespan = _timing(st, s)
        if makespan < 0:
            _apply(st, s, v, m_old, old_pos)
            makespan = _timing(st, s)
        ctl[MAKESPAN] = makespan


@_kernel
def _keep_best(st, s):
    n, m = st.n, st.m
    for i in range(n):
        s.best_machine[i] = s.machine[i]
    for k in range(m):
        s.best_len[k] = s.seqlen[k]
        for j in range(s.seqlen[k]):
            s.best_seq[k * n + j] = s.seq[k * n + j]
    s.ctl[BEST] = s.ctl[MAKESPAN]


@_kernel
def _restore_best(st, s):
    n, m = st.n, st.m
    for i in range(n):
        s.machine[i] = s.best_machine[i]
    for k in range(m):
        s.seqlen[k] = s.best_len[k]
        for j in range(s.best_len[k]):
            x = s.best_seq[k * n + j]
            s.seq[k * n + j] = x
            s.position[x] = j
    s.ctl[MAKESPAN] = _timing(st, s)


@_kernel
def _steps(st, s, count, lower_bound):
    """Up to ``count`` tabu steps (fewer once the best plan reaches ``lower_bound``, when
    that is not negative); returns how many of them found a better plan."""
    n, m, ctl = st.n, st.m, s.ctl
    improved = 0
    for _ in range(count):
        if lower_bound >= 0 and ctl[BEST] <= lower_bound:
            break
        ctl[IT] += 1
        ctl[CLOCK] += 1
        it = ctl[CLOCK]
        if not _best_move(st, s, it):
            _perturb(st, s, 3)
            continue
        v, k, pos, m_old, old_prev = s.move[0], s.move[1], s.move[2], s.move[3], s.move[4]
        old_pos = s.position[v]
        _apply(st, s, v, k, pos)
        makespan = _timing(st, s)
        if makespan < 0:  # the estimate let a cycle through: undo, and leave by a perturbation
            _apply(st, s, v, m_old, old_pos)
            ctl[MAKESPAN] = _timing(st, s)
            _perturb(st, s, 3)
            continue
        ctl[MAKESPAN] = makespan
        until = it + ctl[TENURE] + _random(st, ctl, ctl[TENURE_SPREAD])
        if old_prev >= 0:
            s.tabu_move[v * n + old_prev] = until
        else:
            s.tabu_first[v * m + m_old] = until
        if ctl[HOLD]:
            s.hold_until[v] = it + ctl[HOLD]
        if makespan < ctl[BEST]:
            _keep_best(st, s)
            ctl[SINCE_BEST] = 0
            improved += 1
        else:
            ctl[SINCE_BEST] += 1
            if ctl[SINCE_BEST] >= ctl[PATIENCE]:
                # Restart from the best plan with a perturbation, with empty tabu lists; one
                # walk in so many may go on for long, so that both kinds get half the steps.
                ctl[RESTARTS] += 1
                long_walk = ctl[RESTARTS] % (ctl[LONG_STALL] // ctl[STALL] + 1) == 0
                ctl[PATIENCE] = ctl[LONG_STALL] if long_walk else ctl[STALL]
                _restore_best(st, s)
                _perturb(st, s, 2 + _random(st, ctl, 4))
                # The tabu lists' clock jumps past every entry they hold: all have expired.
                ctl[CLOCK] += ctl[TENURE] + ctl[TENURE_SPREAD] + ctl[HOLD] + 1
                ctl[SINCE_BEST] = 0
    return improved


def _array(values: list[int]):
    return np.asarray(values, dtype=np.int64) if COMPILED else list(values)


def _zeros(size: int, dtype=np.int64):
    return np.zeros(size, dtype=dtype) if COMPILED else [0] * size


class CriticalPathSearch:
    """Improves a plan of a plain flexible job shop by tabu search until a deadline."""

    # Steps without a new best plan before restarting from the best with a perturbation,
    # and the same for one walk in so many, so that short and long walks each get half the
    # steps (measured on Brandimarte, tabu search alone for 8 s, 4 seeds: restarts after 300
    # steps only suit mk07 (140 every time), after 30,000 only mk06 (58 every time); both
    # kinds give 58.25 / 140.25 / 199.5 on mk06 / mk07 / mk10).
    stall = 300
    long_stall = 20000
    # A move back is tabu for tenure + a random part of tenure_spread steps.
    tenure = 8
    tenure_spread = 12
    # Steps for which a moved operation stays where it was put (0: only the way back is tabu).
    hold = 5
    # Steps per call of the kernel between looks at the clock, the stop and offered plans.
    chunk = 256 if COMPILED else 8

    def __init__(self, instance: Instance, plan: Plan, seed: int = 0):
        inst = instance
        self.inst = inst
        self.n = n = inst.n
        self.m = m = len(inst.machine_keys)
        work = [0] * (n * m)
        el_ptr, el_m = [0], []
        js_ptr, js_to, js_lag = [0], [], []
        jp_ptr, jp_from, jp_lag = [0], [], []
        for i in range(n):
            for k, w in inst.candidates[i]:
                work[i * m + k] = w
                el_m.append(k)
            el_ptr.append(len(el_m))
            for arc in inst.succs[i]:
                js_to.append(arc.after)
                js_lag.append(arc.finish_to_start)
            js_ptr.append(len(js_to))
            for arc in inst.preds[i]:
                jp_from.append(arc.before)
                jp_lag.append(arc.finish_to_start)
            jp_ptr.append(len(jp_from))
        self.static = _Static(n, m, *map(_array, (
            work, el_ptr, el_m, js_ptr, js_to, js_lag, jp_ptr, jp_from, jp_lag,
            [inst.earliest(i) for i in range(n)], [len(inst.preds[i]) for i in range(n)])))
        ctl = [0] * 13
        ctl[RNG] = (seed * 0x9E3779B97F4A7C15 + 0x5DEECE66D) & _MASK
        ctl[STALL], ctl[TENURE], ctl[TENURE_SPREAD], ctl[HOLD] = self.stall, self.tenure, self.tenure_spread, self.hold
        ctl[PATIENCE], ctl[LONG_STALL] = self.stall, self.long_stall
        self.state = _State(
            _zeros(n), _zeros(n * m), _zeros(m), _zeros(n),  # machine seq seqlen position
            *(_zeros(n) for _ in range(9)),  # timing and scratch
            _zeros(n * n, np.int32), _zeros(n * m), _zeros(n),  # tabu lists (the CLOCK values they end at)
            _zeros(n), _zeros(n * m), _zeros(m), _zeros(5), _array(ctl))
        self.lock = threading.Lock()
        self.external: Plan | None = None
        self.iterations = 0
        self._load(plan)
        _keep_best(self.static, self.state)
        self.best_makespan = int(self.state.ctl[BEST])

    def _load(self, plan: Plan) -> None:
        s, n = self.state, self.n
        for i in range(n):
            s.machine[i] = plan.machine[i]
        for k, seq in enumerate(plan.sequences(self.inst)):
            s.seqlen[k] = len(seq)
            for j, i in enumerate(seq):
                s.seq[k * n + j] = i
                s.position[i] = j
        makespan = _timing(self.static, s)
        if makespan < 0:
            raise ValueError("plan has a cycle")
        s.ctl[MAKESPAN] = makespan

    def plan(self) -> Plan | None:
        """The best plan found, timed by the engine's decoder."""
        s, n = self.state, self.n
        with self.lock:
            machine = [int(k) for k in s.best_machine]
            order = [0] * n
            for k in range(self.m):
                for j in range(int(s.best_len[k])):
                    order[int(s.best_seq[k * n + j])] = j
        # Positions increase along each machine's sequence, so they serve as the decoder's order.
        return decode(self.inst, machine, order)

    def adopt(self, plan: Plan, makespan: int) -> None:
        """A better plan found elsewhere: continue from it at the next step."""
        with self.lock:
            if makespan < self.best_makespan:
                self.external = plan

    def run(self, deadline: float, should_stop: Callable[[], bool],
            on_improve: Callable[[Plan], None], lower_bound: int | None = None) -> None:
        st, s = self.static, self.state
        bound = -1 if lower_bound is None else lower_bound
        while True:
            if should_stop() or time.monotonic() >= deadline:
                return
            with self.lock:
                external, self.external = self.external, None
            if external is not None and max(external.end) < s.ctl[BEST]:
                self._load(external)
                _keep_best(st, s)
                s.ctl[SINCE_BEST] = 0
                self.best_makespan = int(s.ctl[BEST])
            if lower_bound is not None and s.ctl[BEST] <= lower_bound:
                return
            with self.lock:
                improved = _steps(st, s, self.chunk, bound)
            self.iterations = int(s.ctl[IT])
            if improved:
                self.best_makespan = int(s.ctl[BEST])
                plan = self.plan()
                if plan is not None:
                    on_improve(plan)


def search_in_child(arguments: tuple, deadline: float, send: Callable[[Plan], None],
                    inbox: Callable[[Callable[[Plan], None]], None]) -> None:
    """The child's side: the search, taking the plans the parent offers as they come."""
    problem, plan, seed, lower_bound = arguments
    search = CriticalPathSearch(Instance(problem), plan, seed)
    inbox(lambda other: search.adopt(other, max(other.end)))
    search.run(deadline, lambda: False, send, lower_bound)


def warm_up() -> None:
    """Compiles the kernel (or loads it from the cache) on a two-job shop, so that a search
    timed afterwards does not wait for the compiler (benchmarks, tests)."""
    instance = Instance(parse_fjsplib("2 2 2\n2 2 1 3 2 4 1 1 5\n2 1 2 2 2 1 1 2 3\n", "warm-up"))
    search = CriticalPathSearch(instance, dispatch(instance), seed=0)
    search.run(float("inf"), lambda: search.iterations > 0, lambda plan: None)
