"""Validation of a Problem and its compilation into index-based arrays for the engine."""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass

from mes.scheduling.engine.calendar import Calendar
from mes.scheduling.engine.problem import (
    Objective,
    Problem,
    Reason,
    SchedulingError,
    TaskStatus,
    Term,
)


@dataclass(frozen=True)
class Arc:
    """A compiled precedence arc between operation indexes (None: that lag does not apply)."""

    before: int
    after: int
    finish_to_start: int | None
    start_to_start: int | None
    end_to_end: int | None


@dataclass
class _Timing:
    """Capacity-free timing: earliest start/end, and the start and end each operation needs
    from its predecessors with the predecessor that sets it."""

    es: list[int]
    ef: list[int]
    need_start: list[int]
    why_start: list[int | None]
    need_end: list[int | None]
    why_end: list[int | None]


@dataclass
class Fixed:
    """An operation whose machine and times are decided (finished, started, frozen, pinned).

    ``wstart``/``wend`` are its working-time span on the machine, None when it does not
    occupy the machine in the planning period (finished, or nothing left to do).
    """

    machine: int
    start: int
    end: int
    wstart: int | None
    wend: int | None
    why: str


class Instance:
    """The problem as arrays indexed by operation, job, machine and setup family."""

    def __init__(self, problem: Problem):
        self.problem = problem
        self.warnings: list[str] = []
        reasons: list[Reason] = []
        self._index(problem, reasons)
        if reasons:
            raise SchedulingError(reasons)
        self._compile_arcs(problem, reasons)
        if reasons:
            raise SchedulingError(reasons)
        self._compile_fixed(problem, reasons)
        if reasons:
            raise SchedulingError(reasons)
        self._compile_pins(problem, reasons)
        if reasons:
            raise SchedulingError(reasons)
        self._compile_previous(problem)
        self._check_temporal(reasons)
        if reasons:
            raise SchedulingError(reasons)
        self._compile_objective(problem)

    # -- indexing and basic checks ---------------------------------------------------------

    def _index(self, problem: Problem, reasons: list[Reason]) -> None:
        for kind, items in (("machine", problem.machines), ("job", problem.jobs), ("operation", problem.operations)):
            seen: set[str] = set()
            for item in items:
                if item.key in seen:
                    reasons.append(Reason("duplicate_key", (item.key,), f"The {kind} key {item.key!r} is used twice."))
                seen.add(item.key)
        self.machine_keys = [m.key for m in problem.machines]
        self.machine_index = {key: i for i, key in enumerate(self.machine_keys)}
        self.job_keys = [j.key for j in problem.jobs]
        self.job_index = {key: i for i, key in enumerate(self.job_keys)}
        self.op_keys = [o.key for o in problem.operations]
        self.op_index = {key: i for i, key in enumerate(self.op_keys)}
        self.n = len(problem.operations)
        self.now = problem.now

        families: dict[str | None, int] = {None: 0}

        def family_id(name: str | None) -> int:
            return families.setdefault(name, len(families))

        self.job_due = [j.due for j in problem.jobs]
        self.job_weight = [j.weight for j in problem.jobs]
        self.job_release = [j.release for j in problem.jobs]
        for job in problem.jobs:
            if job.weight < 0:
                reasons.append(Reason("negative_weight", (job.key,), f"Job {job.key!r} has a negative weight."))
        self.job_ops: list[list[int]] = [[] for _ in problem.jobs]
        self.job_of: list[int] = []
        self.family: list[int] = []
        self.resumable: list[bool] = []
        self.candidates: list[list[tuple[int, int]]] = []
        for i, op in enumerate(problem.operations):
            job = self.job_index.get(op.job)
            if job is None:
                reasons.append(Reason("unknown_job", (op.key,), f"Operation {op.key!r} belongs to unknown job {op.job!r}."))
                job = 0
            self.job_of.append(job)
            if job < len(self.job_ops):
                self.job_ops[job].append(i)
            family = op.family if op.family is not None else (problem.jobs[job].family if problem.jobs else None)
            self.family.append(family_id(family))
            self.resumable.append(op.resumable)
            candidates = []
            for machine_key, work in op.durations.items():
                machine = self.machine_index.get(machine_key)
                if machine is None:
                    reasons.append(Reason("unknown_machine", (op.key, machine_key), f"Operation {op.key!r} names unknown machine {machine_key!r}."))
                elif not isinstance(work, int) or isinstance(work, bool):
                    reasons.append(Reason("invalid_duration", (op.key, machine_key), f"Operation {op.key!r} has a non-integer duration on {machine_key!r}."))
                elif work < 0:
                    reasons.append(Reason("negative_duration", (op.key, machine_key), f"Operation {op.key!r} has a negative duration ({work}) on machine {machine_key!r}."))
                else:
                    candidates.append((machine, work))
            if not op.durations and op.status == TaskStatus.PLANNED:
                reasons.append(Reason("no_eligible_machine", (op.key,), f"Operation {op.key!r} has no eligible machine."))
            self.candidates.append(sorted(candidates))

        self.calendars = [Calendar(m.windows) for m in problem.machines]
        for machine in problem.machines:
            for window in machine.windows:
                if window.end < window.start:
                    reasons.append(Reason("invalid_window", (machine.key,), f"Machine {machine.key!r} has a window ending before it starts ({window.start}, {window.end})."))
        self.machine_has_windows = [c.has_windows for c in self.calendars]
        for machine in problem.machines:
            family_id(machine.initial_family)
            if machine.setups:
                for a, b in machine.setups.changes:
                    family_id(a)
                    family_id(b)
        self.family_names = [None] * len(families)
        for name, idx in families.items():
            self.family_names[idx] = name
        self.num_families = len(families)
        self.setup: list[list[list[int]] | None] = []
        for machine in problem.machines:
            matrix = None
            if machine.setups is not None:
                names = self.family_names
                matrix = [[machine.setups.minutes(a, b) for b in names] for a in names]
                if any(v < 0 for row in matrix for v in row):
                    reasons.append(Reason("negative_setup", (machine.key,), f"Machine {machine.key!r} has a negative setup time."))
                if not any(v for row in matrix for v in row):
                    matrix = None
            self.setup.append(matrix)
        self.initial_family: list[int | None] = [
            None if m.initial_family is None else families[m.initial_family] for m in problem.machines
        ]

    def _compile_arcs(self, problem: Problem, reasons: list[Reason]) -> None:
        self.arcs: list[Arc] = []
        self.preds: list[list[Arc]] = [[] for _ in range(self.n)]
        self.succs: list[list[Arc]] = [[] for _ in range(self.n)]
        for p in problem.precedences:
            before, after = self.op_index.get(p.before), self.op_index.get(p.after)
            if before is None or after is None:
                missing = tuple(k for k in (p.before, p.after) if k not in self.op_index)
                reasons.append(Reason("unknown_operation", missing, f"A precedence names unknown operation(s) {', '.join(map(repr, missing))}."))
                continue
            lags = (p.finish_to_start, p.start_to_start, p.end_to_end)
            if any(lag is not None and lag < 0 for lag in lags):
                reasons.append(Reason("negative_lag", (p.before, p.after), f"The precedence {p.before!r} -> {p.after!r} has a negative lag."))
                continue
            if all(lag is None for lag in lags):
                reasons.append(Reason("empty_precedence", (p.before, p.after), f"The precedence {p.before!r} -> {p.after!r} has no lag at all."))
                continue
            arc = Arc(before, after, *lags)
            self.arcs.append(arc)
            self.preds[after].append(arc)
            self.succs[before].append(arc)
        # Kahn's algorithm; whatever is left lies on or behind a cycle.
        indegree = [len(self.preds[i]) for i in range(self.n)]
        queue = deque(i for i in range(self.n) if indegree[i] == 0)
        order: list[int] = []
        while queue:
            i = queue.popleft()
            order.append(i)
            for arc in self.succs[i]:
                indegree[arc.after] -= 1
                if indegree[arc.after] == 0:
                    queue.append(arc.after)
        if len(order) < self.n:
            cycle = self._find_cycle(set(range(self.n)) - set(order))
            keys = tuple(self.op_keys[i] for i in cycle)
            reasons.append(Reason("precedence_cycle", keys, "The precedences form a cycle: " + " -> ".join(keys + keys[:1]) + "."))
        self.topo = order
        # Operations whose end is bounded by a successor's end need no completion term.
        self.job_sinks: list[list[int]] = []
        for ops in self.job_ops:
            sinks = [
                i for i in ops
                if not any(
                    (a.finish_to_start is not None or a.end_to_end is not None) and self.job_of[a.after] == self.job_of[i]
                    for a in self.succs[i]
                )
            ]
            self.job_sinks.append(sinks)

    def _find_cycle(self, nodes: set[int]) -> list[int]:
        start = min(nodes)
        path: list[int] = []
        position: dict[int, int] = {}
        node = start
        while node not in position:
            position[node] = len(path)
            path.append(node)
            node = next(a.after for a in self.succs[node] if a.after in nodes)
        return path[position[node]:]

    # -- fixed, pinned and frozen operations -----------------------------------------------

    def _compile_fixed(self, problem: Problem, reasons: list[Reason]) -> None:
        self.fixed: list[Fixed | None] = [None] * self.n
        latest_finished: dict[int, tuple[int, int]] = {}
        for i, op in enumerate(problem.operations):
            if op.status == TaskStatus.PLANNED:
                continue
            machine = self.machine_index.get(op.machine) if op.machine is not None else None
            if machine is None or op.start is None:
                reasons.append(Reason("incomplete_fixed_operation", (op.key,), f"The {op.status} operation {op.key!r} needs a known machine and a start."))
                continue
            if op.status == TaskStatus.FINISHED:
                if op.end is None or op.end < op.start:
                    reasons.append(Reason("incomplete_fixed_operation", (op.key,), f"The finished operation {op.key!r} needs an end not before its start."))
                    continue
                self.fixed[i] = Fixed(machine, op.start, op.end, None, None, "finished")
                if machine not in latest_finished or latest_finished[machine][0] < op.end:
                    latest_finished[machine] = (op.end, i)
            else:
                if op.remaining is None or op.remaining < 0:
                    reasons.append(Reason("incomplete_fixed_operation", (op.key,), f"The started operation {op.key!r} needs its remaining minutes (0 or more)."))
                    continue
                calendar = self.calendars[machine]
                if op.remaining == 0:
                    self.fixed[i] = Fixed(machine, op.start, max(op.start, self.now), None, None, "started")
                else:
                    ws = calendar.working(self.now)
                    end = calendar.end_of(ws, op.remaining)
                    self.fixed[i] = Fixed(machine, op.start, end, ws, ws + op.remaining, "started")
        for m, (_, i) in latest_finished.items():
            if self.initial_family[m] is None:
                self.initial_family[m] = self.family[i]
        self._check_fixed_overlaps(reasons, lambda f: True, "fixed_overlap")

    def _check_fixed_overlaps(self, reasons: list[Reason] | None, include, code: str) -> list[tuple[int, int]]:
        """Report (when ``reasons`` is given) and return pairs of fixed ops that overlap."""
        by_machine: dict[int, list[int]] = defaultdict(list)
        for i, f in enumerate(self.fixed):
            if f is not None and f.wstart is not None and include(f):
                by_machine[f.machine].append(i)
        clashes: list[tuple[int, int]] = []
        for m, ops in by_machine.items():
            ops.sort(key=lambda i: (self.fixed[i].wstart, self.fixed[i].wend))
            last = None
            for i in ops:
                if last is not None and self.fixed[i].wstart < self.fixed[last].wend:
                    if reasons is not None:
                        a, b = self.op_keys[last], self.op_keys[i]
                        reasons.append(Reason(code, (a, b), f"Operations {a!r} and {b!r} are both fixed on machine {self.machine_keys[m]!r} at overlapping times."))
                    clashes.append((last, i))
                    continue
                last = i
        return clashes

    def _compile_pins(self, problem: Problem, reasons: list[Reason]) -> None:
        self.pinned_start: list[int | None] = [None] * self.n
        for i, op in enumerate(problem.operations):
            if op.status != TaskStatus.PLANNED:
                continue
            candidates = self.candidates[i]
            if op.pinned_machine is not None:
                m = self.machine_index.get(op.pinned_machine)
                candidates = [(mm, w) for mm, w in candidates if mm == m]
                if not candidates:
                    reasons.append(Reason("pinned_machine_not_eligible", (op.key, op.pinned_machine), f"Operation {op.key!r} is pinned to machine {op.pinned_machine!r}, which cannot do it."))
                    continue
            if op.pinned_start is not None:
                start = op.pinned_start
                if start < self.now:
                    reasons.append(Reason("pinned_start_in_past", (op.key,), f"Operation {op.key!r} is pinned to start at {start}, before now ({self.now})."))
                    continue
                release = self.job_release[self.job_of[i]]
                if start < release:
                    reasons.append(Reason("pinned_start_before_release", (op.key,), f"Operation {op.key!r} is pinned to start at {start}, before its job's release ({release})."))
                    continue
                valid = [(m, w) for m, w in candidates if w == 0 or self._valid_start(i, m, w, start)]
                if not valid:
                    reasons.append(Reason("pinned_start_off_shift", (op.key,), f"Operation {op.key!r} cannot start at {start} on its machine(s): the machine is not working then or the operation would overlap a window it may not span."))
                    continue
                candidates = valid
                self.pinned_start[i] = start
                # A start pinned where only one machine can take it fixes the operation.
                if len(candidates) == 1 and (op.pinned_machine is not None or len(op.durations) == 1):
                    m, w = candidates[0]
                    ws = self.calendars[m].working(start)
                    end = start if w == 0 else self.calendars[m].end_of(ws, w)
                    self.fixed[i] = Fixed(m, start, end, ws if w else None, ws + w if w else None, "pinned")
            self.candidates[i] = candidates
        self._check_fixed_overlaps(reasons, lambda f: True, "pinned_overlaps_fixed")

    def _valid_start(self, i: int, m: int, work: int, start: int) -> bool:
        calendar = self.calendars[m]
        return calendar.is_working(start) and calendar.fits(calendar.working(start), work, self.resumable[i])

    def _compile_previous(self, problem: Problem) -> None:
        self.prev_machine: list[int | None] = [None] * self.n
        self.prev_start: list[int | None] = [None] * self.n
        for a in problem.previous:
            i = self.op_index.get(a.operation)
            m = self.machine_index.get(a.machine)
            if i is None or m is None:
                self.warnings.append(f"The previous schedule names unknown operation {a.operation!r} or machine {a.machine!r}; ignored.")
                continue
            self.prev_machine[i] = m
            self.prev_start[i] = a.start
        self.frozen_until = problem.frozen_until
        self.released: list[int] = []
        frozen: list[int] = []
        if problem.frozen_until is not None:
            for i in range(self.n):
                if self.prev_start[i] is None or self.prev_start[i] >= problem.frozen_until:
                    continue
                if problem.operations[i].status != TaskStatus.PLANNED:
                    continue
                f = self.fixed[i]
                if f is not None:
                    # Pinned elsewhere by the planner: the pin wins over the freeze.
                    if (f.machine, f.start) != (self.prev_machine[i], self.prev_start[i]):
                        self.released.append(i)
                        self.warnings.append(f"Operation {self.op_keys[i]!r} starts in the frozen horizon but is pinned elsewhere; the pin wins.")
                    continue
                m, start = self.prev_machine[i], self.prev_start[i]
                work = dict(self.candidates[i]).get(m)
                if self.pinned_start[i] is not None or work is None or start < self.now or (work and not self._valid_start(i, m, work, start)):
                    self.released.append(i)
                    self.warnings.append(f"Operation {self.op_keys[i]!r} starts in the frozen horizon but can no longer run on {self.machine_keys[m]!r} at {start}; it is planned anew.")
                    continue
                ws = self.calendars[m].working(start)
                end = start if work == 0 else self.calendars[m].end_of(ws, work)
                self.fixed[i] = Fixed(m, start, end, ws if work else None, ws + work if work else None, "frozen")
                frozen.append(i)
        self._release_frozen(frozen)

    def _release_frozen(self, frozen: list[int]) -> None:
        # Frozen placements that clash with firmer ones (or each other) are released.
        while True:
            clashes = []
            for a, b in self._check_fixed_overlaps(None, lambda f: True, ""):
                # Release the frozen one of the pair (the later if both are frozen).
                clashes.append(b if self.fixed[b].why == "frozen" else a)
            clashes = [i for i in clashes if self.fixed[i].why == "frozen"]
            late = [i for i in frozen if self.fixed[i] is not None and self.fixed[i].why == "frozen" and self._violates_predecessors(i)]
            bad = set(clashes) | set(late)
            if not bad:
                return
            for i in sorted(bad):
                self.released.append(i)
                self.warnings.append(f"Operation {self.op_keys[i]!r} starts in the frozen horizon but its place now clashes with other fixed work or its predecessors; it is planned anew.")
                self.fixed[i] = None

    # -- temporal consistency --------------------------------------------------------------

    def earliest(self, i: int) -> int:
        """Lower bound on the start of an operation from now, its release and the freeze."""
        bound = max(self.now, self.job_release[self.job_of[i]])
        f = self.fixed[i]
        pinned = self.pinned_start[i] is not None or (f is not None and f.why in ("frozen", "pinned"))
        if self.frozen_until is not None and not pinned:
            bound = max(bound, self.frozen_until)
        return bound

    def _violates_predecessors(self, i: int) -> bool:
        """Whether a frozen or pinned op sits earlier than its predecessors allow."""
        t = self.timing()
        f = self.fixed[i]
        start, end = (f.start, f.end) if f is not None else (self.pinned_start[i], None)
        if start < t.need_start[i]:
            return True
        return t.need_end[i] is not None and end is not None and end < t.need_end[i]

    def timing(self) -> _Timing:
        """Capacity-free earliest placement of every operation on its most favourable
        machine (calendars included), with what each needs from its predecessors."""
        n = self.n
        t = _Timing([0] * n, [0] * n, [0] * n, [None] * n, [None] * n, [None] * n)
        for i in self.topo:
            f = self.fixed[i]
            if f is not None and f.why in ("finished", "started"):
                t.es[i], t.ef[i], t.need_start[i] = f.start, f.end, f.start
                continue
            ready, why = self.earliest(i), None
            target, target_why = None, None
            for arc in self.preds[i]:
                b = arc.before
                if arc.finish_to_start is not None and t.ef[b] + arc.finish_to_start > ready:
                    ready, why = t.ef[b] + arc.finish_to_start, b
                if arc.start_to_start is not None and t.es[b] + arc.start_to_start > ready:
                    ready, why = t.es[b] + arc.start_to_start, b
                if arc.end_to_end is not None and (target is None or t.ef[b] + arc.end_to_end > target):
                    target, target_why = t.ef[b] + arc.end_to_end, b
            t.need_start[i], t.why_start[i] = ready, why
            t.need_end[i], t.why_end[i] = target, target_why
            if f is not None:
                t.es[i], t.ef[i] = f.start, f.end
                continue
            placements = []
            for m, work in self.candidates[i]:
                calendar = self.calendars[m]
                pinned = self.pinned_start[i]
                if pinned is not None:
                    end = pinned if work == 0 else calendar.end_of(calendar.working(pinned), work)
                    placements.append((pinned, end))
                elif work == 0:
                    start = max(ready, target if target is not None else ready)
                    placements.append((start, start))
                else:
                    wmin = calendar.working(ready)
                    if target is not None:
                        wmin = max(wmin, calendar.working(target - 1) + 1 - work)
                    ws = calendar.earliest_fit(wmin, work, self.resumable[i])
                    placements.append((calendar.elapsed_start(ws), calendar.end_of(ws, work)))
            t.es[i] = min((p[0] for p in placements), default=ready)
            t.ef[i] = min((p[1] for p in placements), default=ready)
            if self.pinned_start[i] is not None and target is not None:
                # A pinned op may use the machine that ends it late enough.
                late_enough = [p[1] for p in placements if p[1] >= target]
                t.ef[i] = min(late_enough) if late_enough else max(p[1] for p in placements)
        return t

    def _check_temporal(self, reasons: list[Reason]) -> None:
        """Pinned operations must be reachable in time from fixed work and other pins."""
        t = self.timing()
        for i in self.topo:
            f = self.fixed[i]
            pinned = self.pinned_start[i]
            if pinned is None:
                continue
            late_start = t.need_start[i] > pinned
            end = f.end if f is not None else t.ef[i]
            late_end = t.need_end[i] is not None and end < t.need_end[i]
            if not late_start and not late_end:
                continue
            chain = [i]
            links = t.why_start if late_start else t.why_end
            while links[chain[-1]] is not None and len(chain) <= self.n:
                chain.append(links[chain[-1]])
                links = t.why_start
                last = chain[-1]
                if self.fixed[last] is not None or self.pinned_start[last] is not None:
                    break
            keys = tuple(self.op_keys[j] for j in chain)
            what = f"start before {t.need_start[i]}" if late_start else f"end before {t.need_end[i]}"
            reasons.append(Reason(
                "pinned_start_violates_precedence", keys,
                f"Operation {keys[0]!r} is pinned to start at {pinned}, but its predecessors "
                f"({', '.join(map(repr, keys[1:]))}) do not let it {what}.",
            ))

    # -- objective ---------------------------------------------------------------------------

    def _compile_objective(self, problem: Problem) -> None:
        objective = problem.objective
        if objective is None:
            objective = Objective.rescheduling() if problem.previous else Objective()
        self.objective = objective
        self.levels: list[list[tuple[Term, int]]] = [
            [(Term(term), int(weight)) for term, weight in level.items() if weight] for level in objective.levels
        ]
        self.terms = objective.terms()

    # -- helpers -------------------------------------------------------------------------------

    def is_fixed(self, i: int) -> bool:
        return self.fixed[i] is not None

    def setup_minutes(self, m: int, before: int | None, after: int) -> int:
        matrix = self.setup[m]
        if matrix is None or before is None:
            return 0
        return matrix[before][after]

    def work(self, i: int, m: int) -> int:
        for mm, w in self.candidates[i]:
            if mm == m:
                return w
        raise KeyError((i, m))
