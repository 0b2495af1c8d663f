"""The dispatch heuristic of ``heuristic`` as a kernel compiled with Numba, for the priority search.

The priority search re-dispatches a large shop again and again with other priorities; in
plain Python one dispatch of a 2,000-operation shop takes about a quarter of a second, so
30 s allow about a hundred. This kernel places the operations exactly as
``heuristic.dispatch`` does (same insertion into calendars and setups, same lazy update of
options, same choices and tie-breaks; a property test compares the plans), on flat arrays:
about 8 ms for the 2,000 operations of a generated 360-order shop, against 0.19 s. Most of
that is the 27,000 insertions a dispatch evaluates (an operation's options are evaluated
when it becomes eligible and again each time a block placed on the machine may move them);
the priorities are computed once per option, not once per look for the next operation
(47,000 times a dispatch, against 2,000-20,000), which took a sixth off. It serves the ATCS and most-work-remaining rules without noise; any other rule, or
an interpreter without Numba (or with ``MES_NO_JIT`` set), gets ``heuristic.dispatch``.

Only the priority search's child process imports this module, so that the solver and the
web process never load the compiler. What does not depend on the rule (fixed and pinned
operations reserved on their machines, remaining work, latest starts) is prepared once per
instance in Python.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from mes.scheduling.engine.generator import shop_problem
from mes.scheduling.engine.heuristic import Rule, _Dispatcher, dispatch
from mes.scheduling.engine.instance import Instance
from mes.scheduling.engine.jit import COMPILED, kernel
from mes.scheduling.engine.plan import UNSET, Plan

# The kernels allocate nothing: without reference counting, calls in the inner loops are cheap.
_kernel = kernel(refcounts=False)

# Stand-ins for None in the integer arrays (far outside any minute of a plan).
NONE = -(1 << 62)
ATCS, MWKR = 0, 1

# The instance as flat arrays. Candidates of operation i are the slots
# cand_ptr[i]..cand_ptr[i + 1] (machine cand_m, working minutes cand_w); arcs into i are
# pred_ptr[i]..pred_ptr[i + 1], arcs out of i succ_ptr[i]..succ_ptr[i + 1]; the working
# segments of machine m are cal.ptr[m]..cal.ptr[m + 1] (see ``calendar.Calendar``).
_Static = namedtuple("_Static", "n machines now topo cand_ptr cand_m cand_w cand_op pred_ptr pred_op pred_fs pred_ss "
                                "pred_ee succ_ptr succ_op earliest job_of job_due job_weight rest latest resumable "
                                "fixed fixed_held su cal mean_work mean_setup horizon_due")
# What ``plan.required_setup`` reads, and the machines' calendars.
_Setups = namedtuple("_Setups", "fixed family initial_family offset families matrix")
_Calendars = namedtuple("_Calendars", "ptr starts ends offsets wstarts wends breaks chain")


@_kernel
def _bisect_right(a, lo, hi, x):
    """``bisect.bisect_right(a, x, lo, hi)``, without a branch on the data (a conditional move
    each halving rather than a mispredicted jump every other one)."""
    n = hi - lo
    if n <= 0:
        return lo
    base = lo
    while n > 1:
        half = n >> 1
        base = base + half if a[base + half] <= x else base
        n -= half
    return base + 1 if a[base] <= x else base


@_kernel
def _working(cal, m, t):
    k = _bisect_right(cal.starts, cal.ptr[m], cal.ptr[m + 1], t) - 1
    return min(t, cal.ends[k]) - cal.offsets[k]


@_kernel
def _segment(cal, m, w):
    return _bisect_right(cal.wstarts, cal.ptr[m], cal.ptr[m + 1], w) - 1


@_kernel
def _elapsed_start(cal, m, w):
    return w + cal.offsets[_segment(cal, m, w)]


@_kernel
def _elapsed_end(cal, m, w):
    return w - 1 + cal.offsets[_segment(cal, m, w - 1)] + 1


@_kernel
def _earliest_fit(cal, m, ws, work, resumable):
    k = _segment(cal, m, ws)
    while True:
        limit = cal.chain[k] if resumable else cal.wends[k]
        if ws + work <= limit:
            return ws
        if resumable:
            while not cal.breaks[k]:
                k += 1
        k += 1
        ws = max(ws, cal.wstarts[k])


@_kernel
def _setup(su, m, before, after):
    """``plan.required_setup`` (before < 0: nothing before on the machine)."""
    if su.fixed[after] and (before < 0 or su.fixed[before]):
        return 0
    family = su.initial_family[m] if before < 0 else su.family[before]
    if family < 0 or su.offset[m] < 0:
        return 0
    return su.matrix[su.offset[m] + family * su.families + su.family[after]]


@_kernel
def _option(cal, su, now, resumable, tl_ws, tl_we, tl_ops, tl_len, i, m, work, ready, end_target, floor):
    """(start, end, working start, setup) of the earliest insertion of i on m."""
    if work == 0:
        s = max(ready, end_target)
        return s, s, NONE, 0
    wmin = _working(cal, m, ready)
    if end_target != UNSET:
        wmin = max(wmin, _working(cal, m, end_target - 1) + 1 - work)
    if floor != NONE and floor > wmin:
        wmin = floor
    count = tl_len[m]
    k = _bisect_right(tl_ws[m], 0, count, wmin)
    while True:
        if k:
            prev = tl_ops[m, k - 1]
            base = tl_we[m, k - 1]
        else:
            prev = -1
            base = _working(cal, m, now)
        if k < count and tl_ws[m, k] - max(wmin, base) < work:
            k += 1
            continue
        setup = _setup(su, m, prev, i)
        ws = _earliest_fit(cal, m, max(wmin, base + setup), work, resumable)
        if k == count:
            break
        if ws + work + _setup(su, m, i, tl_ops[m, k]) <= tl_ws[m, k]:
            break
        k += 1
    return _elapsed_start(cal, m, ws), _elapsed_end(cal, m, ws + work), ws, setup


@_kernel
def _ready(st, start, end, i):
    ready = st.earliest[i]
    end_target = UNSET
    for a in range(st.pred_ptr[i], st.pred_ptr[i + 1]):
        p = st.pred_op[a]
        if st.pred_fs[a] != NONE:
            ready = max(ready, end[p] + st.pred_fs[a])
        if st.pred_ss[a] != NONE:
            ready = max(ready, start[p] + st.pred_ss[a])
        if st.pred_ee[a] != NONE:
            end_target = max(end_target, end[p] + st.pred_ee[a])
    return ready, end_target


@_kernel
def _choose(cand_ptr, cand_m, o_s, o_e, o_setup, i):
    """The option of i with the earliest end (then least setup, shortest, lowest machine)."""
    best = -1
    for c in range(cand_ptr[i], cand_ptr[i + 1]):
        if best < 0:
            best = c
            continue
        a_e, b_e = o_e[c], o_e[best]
        if a_e != b_e:
            if a_e < b_e:
                best = c
            continue
        if o_setup[c] != o_setup[best]:
            if o_setup[c] < o_setup[best]:
                best = c
            continue
        a_d, b_d = o_e[c] - o_s[c], o_e[best] - o_s[best]
        if a_d != b_d:
            if a_d < b_d:
                best = c
            continue
        if cand_m[c] < cand_m[best]:
            best = c
    return best


@_kernel
def _priority(kind, k1, k2, mean_work, mean_setup, latest, rest, due, weight, s, e, setup):
    """``heuristic``'s priority of an operation (weight already multiplied by the boost)."""
    if latest != NONE:
        return 1e12 - float(latest - s)
    if kind == MWKR:
        return (float(rest) - 1e-3 * float(e - s)) * weight
    work = max(1, e - s)
    slack = max(0.0, float(due - rest - s))
    return (weight / float(work)) * np.exp(-slack / (k1 * mean_work)) * np.exp(-float(setup) / (k2 * mean_setup))


