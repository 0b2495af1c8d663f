"""Large-neighbourhood search around CP-SAT that always keeps a feasible incumbent.

Each step frees a few operations (a time window, the jobs that decide the objective, a
machine's load, the critical path), keeps the others on their machines and in their order
(near the freed ones) or at their times (far away), solves that small model with CP-SAT
seeded with the incumbent, left-shifts the answer with the decoder and keeps it when it is
no worse. Neighbourhoods that pay off are chosen more often and their size adapts to how
quickly CP-SAT closes them.
"""

from __future__ import annotations

import random
import threading
import time
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass

from ortools.sat.python import cp_model

from mes.scheduling.engine.instance import Instance
from mes.scheduling.engine.cpsat import Neighbourhood, ScheduleModel
from mes.scheduling.engine.plan import Plan, score
from mes.scheduling.engine.problem import Term


@dataclass
class Move:
    """Statistics of one neighbourhood kind, for the adaptive choice."""

    name: str
    size: int = 0
    weight: float = 1.0
    tries: int = 0
    wins: int = 0


class LargeNeighbourhoodSearch:
    """Improves ``incumbent`` until ``deadline`` (time.monotonic()) or until stopped."""

    def __init__(self, instance: Instance, incumbent: Plan, deadline: float, workers: int,
                 seed: int = 0, on_improve: Callable[[Plan, tuple[int, ...]], None] | None = None,
                 should_stop: Callable[[], bool] = lambda: False,
                 register_solver: Callable[[cp_model.CpSolver, bool], None] = lambda solver, active: None,
                 lower_bound: int | None = None):
        self.inst = instance
        self.best = incumbent
        self.best_score = score(instance, incumbent)
        self.deadline = deadline
        self.workers = workers
        self.rng = random.Random(seed)
        self.on_improve = on_improve
        self.should_stop = should_stop
        self.register_solver = register_solver
        self.lower_bound = lower_bound
        self.movable = [i for i in range(instance.n) if instance.fixed[i] is None]
        self.has_calendars = any(instance.machine_has_windows)
        self.has_setups = any(matrix is not None for matrix in instance.setup)
        # Without calendars or setups every op can stay in the model cheaply (kept in order).
        self.keep_all = not self.has_calendars and not self.has_setups and len(self.movable) <= 2000
        self.size = min(len(self.movable), 40 if self.keep_all else 60)
        self.min_size = min(len(self.movable), 8)
        self.max_size = min(len(self.movable), 400)
        # Short sub-solves: CP-SAT closes a good neighbourhood in well under a second.
        self.sub_limit = 0.3
        primary = [term for term, _ in instance.levels[0]] if instance.levels else []
        self.makespan_first = primary == [Term.MAKESPAN]
        names = ["window", "jobs", "machine", "random"]
        if self.makespan_first:
            names.append("critical")
        self.moves = [Move(name, self.size) for name in names]
        self.iterations = 0
        self.improvements = 0
        self.compaction = False
        self.stuck = 0
        self.stuck_limit = 12
        # How far (minutes) a freed operation may move in a rich problem.
        self.slack = 1440
        self.keep_shift = 480
        self._index_of = None
        self._sequences_of = None
        # With one objective term, ask every neighbourhood for a strict improvement: CP-SAT
        # then often proves quickly that there is none, and the size grows.
        self.strict = len(instance.levels) == 1
        if self.strict:
            self.sub_limit = 0.5
        # Independent neighbourhoods on single-worker solvers use the cores best.
        self.threads = max(1, workers)
        self.lock = threading.RLock()
        self.best_key = self._key(incumbent)

    def _key(self, plan: Plan) -> tuple:
        # Total end time breaks ties: a plan that finishes work earlier leaves more room.
        return (*score(self.inst, plan), sum(plan.end))

    # -- neighbourhoods --------------------------------------------------------------------

    def _window(self, k: int) -> set[int]:
        ops = sorted(self.movable, key=lambda i: self.best.start[i])
        first = self.rng.randrange(max(1, len(ops) - k + 1))
        return set(ops[first:first + k])

    def _jobs(self, k: int) -> set[int]:
        """A costly job (by weighted lateness) and the operations queued around its own."""
        inst, plan = self.inst, self.best
        late = []
        for j, ops in enumerate(inst.job_ops):
            if not any(inst.fixed[i] is None for i in ops):
                continue
            completion = max(plan.end[i] for i in ops)
            due = inst.job_due[j]
            lateness = completion - due if due is not None else completion - inst.job_release[j]
            late.append((lateness * max(1, inst.job_weight[j]), j))
        if not late:
            return self._window(k)
        late.sort(reverse=True)
        pool = [j for _, j in late[: max(3, len(late) // 5)]]
        chosen: set[int] = set()
        sequences = self._sequences()
        position = self._positions()
        while len(chosen) < k and pool:
            j = self.rng.choice(pool)
            pool.remove(j)
            ops = [i for i in inst.job_ops[j] if inst.fixed[i] is None]
            chosen.update(ops)
            reach = max(1, (k - len(chosen)) // max(1, 2 * len(ops)))
            for i in ops:
                seq = sequences[plan.machine[i]]
                p = position.get(i)
                if p is None:
                    continue
                for q in seq[max(0, p - 2 * reach):p + reach + 1]:
                    if inst.fixed[q] is None:
                        chosen.add(q)
        return chosen

    def _machine(self, k: int) -> set[int]:
        """Consecutive operations on one busy machine, and their rivals on its sister machines."""
        inst, plan = self.inst, self.best
        sequences = self._sequences()
        loads = [sum(plan.end[i] - plan.start[i] for i in seq) for seq in sequences]
        total = sum(loads)
        if not total:
            return self._window(k)
        pick = self.rng.random() * total
        m = 0
        for m, load in enumerate(loads):
            pick -= load
            if pick <= 0:
                break
        seq = [i for i in sequences[m] if inst.fixed[i] is None]
        if not seq:
            return self._window(k)
        length = max(2, (2 * k) // 3)
        first = self.rng.randrange(max(1, len(seq) - length + 1))
        chosen = set(seq[first:first + length])
        lo = min(plan.start[i] for i in chosen)
        hi = max(plan.end[i] for i in chosen)
        sisters = {mm for i in chosen for mm, _ in inst.candidates[i]} - {m}
        rivals = [i for mm in sisters for i in sequences[mm] if inst.fixed[i] is None and plan.end[i] > lo and plan.start[i] < hi]
        self.rng.shuffle(rivals)
        chosen.update(rivals[: max(0, k - len(chosen))])
        return chosen

    def _sequences(self) -> list[list[int]]:
        if self._sequences_of is not self.best:
            self._seq_cache = self.best.sequences(self.inst)
            self._pos_cache = {i: p for seq in self._seq_cache for p, i in enumerate(seq)}
            self._sequences_of = self.best
        return self._seq_cache

    def _positions(self) -> dict[int, int]:
        self._sequences()
        return self._pos_cache

    def _random(self, k: int) -> set[int]:
        return set(self.rng.sample(self.movable, min(k, len(self.movable))))

    def _critical(self, k: int) -> set[int]:
        path = self._critical_path()
        if not path:
            return self._window(k)
        if len(path) > k:
            first = self.rng.randrange(len(path) - k + 1)
            path = path[first:first + k]
        chosen = set(path)
        plan = self.best
        lo = min(plan.start[i] for i in chosen)
        hi = max(plan.end[i] for i in chosen)
        rest = [i for i in self.movable if i not in chosen and plan.end[i] > lo and plan.start[i] < hi]
        self.rng.shuffle(rest)
        chosen.update(rest[: max(0, k - len(chosen))])
        return chosen

    def _critical_path(self) -> list[int]:
        """Operations that determine the makespan, walking back along tight constraints."""
        inst, plan = self.inst, self.best
        sequences = plan.sequences(inst)
        prev_on_machine: dict[int, int] = {}
        for seq in sequences:
            for a, b in zip(seq, seq[1:]):
                prev_on_machine[b] = a
        current = max(range(inst.n), key=lambda i: plan.end[i])
        path = []
        seen = set()
        while current is not None and current not in seen:
            seen.add(current)
            if inst.fixed[current] is None:
                path.append(current)
            start = plan.start[current]
            nxt = None
            candidates = []
            p = prev_on_machine.get(current)
            if p is not None and plan.end[p] + plan.setup[current] >= start:
                candidates.append(p)
            for arc in inst.preds[current]:
                a = arc.before
                if (arc.finish_to_start is not None and plan.end[a] + arc.finish_to_start >= start) or (
                    arc.start_to_start is not None and plan.start[a] + arc.start_to_start >= start
                ):
                    candidates.append(a)
            if candidates:
                nxt = self.rng.choice(candidates)
            current = nxt
        path.reverse()
        return path

    # -- one step ----------------------------------------------------------------------------

    def _neighbourhood(self, free: set[int]) -> tuple[Neighbourhood, int]:
        inst, plan = self.inst, self.best
        makespan = max(plan.end)
        span = max(1, makespan - inst.now)
        horizon = makespan if self.makespan_first else makespan + max(60, span // 5)
        hood = Neighbourhood(free=free)
        if self.keep_all:
            hood.keep = set(self.movable) - free
            if self.has_calendars or self.has_setups:
                # Everything may shift a little (cheap: few calendar boundaries in range),
                # freed operations further.
                for i in hood.keep:
                    hood.lo[i] = max(inst.earliest(i), plan.start[i] - self.keep_shift)
                    hood.hi[i] = max(plan.start[i], min(horizon, plan.start[i] + self.keep_shift))
                for i in free:
                    hood.lo[i] = max(inst.earliest(i), plan.start[i] - self.slack)
                    hood.hi[i] = max(plan.start[i], min(horizon, plan.start[i] + self.slack))
            return hood, horizon
        # Each freed op may move by ``slack``; what shares a machine with it in that span, and
        # its direct predecessors and successors, may shift a little; the rest stays put.
        slack, shift = self.slack, self.slack // 2
        by_machine = self._machine_index()
        keep: set[int] = set()
        for f in free:
            lo, hi = plan.start[f] - slack, plan.end[f] + slack
            for m, _ in inst.candidates[f]:
                starts, ops = by_machine[m]
                k = bisect_right(starts, lo - self.longest[m])
                while k < len(ops) and starts[k] <= hi:
                    i = ops[k]
                    if plan.end[i] > lo and i not in free and inst.fixed[i] is None:
                        keep.add(i)
                    k += 1
            for arc in inst.preds[f]:
                keep.add(arc.before)
            for arc in inst.succs[f]:
                keep.add(arc.after)
        keep -= free
        keep = {i for i in keep if inst.fixed[i] is None}
        hood.keep = keep
        for i in free:
            hood.lo[i] = max(inst.earliest(i), plan.start[i] - slack)
            hood.hi[i] = max(plan.start[i], min(horizon, plan.start[i] + slack))
        for i in keep:
            hood.lo[i] = max(inst.earliest(i), plan.start[i] - shift)
            hood.hi[i] = max(plan.start[i], min(horizon, plan.start[i] + shift))
        return hood, horizon

    def _machine_index(self) -> list[tuple[list[int], list[int]]]:
        """Per machine, the incumbent's operations sorted by start (cached per incumbent)."""
        if self._index_of is not self.best:
            plan = self.best
            index = [([], []) for _ in self.inst.machine_keys]
            longest = [0] * len(self.inst.machine_keys)
            for i in sorted(range(self.inst.n), key=lambda i: plan.start[i]):
                m = plan.machine[i]
                index[m][0].append(plan.start[i])
                index[m][1].append(i)
                longest[m] = max(longest[m], plan.end[i] - plan.start[i])
            self._index, self.longest, self._index_of = index, longest, plan
        return self._index

    def _choose_move(self) -> Move:
        total = sum(move.weight for move in self.moves)
        pick = self.rng.random() * total
        for move in self.moves:
            pick -= move.weight
            if pick <= 0:
                return move
        return self.moves[-1]

    def step(self, workers: int | None = None) -> bool:
        remaining = self.deadline - time.monotonic()
        if remaining < 0.05:
            return False
        with self.lock:
            move = self._choose_move()
            free = getattr(self, "_" + move.name)(move.size)
            if not free:
                return False
            hood, horizon = self._neighbourhood(free)
            # When strict steps keep failing, walk to an equally good plan chosen by a random
            # tie-break: the search leaves the local optimum it is stuck in.
            walk = self.strict and self.stuck >= self.stuck_limit
            tie_break = {i: self.rng.choice((-1, 1)) for i in free} if walk else None
            model = ScheduleModel(self.inst, hood, self.best, horizon, compaction=self.compaction,
                                  tie_break=tie_break)
            model.add_hints()
            if self.strict and not walk:
                model.bound_primary(self.best_score[0] - 1)
            seed = self.rng.randrange(1 << 30)
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = max(0.01, min(self.sub_limit, self.deadline - time.monotonic()))
        solver.parameters.num_workers = workers or self.workers
        solver.parameters.random_seed = seed
        self.register_solver(solver, True)
        try:
            status = solver.solve(model.model)
        finally:
            self.register_solver(solver, False)
        with self.lock:
            return self._after(model, solver, status, move, walk)

    def _after(self, model, solver, status, move, walk: bool = False) -> bool:
        self.iterations += 1
        move.tries += 1
        improved = False
        if walk:
            self.stuck = self.stuck_limit // 2
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            plan = model.extract(solver)
            if plan is not None:
                value = score(self.inst, plan)
                key = self._key(plan)
                if key <= self.best_key or (walk and value <= self.best_score):
                    improved = value < self.best_score
                    self.best, self.best_score, self.best_key = plan, value, key
                    if improved:
                        self.improvements += 1
                        move.wins += 1
                        if self.on_improve:
                            self.on_improve(plan, value)
        if not walk:
            self.stuck = 0 if improved else self.stuck + 1
        # Reward moves that improve; decay the others slowly so all stay in play.
        move.weight = max(0.2, 0.9 * move.weight + (1.0 if improved else 0.0))
        wall = solver.wall_time
        # Each kind of neighbourhood finds the size CP-SAT closes within the sub-limit.
        closed = status in (cp_model.OPTIMAL, cp_model.INFEASIBLE)
        if closed and wall < 0.5 * self.sub_limit:
            move.size = min(self.max_size, int(move.size * 1.15) + 1)
        elif not closed:
            move.size = max(self.min_size, int(move.size * 0.85))
        self.size = move.size
        return True

    def adopt(self, plan: Plan) -> None:
        """Take a better plan found elsewhere (the priority search) as the incumbent."""
        with self.lock:
            value = score(self.inst, plan)
            if value < self.best_score:
                self.best, self.best_score, self.best_key = plan, value, self._key(plan)

    def done(self) -> bool:
        if self.should_stop() or time.monotonic() >= self.deadline - 0.05:
            return True
        return self.lower_bound is not None and len(self.best_score) == 1 and self.best_score[0] <= self.lower_bound

    def run(self) -> Plan:
        if self.threads <= 1:
            while not self.done() and self.step():
                pass
            return self.best

        errors: list[BaseException] = []

        def loop() -> None:
            try:
                while not errors and not self.done() and self.step(workers=1):
                    pass
            except BaseException as error:  # re-raised below: a bug must not vanish in a thread
                errors.append(error)

        threads = [threading.Thread(target=loop, daemon=True) for _ in range(self.threads)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        return self.best
