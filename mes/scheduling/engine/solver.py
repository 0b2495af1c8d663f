"""The public entry point: ``solve(problem)`` returns the best plan found in the time limit.

Order of work: validate; build a plan at once (dispatch rules, and a repair of the previous
schedule when there is one); then improve it with CP-SAT on the whole model while that is
small, and with large-neighbourhood search for the rest of the time. Plain flexible job
shops instead get a critical-path tabu search on one core for the whole run, and on every
core once the whole model has had its share; large due-date shops get a priority search on
every core. Each runs in a child process of its own (so that none waits for the
interpreter lock the CP-SAT side takes), trading plans with the others. A plan is
available from the first milliseconds, so a time-out or a stop request still returns the
best one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ortools.sat.python import cp_model

from mes.scheduling.engine.calendar import Calendar
from mes.scheduling.engine.child import ChildSearch
from mes.scheduling.engine.heuristic import Rule, default_rules, dispatch
from mes.scheduling.engine.instance import Instance
from mes.scheduling.engine.lns import LargeNeighbourhoodSearch
from mes.scheduling.engine import localsearch
from mes.scheduling.engine.cpsat import Neighbourhood, ScheduleModel
from mes.scheduling.engine.plan import Plan, evaluate, levels, score
from mes.scheduling.engine import priority_search
from mes.scheduling.engine.priority_search import PrioritySearch
from mes.scheduling.engine.problem import (
    Phase,
    Problem,
    Progress,
    Reason,
    Result,
    ScheduledTask,
    SchedulingError,
    SolveStatus,
    Term,
    Window,
)

# Above this many movable operations (or with calendars and setups above the smaller
# figure) a monolithic model is not worth building; LNS does all the improving.
MONOLITHIC_LIMIT = 400
MONOLITHIC_LIMIT_RICH = 120
# Up to this many movable operations CP-SAT alone gets the whole time limit; also when
# operations have on average at most this many eligible machines (classic and nearly
# classic job shops, where CP-SAT's scheduling propagation beats neighbourhood search).
TINY = 64
LOW_FLEXIBILITY = 1.5
# Plain flexible job shops with more operations than this get the tabu search beside CP-SAT
# (below it CP-SAT alone proves optimality at once).
LOCAL_SEARCH_MIN = 20
# Otherwise the whole model gets this share of the time limit (at least the minimum).
MONOLITHIC_SHARE = 0.15
MONOLITHIC_MIN_SECONDS = 1.0
# The whole model starts again from a better plan found elsewhere at most this often.
MONOLITHIC_RESTARTS = 3


class _Solvers:
    """The CP-SAT solvers currently running, so that a stop request can reach them."""

    def __init__(self, stop: threading.Event | None):
        self.stop = stop
        self.active: set[cp_model.CpSolver] = set()
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.watcher = None
        if stop is not None:
            self.watcher = threading.Thread(target=self._watch, daemon=True)
            self.watcher.start()

    def _watch(self) -> None:
        while not self.done.is_set():
            if self.stop.wait(0.05):
                with self.lock:
                    for solver in self.active:
                        solver.stop_search()
                if self.done.wait(0.05):
                    return

    def stopped(self) -> bool:
        return self.stop is not None and self.stop.is_set()

    def register(self, solver: cp_model.CpSolver, active: bool) -> None:
        with self.lock:
            if active:
                self.active.add(solver)
                if self.stopped():
                    solver.stop_search()
            else:
                self.active.discard(solver)

    def close(self) -> None:
        self.done.set()


class _Incumbent:
    """Best plan so far, which phase found it, and progress reporting."""

    def __init__(self, instance: Instance, started: float, on_progress: Callable[[Progress], None] | None):
        self.inst = instance
        self.started = started
        self.on_progress = on_progress
        self.plan: Plan | None = None
        self.score: tuple[int, ...] | None = None
        self.phase = Phase.HEURISTIC
        self.lower_bound: int | None = None
        self.proven = False
        # Called with (plan, score, source) on every improvement: the tabu search takes
        # plans found by CP-SAT.
        self.listeners: list[Callable[[Plan, tuple[int, ...], object], None]] = []
        self.lock = threading.Lock()
        self.report_lock = threading.Lock()

    def offer(self, plan: Plan | None, phase: Phase, source: object = None) -> bool:
        if plan is None:
            return False
        value = score(self.inst, plan)
        with self.lock:
            if self.score is not None and value >= self.score:
                return False
            self.plan, self.score, self.phase = plan, value, phase
        for listener in list(self.listeners):  # the whole-model phase adds and removes one
            listener(plan, value, source)
        self.report()
        return True

    def bound(self, value: int | None) -> None:
        if value is not None and (self.lower_bound is None or value > self.lower_bound):
            self.lower_bound = value

    def report(self) -> None:
        if self.on_progress is not None and self.score is not None:
            with self.report_lock:
                self.on_progress(Progress(self.phase, self.score, self.lower_bound, time.monotonic() - self.started))


def solve(problem: Problem, time_limit: float = 10.0, workers: int = 2,
          progress: Callable[[Progress], None] | None = None,
          stop: threading.Event | None = None, seed: int = 0) -> Result:
    """Plan ``problem`` within ``time_limit`` seconds using ``workers`` CP-SAT threads.

    ``progress`` is called (from a solving thread, one call at a time) whenever the plan
    improves;
    setting ``stop`` ends the search early with the best plan so far. Raises
    ``SchedulingError`` naming the culprits when the problem is malformed or infeasible.
    """
    started = time.monotonic()
    deadline = started + max(0.0, time_limit)
    workers = max(1, int(workers))
    instance = Instance(problem)
    incumbent = _Incumbent(instance, started, progress)
    incumbent.bound(primary_lower_bound(instance))
    solvers = _Solvers(stop)
    try:
        rules = _initial_plans(instance, incumbent)
        if incumbent.plan is None:
            _first_plan_with_cp_sat(instance, incumbent, deadline, workers, solvers)
        movable = sum(1 for f in instance.fixed if f is None)
        rich = any(instance.machine_has_windows) and any(m is not None for m in instance.setup)
        limit = MONOLITHIC_LIMIT_RICH if rich else MONOLITHIC_LIMIT
        flexibility = sum(len(instance.candidates[i]) for i in range(instance.n)
                          if instance.fixed[i] is None) / max(1, movable)
        classic = flexibility <= LOW_FLEXIBILITY
        tabu = None
        if (movable > LOCAL_SEARCH_MIN and not classic and workers > 1 and not _finished(incumbent, deadline, solvers)
                and localsearch.applies(instance)):
            # Plain flexible job shop: a tabu search holds one core for the whole run and
            # the whole model uses the others, then more tabu searches (sharing the best plan).
            tabu = _TabuThread(instance, incumbent, deadline, solvers, seed)
            workers -= 1
        if movable and not _finished(incumbent, deadline, solvers):
            if movable <= limit:
                # Whole-model CP-SAT closes small and easy problems (with a proof); past
                # its share of the time, LNS improves faster (measured on Brandimarte).
                share = time_limit if movable <= TINY or classic else max(MONOLITHIC_MIN_SECONDS, MONOLITHIC_SHARE * time_limit)
                _monolithic(instance, incumbent, min(deadline, time.monotonic() + share), workers, solvers, seed,
                            strong=classic, until=deadline, tabu=tabu)
            if not _finished(incumbent, deadline, solvers):
                if movable > limit and _due_date_driven(instance):
                    _search_in_parallel(instance, incumbent, deadline, workers, solvers, seed, rules)
                elif tabu is not None:
                    _tabu_portfolio(instance, incumbent, deadline, workers, solvers, seed)
                else:
                    _large_neighbourhood_search(instance, incumbent, deadline, workers, solvers, seed)
        if tabu is not None:
            tabu.join()
    finally:
        solvers.close()
    return _result(instance, incumbent, time.monotonic() - started)


def _finished(incumbent: _Incumbent, deadline: float, solvers: _Solvers) -> bool:
    if incumbent.proven or solvers.stopped() or time.monotonic() >= deadline - 0.02:
        return True
    return (
        incumbent.lower_bound is not None and incumbent.score is not None
        and len(incumbent.score) >= 1 and incumbent.score[0] <= incumbent.lower_bound
        and all(v == 0 for v in incumbent.score[1:])
    )


def _initial_plans(instance: Instance, incumbent: _Incumbent) -> list[Rule]:
    """Offers the plan of every dispatch rule; returns the rules, best plan first."""
    ranked = []
    for k, rule in enumerate(default_rules(instance)):
        phase = Phase.REPAIR if rule.kind == "previous" else Phase.HEURISTIC
        plan = dispatch(instance, rule)
        incumbent.offer(plan, phase)
        if plan is not None:
            ranked.append((score(instance, plan), k, rule))
    return [rule for _, _, rule in sorted(ranked)]


def primary_lower_bound(instance: Instance) -> int | None:
    """A quick bound on the first level: the critical path for makespan, 0 otherwise."""
    level = instance.levels[0] if instance.levels else []
    if [term for term, _ in level] == [Term.MAKESPAN]:
        return max(instance.timing().ef, default=0) * level[0][1]
    return 0 if all(weight >= 0 for _, weight in level) else None


def _horizon(instance: Instance, plan: Plan | None) -> int:
    """A time by which some optimal plan has ended everything.

    For the regular terms, a semi-active plan starts each operation right after a chain of predecessors (on its
    machine or in its routing), so it ends within all the work, setups and lags after the
    latest fixed moment, in time when every machine works (the windows of all machines
    merged). The incumbent's makespan is used when larger.
    """
    movable = [i for i in range(instance.n) if instance.fixed[i] is None]
    total = sum(max((w for _, w in instance.candidates[i]), default=0) for i in movable)
    largest_setup = max((max(max(row) for row in matrix) for matrix in instance.setup if matrix), default=0)
    lags = sum(max(a.finish_to_start or 0, a.start_to_start or 0, a.end_to_end or 0) for a in instance.arcs)
    start = max([instance.now, instance.frozen_until or instance.now] + instance.job_release
                + [f.end for f in instance.fixed if f is not None])
    if Term.START_DEVIATION in instance.terms:
        # Staying near the previous plan may pay for idle time up to its latest start.
        start = max([start] + [p for p in instance.prev_start if p is not None])
    span = total + largest_setup * (len(movable) + 1) + lags + 1
    windows = [w for m in instance.problem.machines for w in m.windows]
    merged = Calendar([Window(w.start, w.end) for w in windows])
    # Non-resumable work must also fit between windows: allow one more round of every window.
    bound = merged.elapsed_end(merged.working(start) + span) + sum(w.end - w.start for w in windows)
    if plan is not None:
        bound = max(bound, max(plan.end, default=instance.now))
    return bound


def _monolithic(instance: Instance, incumbent: _Incumbent, deadline: float, workers: int,
                solvers: _Solvers, seed: int, strong: bool = False, until: float | None = None,
                tabu: _TabuThread | None = None) -> None:
    """CP-SAT on the whole problem, seeded with the incumbent; each solution it finds is
    offered at once, so progress shows and a stop keeps it.

    When the tabu search (in its own process) finds a better plan while the model solves,
    the solve starts again from that plan, up to ``MONOLITHIC_RESTARTS`` times: the tabu
    search's first plans come within tenths of a second, and CP-SAT proves optimality far
    sooner from a good hint (Brandimarte mk14: 0.7 s from the tabu search's 694, not within
    10 s from the dispatch plan's 719).

    The phase's time counts from the tabu search's first plan: on a busy machine its process
    starts slowly, and the plan could come after the phase had ended (mk14 with both cores
    taken by other work: never proven in 10 s). So the phase gets its time once more (up to
    ``until``) when the tabu search has not reported by its end, and a solve started again
    from a plan found elsewhere has at least ``MONOLITHIC_MIN_SECONDS``."""
    until = deadline if until is None else until
    share = deadline - time.monotonic()
    waited = False
    restarts = 0
    while deadline - time.monotonic() >= 0.05:
        outside = threading.Event()

        def improved_elsewhere(plan: Plan, value: tuple[int, ...], source: object) -> None:
            if source is not None:
                outside.set()
                solver.stop_search()

        solver = cp_model.CpSolver()
        listen = restarts < MONOLITHIC_RESTARTS
        if listen:
            incumbent.listeners.append(improved_elsewhere)
        try:
            _solve_whole_model(instance, incumbent, deadline, workers, solvers, seed, strong, solver, outside)
        finally:
            if listen:
                incumbent.listeners.remove(improved_elsewhere)
        if _finished(incumbent, until, solvers):
            return
        if outside.is_set():
            restarts += 1
            deadline = max(deadline, min(until, time.monotonic() + MONOLITHIC_MIN_SECONDS))
        elif tabu is not None and not tabu.reported.is_set() and not waited:
            waited = True
            deadline = min(until, time.monotonic() + share)
        else:
            return


def _solve_whole_model(instance: Instance, incumbent: _Incumbent, deadline: float, workers: int,
                       solvers: _Solvers, seed: int, strong: bool, solver: cp_model.CpSolver,
                       outside: threading.Event) -> None:
    plan = incumbent.plan
    hood = Neighbourhood(free={i for i in range(instance.n) if instance.fixed[i] is None})
    horizon = _horizon(instance, plan)
    # The horizon stays loose even for makespan: bounding every end by the incumbent's
    # makespan looks tighter but measurably slows CP-SAT down on Brandimarte.
    model = ScheduleModel(instance, hood, plan, horizon)
    model.add_hints()
    solver.parameters.max_time_in_seconds = max(0.01, deadline - time.monotonic())
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    # Where most operations have a single machine the no-overlaps are over mandatory
    # intervals, and the stronger disjunctive propagation pays for itself (measured on the
    # classic job shops: abz7 664-671 against 676-701 without it, same limit and workers).
    solver.parameters.use_strong_propagation_in_disjunctive = strong

    class Callback(cp_model.CpSolverSolutionCallback):
        def on_solution_callback(self) -> None:
            incumbent.bound(model.primary_bound(self))
            incumbent.offer(model.extract(self), Phase.CP_SAT)

    if outside.is_set():
        return  # a better plan came while the model was built: start again from it
    solvers.register(solver, True)
    try:
        status = solver.solve(model.model, Callback())
    finally:
        solvers.register(solver, False)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        incumbent.offer(model.extract(solver), Phase.CP_SAT)
        exact = model.levels_used == len(instance.levels) and not model.compaction
        if status == cp_model.OPTIMAL and exact:
            incumbent.proven = True
        incumbent.bound(model.primary_bound(solver))
    elif status == cp_model.INFEASIBLE and incumbent.plan is None:
        raise SchedulingError(Reason("infeasible", (), "The problem has no feasible plan."))


def _due_date_driven(instance: Instance) -> bool:
    """Due dates or flow time lead, and no stability term asks to stay near a previous plan."""
    primary = {term for term, _ in instance.levels[0]} if instance.levels else set()
    stability = {Term.MACHINE_CHANGES, Term.START_DEVIATION}
    return bool(primary & {Term.WEIGHTED_TARDINESS, Term.TOTAL_FLOW_TIME}) and not stability & set(instance.terms)


def _lns(instance: Instance, incumbent: _Incumbent, deadline: float, workers: int, solvers: _Solvers,
         seed: int) -> LargeNeighbourhoodSearch:
    def improved(plan: Plan, value: tuple[int, ...]) -> None:
        incumbent.offer(plan, Phase.LNS)

    return LargeNeighbourhoodSearch(
        instance, incumbent.plan, deadline, workers, seed=seed, on_improve=improved,
        should_stop=lambda: solvers.stopped() or _finished(incumbent, deadline, solvers),
        register_solver=solvers.register, lower_bound=incumbent.lower_bound,
    )


def _large_neighbourhood_search(instance: Instance, incumbent: _Incumbent, deadline: float,
                                workers: int, solvers: _Solvers, seed: int) -> None:
    _lns(instance, incumbent, deadline, workers, solvers, seed).run()


def _tabu_portfolio(instance: Instance, incumbent: _Incumbent, deadline: float, workers: int,
                    solvers: _Solvers, seed: int) -> None:
    """Past the whole model, the workers it used run tabu searches of their own (each with
    its own seed) beside the first one, all taking every better plan: on plain flexible
    job shops a second tabu search beats CP-SAT neighbourhoods (Brandimarte mk13 390 and
    mk15 333 in 10 s, against 394 and 333 with LNS; mk06/mk07 no worse)."""
    searches = [_TabuThread(instance, incumbent, deadline, solvers, seed + 7919 * k) for k in range(1, workers + 1)]
    for search in searches:
        search.join()


class _TabuThread:
    """The critical-path tabu search, in a child process watched from a thread (or on the
    thread itself where no process can be started), trading plans with the incumbent."""

    def __init__(self, instance: Instance, incumbent: _Incumbent, deadline: float, solvers: _Solvers,
                 seed: int):
        self.incumbent = incumbent
        self.child: localsearch.ChildSearch | None = localsearch.child_search(
            instance.problem, incumbent.plan, seed, incumbent.lower_bound)
        self.search = None  # the search on this thread where no process can be started
        self.errors: list[BaseException] = []
        self.reported = threading.Event()  # set with the search's first plan
        incumbent.listeners.append(self._offered)

        def found(plan: Plan) -> None:
            self.reported.set()
            incumbent.offer(plan, Phase.LOCAL_SEARCH, source=self)

        def stop() -> bool:
            return _finished(incumbent, deadline, solvers)

        def run() -> None:
            try:
                try:
                    self.child.run(deadline, found, stop)
                except OSError:  # no process can be started here: the compiled kernel runs on this thread
                    from mes.scheduling.engine.critical_path import CriticalPathSearch  # loads the compiler

                    self.child = None
                    self.search = CriticalPathSearch(instance, incumbent.plan, seed)
                    self.search.run(deadline, stop, found, incumbent.lower_bound)
            except BaseException as error:  # re-raised in join(): a bug must not vanish in a thread
                self.errors.append(error)

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def _offered(self, plan: Plan, value: tuple[int, ...], source: object) -> None:
        if source is self:
            return
        child, search = self.child, self.search
        if child is not None:
            child.offer(plan)
        elif search is not None:
            search.adopt(plan, value[0])

    def join(self) -> None:
        self.thread.join()
        if self.errors:
            raise self.errors[0]


def _search_in_parallel(instance: Instance, incumbent: _Incumbent, deadline: float, workers: int,
                        solvers: _Solvers, seed: int, rules: list[Rule] | None = None) -> None:
    """A priority search on every core, each in a process of its own with its own seed,
    sharing the best plan through the incumbent.

    On the generated 360-order shops two searches gave a plan 5 % better at 30 s than one
    search beside a CP-SAT neighbourhood thread (79,609 / 111,967 / 159,659 against 87,455 /
    119,164 / 161,721): once the compiled dispatch makes a hundred plans a second, whole-plan
    moves beat neighbourhoods of a few dozen operations on these shops. With a single worker
    the priority search runs first and LNS polishes; where no process can be started, one
    search runs in a thread until it converges, and LNS takes every core from then on.
    """
    lns = _lns(instance, incumbent, deadline, max(1, workers - 1), solvers, seed)
    # Start from the rule whose plan was best: on large shops the rules differ by a factor
    # of two.
    rules = rules or default_rules(instance)

    def found(plan: Plan, source: object = None) -> None:
        if incumbent.offer(plan, Phase.PRIORITY_SEARCH, source=source):
            lns.adopt(plan)

    patience = priority_search.PATIENCE
    if workers == 1:
        middle = time.monotonic() + (deadline - time.monotonic()) * 0.6
        PrioritySearch(instance, rules, middle, seed, found, solvers.stopped, start=incumbent.plan,
                       patience=patience).run()
        lns.adopt(incumbent.plan)
        lns.run()
        return

    def search(k: int) -> None:
        # In a process of its own each search has a core, and no interpreter lock to share
        # with this process; there it starts afresh each time it converges, until the deadline.
        # Each better plan the other searches find goes to it: its sequence search, at the
        # end, polishes the best plan of all (with a seed of its own).
        mine: list[ChildSearch] = []

        def elsewhere(plan: Plan, value: tuple[int, ...], source: object) -> None:
            if source is not mine:
                for child in mine:
                    child.offer(plan)

        incumbent.listeners.append(elsewhere)
        try:
            priority_search.run_in_process(instance.problem, rules, deadline, seed + 7919 * k,
                                           lambda plan: found(plan, mine), solvers.stopped,
                                           start=incumbent.plan, patience=patience, on_start=mine.append)
        except OSError:  # no process can be started here: threads share the interpreter
            if k == 0:
                PrioritySearch(instance, rules, deadline, seed, found, solvers.stopped, start=incumbent.plan,
                               patience=patience).run()
            while not lns.done() and lns.step(workers=1):
                pass
        finally:
            incumbent.listeners.remove(elsewhere)

    errors: list[BaseException] = []

    def run_search(k: int) -> None:
        try:
            search(k)
        except BaseException as error:  # re-raised below: a bug must not vanish in a thread
            errors.append(error)

    threads = [threading.Thread(target=run_search, args=(k,), daemon=True) for k in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def _first_plan_with_cp_sat(instance: Instance, incumbent: _Incumbent, deadline: float, workers: int,
                            solvers: _Solvers) -> None:
    """When list scheduling cannot honour the pins, ask CP-SAT; name the pins if it proves
    they cannot all hold."""
    pinned = [i for i in range(instance.n) if instance.pinned_start[i] is not None and instance.fixed[i] is None]
    hood = Neighbourhood(free={i for i in range(instance.n) if instance.fixed[i] is None})
    model = ScheduleModel(instance, hood, None, _horizon(instance, None), pin_assumptions=True)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.5, deadline - time.monotonic())
    solver.parameters.num_workers = workers
    solver.parameters.stop_after_first_solution = True
    solvers.register(solver, True)
    try:
        status = solver.solve(model.model)
    finally:
        solvers.register(solver, False)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        incumbent.offer(model.extract(solver), Phase.CP_SAT)
        if incumbent.plan is not None:
            return
    if status == cp_model.INFEASIBLE:
        core = [model.pin_literal_op[index] for index in solver.sufficient_assumptions_for_infeasibility()
                if index in model.pin_literal_op]
        culprits = core or pinned or [i for i in range(instance.n) if instance.fixed[i] is not None and instance.fixed[i].why == "pinned"]
        keys = tuple(instance.op_keys[i] for i in culprits)
        raise SchedulingError(Reason(
            "pins_conflict", keys,
            "The pinned operations " + ", ".join(map(repr, keys)) + " cannot all be honoured together "
            "(machine capacity, setups or precedence leave no room).",
        ))
    raise SchedulingError(Reason("no_plan_found", tuple(instance.op_keys[i] for i in pinned),
                                 "No plan honouring the pinned operations was found within the time limit."))


def _result(instance: Instance, incumbent: _Incumbent, seconds: float) -> Result:
    plan = incumbent.plan
    level_values = score(instance, plan)
    status = SolveStatus.OPTIMAL if incumbent.proven else SolveStatus.FEASIBLE
    if incumbent.lower_bound is not None and len(level_values) == 1 and level_values[0] <= incumbent.lower_bound:
        status = SolveStatus.OPTIMAL
    lower_bound = incumbent.lower_bound
    if incumbent.proven and level_values:
        lower_bound = level_values[0]
    if lower_bound is not None and level_values:
        lower_bound = min(lower_bound, level_values[0])
    return plan_result(instance, plan, incumbent.phase, status, lower_bound, seconds)


def plan_result(instance: Instance, plan: Plan, phase: Phase, status: SolveStatus = SolveStatus.FEASIBLE,
                lower_bound: int | None = None, seconds: float = 0.0) -> Result:
    """The public Result of an engine plan."""
    values = evaluate(instance, plan)
    operations = tuple(
        ScheduledTask(
            operation=instance.op_keys[i],
            job=instance.job_keys[instance.job_of[i]],
            machine=instance.machine_keys[plan.machine[i]],
            start=plan.start[i],
            end=plan.end[i],
            setup=plan.setup[i],
        )
        for i in range(instance.n)
    )
    return Result(
        status=status,
        phase=phase,
        operations=operations,
        objective={term: values[term] for term in Term},
        levels=levels(instance, values),
        lower_bound=lower_bound,
        seconds=round(seconds, 3),
        warnings=tuple(instance.warnings),
        released=tuple(instance.op_keys[i] for i in instance.released),
    )