# One dispatch's state. COUNT (of eligible operations), WAITING (reserved ones among them)
# and BROKEN (a fixed operation its predecessors could not make room for) are slots of ctl.
# Beside eligible, at the same index: the start (at_s) and end (at_e) of each eligible
# operation's best option and its priority (at_p), so that the look for the operations that
# compete for the next place reads three flat arrays, and a priority is computed only when its
# option changes, not each time its operation competes. ``rule`` holds k1 and k2.
_Work = namedtuple("_Work", "machine start end wstart setup reserved tl_ws tl_we tl_ops tl_len missing done eligible where "
                            "at_s at_e at_p ready_at end_target_at o_s o_e o_ws o_setup stale stale_op best users "
                            "user_count user_at stack heap_key heap_op boost rule ctl")
COUNT, WAITING, BROKEN, HEAP, KIND = range(5)


@_kernel
def _sift_down(key, op, start, pos):
    """heapq's _siftdown: the entry at pos moves up towards start (the root, or where
    ``_sift_up`` began)."""
    new_key, new_op = key[pos], op[pos]
    while pos > start:
        parent = (pos - 1) >> 1
        if new_key < key[parent] or (new_key == key[parent] and new_op < op[parent]):
            key[pos], op[pos] = key[parent], op[parent]
            pos = parent
            continue
        break
    key[pos], op[pos] = new_key, new_op


@_kernel
def _sift_up(key, op, size, pos):
    """heapq's _siftup: the smaller child moves up until a leaf, then the entry sifts down."""
    new_key, new_op = key[pos], op[pos]
    start = pos
    child = 2 * pos + 1
    while child < size:
        right = child + 1
        if right < size and not (key[child] < key[right] or (key[child] == key[right] and op[child] < op[right])):
            child = right
        key[pos], op[pos] = key[child], op[child]
        pos = child
        child = 2 * pos + 1
    key[pos], op[pos] = new_key, new_op
    _sift_down(key, op, start, pos)


@_kernel
def _push(w, end, i):
    """A min-heap of (end, operation) like the heapq one of ``heuristic``: when full, it keeps
    only the entries still current (one per eligible operation), which pop in the same order."""
    size = w.ctl[HEAP]
    if size == len(w.heap_key):
        size = 0
        for index in range(w.ctl[COUNT]):
            j = w.eligible[index]
            if w.best[j] >= 0:
                w.heap_key[size], w.heap_op[size] = w.o_e[w.best[j]], j
                size += 1
        for pos in range(size // 2 - 1, -1, -1):
            _sift_up(w.heap_key, w.heap_op, size, pos)
    w.heap_key[size], w.heap_op[size] = end, i
    w.ctl[HEAP] = size + 1
    _sift_down(w.heap_key, w.heap_op, 0, size)


@_kernel
def _pop(w):
    size = w.ctl[HEAP] - 1
    w.ctl[HEAP] = size
    if size > 0:
        w.heap_key[0], w.heap_op[0] = w.heap_key[size], w.heap_op[size]
        _sift_up(w.heap_key, w.heap_op, size, 0)


@_kernel
def _insertion(st, w, i, c, floor):
    w.o_s[c], w.o_e[c], w.o_ws[c], w.o_setup[c] = _option(
        st.cal, st.su, st.now, st.resumable[i], w.tl_ws, w.tl_we, w.tl_ops, w.tl_len, i, st.cand_m[c], st.cand_w[c],
        w.ready_at[i], w.end_target_at[i], floor)


@_kernel
def _open(st, w, i):
    """``become_eligible``: i's predecessors are all placed."""
    count = w.ctl[COUNT]
    w.eligible[count] = i
    w.where[i] = count
    w.ctl[COUNT] = count + 1
    w.ready_at[i], w.end_target_at[i] = _ready(st, w.start, w.end, i)
    if w.reserved[i]:
        w.ctl[WAITING] += 1
        return
    for c in range(st.cand_ptr[i], st.cand_ptr[i + 1]):
        _insertion(st, w, i, c, NONE)
        if st.cand_w[c]:
            m = st.cand_m[c]
            w.users[m, w.user_count[m]] = c
            w.user_at[c] = w.user_count[m]
            w.user_count[m] += 1
    _set_best(st, w, i, count)


@_kernel
def _set_best(st, w, i, index):
    """i's best option, as ``_choose`` finds it, with its start, end and priority at i's index
    among the eligible; the option goes on the heap."""
    b = _choose(st.cand_ptr, st.cand_m, w.o_s, w.o_e, w.o_setup, i)
    w.best[i] = b
    w.at_s[index], w.at_e[index] = w.o_s[b], w.o_e[b]
    job = st.job_of[i]
    kind = w.ctl[KIND]
    if kind == MWKR:
        weight = w.boost[job]
    else:
        weight = max(st.job_weight[job], 1e-3) * w.boost[job]
    due = st.job_due[job]
    if due == NONE:
        due = st.horizon_due
    w.at_p[index] = _priority(kind, w.rule[0], w.rule[1], st.mean_work, st.mean_setup, st.latest[i], st.rest[i], due,
                              weight, w.o_s[b], w.o_e[b], w.o_setup[b])
    _push(w, w.o_e[b], i)
    return b


@_kernel
def _refresh(st, w, i):
    """Brings i's out-of-date options up to date; returns its best slot."""
    for c in range(st.cand_ptr[i], st.cand_ptr[i + 1]):
        if w.stale[c]:
            w.stale[c] = False
            _insertion(st, w, i, c, w.o_ws[c])
    w.stale_op[i] = False
    return _set_best(st, w, i, w.where[i])


@_kernel
def _finish(st, w, first):
    """``finish``: first is placed; its successors may open (fixed ones are finished too)."""
    stack = w.stack
    stack[0] = first
    top = 1
    while top > 0:
        top -= 1
        i = stack[top]
        w.done[i] = True
        for a in range(st.succ_ptr[i], st.succ_ptr[i + 1]):
            j = st.succ_op[a]
            w.missing[j] -= 1
            if w.missing[j] == 0:
                if st.fixed[j]:
                    if st.fixed_held[j]:
                        ready, end_target = _ready(st, w.start, w.end, j)
                        if w.start[j] < ready or (end_target != UNSET and w.end[j] < end_target):
                            w.ctl[BROKEN] = 1
                    stack[top] = j
                    top += 1
                else:
                    _open(st, w, j)


@_kernel
def _place(st, w, i):
    """Puts i at its best option and marks the options of the machine's users it may move."""
    for c in range(st.cand_ptr[i], st.cand_ptr[i + 1]):
        at = w.user_at[c]
        if at >= 0:
            m = st.cand_m[c]
            moved = w.users[m, w.user_count[m] - 1]
            w.users[m, at] = moved
            w.user_at[moved] = at
            w.user_count[m] -= 1
            w.user_at[c] = -1
    b = w.best[i]
    w.best[i] = -1
    m = st.cand_m[b]
    ws = w.o_ws[b]
    w.machine[i], w.start[i], w.end[i], w.wstart[i] = m, w.o_s[b], w.o_e[b], ws
    if ws == NONE:
        return
    we = ws + st.cand_w[b]
    length = w.tl_len[m]
    k = _bisect_right(w.tl_ws[m], 0, length, ws)
    for q in range(length, k, -1):
        w.tl_ws[m, q] = w.tl_ws[m, q - 1]
        w.tl_we[m, q] = w.tl_we[m, q - 1]
        w.tl_ops[m, q] = w.tl_ops[m, q - 1]
    w.tl_ws[m, k], w.tl_we[m, k], w.tl_ops[m, k] = ws, we, i
    w.tl_len[m] = length + 1
    su = st.su
    users, stale, stale_op, o_ws, cand_op, cand_w = w.users, w.stale, w.stale_op, w.o_ws, st.cand_op, st.cand_w
    starts, ops = w.tl_ws[m], w.tl_ops[m]
    for u in range(w.user_count[m]):
        c = users[m, u]
        if stale[c]:
            continue
        j = cand_op[c]
        wj = o_ws[c]
        if wj != NONE:
            # The earliest insertion only moves when the new block takes its place or
            # becomes its machine predecessor.
            if ws >= wj + cand_w[c] + _setup(su, m, j, i):
                continue
            if we + _setup(su, m, i, j) <= wj:
                kk = _bisect_right(starts, 0, length + 1, wj)
                if kk and ops[kk - 1] != i:
                    continue
        stale[c] = True
        stale_op[j] = True


@_kernel
def _run(st, w):
    """One dispatch from the reserved state; True when every operation got its place."""
    n = st.n
    for i in range(n):
        w.missing[i] = st.pred_ptr[i + 1] - st.pred_ptr[i]
    for index in range(n):
        i = st.topo[index]
        if w.missing[i] == 0 and not w.done[i] and w.where[i] < 0:
            if st.fixed[i]:
                _finish(st, w, i)
            else:
                _open(st, w, i)
    while w.ctl[COUNT] > 0:
        count = w.ctl[COUNT]
        chosen = -1
        if w.ctl[WAITING] > 0:
            for index in range(count):
                if w.reserved[w.eligible[index]]:
                    chosen = w.eligible[index]
                    break
            if w.start[chosen] < w.ready_at[chosen] or (
                    w.end_target_at[chosen] != UNSET and w.end[chosen] < w.end_target_at[chosen]):
                return False
            w.ctl[WAITING] -= 1
        else:
            while True:
                earliest_end, j = w.heap_key[0], w.heap_op[0]
                b = w.best[j]
                if b < 0 or w.o_e[b] != earliest_end:
                    _pop(w)  # chosen already, or an older entry
                elif w.stale_op[j]:
                    _refresh(st, w, j)
                else:
                    break
            top_priority = 0.0
            at_s, at_e, at_p = w.at_s, w.at_e, w.at_p
            for index in range(count):
                if not (at_s[index] < earliest_end or at_e[index] == earliest_end):
                    continue
                i = w.eligible[index]
                if w.stale_op[i]:
                    _refresh(st, w, i)
                    if not (at_s[index] < earliest_end or at_e[index] == earliest_end):
                        continue
                value = at_p[index]
                if chosen < 0 or value > top_priority or (value == top_priority and i < chosen):
                    chosen, top_priority = i, value
        last = w.eligible[count - 1]
        here = w.where[chosen]
        w.eligible[here] = last
        w.at_s[here], w.at_e[here], w.at_p[here] = w.at_s[count - 1], w.at_e[count - 1], w.at_p[count - 1]
        w.where[last] = here
        w.where[chosen] = -2  # out of the eligible set for good
        w.ctl[COUNT] = count - 1
        if not w.reserved[chosen]:
            _place(st, w, chosen)
        _finish(st, w, chosen)
        if w.ctl[BROKEN]:
            return False
    for i in range(n):
        if not w.done[i]:
            return False
    for m in range(st.machines):
        prev = -1
        for k in range(w.tl_len[m]):
            i = w.tl_ops[m, k]
            w.setup[i] = _setup(st.su, m, prev, i)
            prev = i
    return True


def _none(value: int | None) -> int:
    return NONE if value is None else value


class CompiledDispatcher:
    """``dispatch(rule, boost)`` for one instance, as ``heuristic.dispatch`` gives it."""

    def __init__(self, instance: Instance):
        self.inst = instance
        prepared = _Dispatcher(instance, Rule())
        self.prepared = prepared
        self.feasible = prepared._reserve()
        if not COMPILED or not self.feasible:
            return
        n, machines = instance.n, len(instance.machine_keys)
        i64 = np.int64
        cand_ptr, cand_m, cand_w, cand_op = [0], [], [], []
        for i in range(n):
            for m, work in instance.candidates[i]:
                cand_m.append(m)
                cand_w.append(work)
                cand_op.append(i)
            cand_ptr.append(len(cand_m))
        pred_ptr, pred_op, pred_fs, pred_ss, pred_ee = [0], [], [], [], []
        for i in range(n):
            for arc in instance.preds[i]:
                pred_op.append(arc.before)
                pred_fs.append(_none(arc.finish_to_start))
                pred_ss.append(_none(arc.start_to_start))
                pred_ee.append(_none(arc.end_to_end))
            pred_ptr.append(len(pred_op))
        succ_ptr, succ_op = [0], []
        for i in range(n):
            succ_op.extend(arc.after for arc in instance.succs[i])
            succ_ptr.append(len(succ_op))
        families = max(1, instance.num_families)
        setup_off, setup_matrix = [], []
        for matrix in instance.setup:
            if matrix is None:
                setup_off.append(-1)
                continue
            setup_off.append(len(setup_matrix))
            for row in matrix:
                setup_matrix.extend(row)
        cal_ptr = [0]
        columns = {name: [] for name in ("starts", "ends", "offsets", "wstarts", "wends", "breaks_after", "chain_end")}
        for calendar in instance.calendars:
            for name, values in columns.items():
                values.extend(getattr(calendar, name))
            cal_ptr.append(len(columns["starts"]))
        fixed = instance.fixed
        array = lambda values, kind=i64: np.array(values, dtype=kind)  # noqa: E731
        self.static = _Static(
            n=n, machines=machines, now=instance.now, topo=array(instance.topo),
            cand_ptr=array(cand_ptr), cand_m=array(cand_m), cand_w=array(cand_w), cand_op=array(cand_op),
            pred_ptr=array(pred_ptr), pred_op=array(pred_op), pred_fs=array(pred_fs), pred_ss=array(pred_ss),
            pred_ee=array(pred_ee), succ_ptr=array(succ_ptr), succ_op=array(succ_op),
            earliest=array([instance.earliest(i) for i in range(n)]), job_of=array(instance.job_of),
            job_due=array([_none(d) for d in instance.job_due]),
            job_weight=array(instance.job_weight, np.float64), rest=array(prepared.rest),
            latest=array([_none(v) for v in prepared.latest]),
            resumable=array(instance.resumable, np.bool_), fixed=array([f is not None for f in fixed], np.bool_),
            fixed_held=array([f is not None and f.why in ("frozen", "pinned") for f in fixed], np.bool_),
            su=_Setups(fixed=array([f is not None for f in fixed], np.bool_), family=array(instance.family),
                       initial_family=array([-1 if f is None else f for f in instance.initial_family]),
                       offset=array(setup_off), families=families, matrix=array(setup_matrix or [0])),
            cal=_Calendars(ptr=array(cal_ptr), starts=array(columns["starts"]), ends=array(columns["ends"]),
                           offsets=array(columns["offsets"]), wstarts=array(columns["wstarts"]),
                           wends=array(columns["wends"]), breaks=array(columns["breaks_after"], np.bool_),
                           chain=array(columns["chain_end"])),
            mean_work=float(prepared.mean_work),
            mean_setup=float(prepared.mean_setup), horizon_due=int(prepared.horizon_due),
        )
        # The reserved state every dispatch starts from.
        tl_ws = np.zeros((machines, max(1, n)), i64)
        tl_we = np.zeros_like(tl_ws)
        tl_ops = np.zeros_like(tl_ws)
        tl_len = np.zeros(machines, i64)
        for m, timeline in enumerate(prepared.timelines):
            length = len(timeline.ops)
            tl_len[m] = length
            tl_ws[m, :length], tl_we[m, :length], tl_ops[m, :length] = timeline.ws, timeline.we, timeline.ops
        reserved = np.zeros(n, np.bool_)
        for i in prepared.reserved:
            reserved[i] = True
        self.initial = (array(prepared.machine), array(prepared.start), array(prepared.end),
                        array([_none(v) for v in prepared.wstart]), reserved, tl_ws, tl_we, tl_ops, tl_len)

    def dispatch(self, rule: Rule = Rule(), boost: list[float] | None = None) -> Plan | None:
        """The plan ``heuristic.dispatch(instance, rule, boost)`` gives."""
        if not self.feasible:
            return None
        if not COMPILED or rule.kind not in ("atcs", "mwkr") or rule.noise:
            return dispatch(self.inst, rule, boost)
        work = self.timing(rule, boost)
        return None if work is None else self.plan(work)

    def timing(self, rule: Rule, boost: list[float] | None = None):
        """The compiled dispatch's arrays (machine, start, end, wstart, setup, ...) for an ATCS
        or most-work-remaining rule without noise, or None when it finds no plan; ``plan``
        makes the plan of them."""
        st = self.static
        n = st.n
        slots = int(st.cand_ptr[n])
        machine, start, end, wstart, reserved, tl_ws, tl_we, tl_ops, tl_len = self.initial
        i64 = np.int64
        work = _Work(
            machine=machine.copy(), start=start.copy(), end=end.copy(), wstart=wstart.copy(),
            setup=np.zeros(n, i64), reserved=reserved, tl_ws=tl_ws.copy(), tl_we=tl_we.copy(),
            tl_ops=tl_ops.copy(), tl_len=tl_len.copy(), missing=np.zeros(n, i64), done=np.zeros(n, np.bool_),
            eligible=np.zeros(n, i64), where=np.full(n, -1, i64), at_s=np.zeros(n, i64), at_e=np.zeros(n, i64),
            at_p=np.zeros(n), ready_at=np.zeros(n, i64),
            end_target_at=np.zeros(n, i64), o_s=np.zeros(slots, i64), o_e=np.zeros(slots, i64),
            o_ws=np.zeros(slots, i64), o_setup=np.zeros(slots, i64), stale=np.zeros(slots, np.bool_),
            stale_op=np.zeros(n, np.bool_), best=np.full(n, -1, i64), users=np.zeros((st.machines, max(1, n)), i64),
            user_count=np.zeros(st.machines, i64), user_at=np.full(max(1, slots), -1, i64),
            stack=np.zeros(max(1, n), i64), heap_key=np.zeros(2 * slots + 2 * n + 8, i64),
            heap_op=np.zeros(2 * slots + 2 * n + 8, i64),
            boost=np.ones(len(self.inst.job_keys)) if boost is None else np.array(boost, dtype=np.float64),
            rule=np.array([rule.k1, rule.k2], dtype=np.float64), ctl=np.zeros(5, i64),
        )
        work.ctl[KIND] = MWKR if rule.kind == "mwkr" else ATCS
        return work if _run(st, work) else None

    @staticmethod
    def plan(work) -> Plan:
        """The plan of a ``timing``."""
        wstart_list = [None if v == NONE else v for v in work.wstart.tolist()]
        return Plan(work.machine.tolist(), work.start.tolist(), work.end.tolist(), wstart_list, work.setup.tolist())


def warm_up() -> None:
    """Compiles the kernel (or loads it from the cache) on a small generated shop, so that a
    search timed afterwards does not wait for the compiler (benchmarks, tests)."""
    CompiledDispatcher(Instance(shop_problem(4, 1))).dispatch(Rule("atcs"))
