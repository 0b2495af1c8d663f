"""Scheduling use cases: build the engine's problem from the database (released orders, remaining
operations, machines, calendars, downtime, setups, pins, the published plan), solve it off the
request thread, keep the result as a draft schedule version, and publish one for the floor."""
from __future__ import annotations

import datetime as dt
import json
import math
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from mes.core import audit
from mes.core.audit import current_actor
from mes.core.clock import day_end, day_start, plant_tz
from mes.core.db import get_db, session, transaction, utcnow
from mes.core.errors import Conflict, InvalidTransition, NotFound, StaleEdit
from mes.core.i18n import format_moment
from mes.machines.models import CalendarException, Machine, MachineDowntime, MachineStatus, WorkCenter
from mes.machines.shifts import off_shift_windows, working_intervals
from mes.operations import graph
from mes.operations.services import nodes as precedence_nodes
from mes.orders.models import ACTIVE_STATUSES, Operation, OperationStatus, WorkOrder
from mes.orders.queries import PlannedTimes
from mes.routing.models import Product, SetupMatrixEntry
from mes.scheduling.engine.problem import (
    Assignment,
    Job,
    Objective,
    Precedence,
    Problem,
    Progress,
    Resource,
    Result,
    SchedulingError,
    SetupMatrix,
    Task,
    TaskStatus,
    Term,
    Window,
    WindowKind,
)
from mes.scheduling.engine.solver import solve
from mes.scheduling.models import OperationPin, ScheduledOperation, ScheduleStatus, ScheduleVersion

HORIZON_DAYS = 60
# A running version's process writes its heartbeat this often; one silent for DEAD_AFTER died.
HEARTBEAT_SECONDS = 5.0
DEAD_AFTER = dt.timedelta(seconds=30)
# How often the solving process looks for a planner's Stop (it must end within a second).
STOP_POLL = 0.25
# However alive it looks, a run is over this long after its time limit.
OVERRUN = dt.timedelta(minutes=5)


@dataclass
class Keys:
    """Engine keys back to database ids."""

    operations: dict[str, int] = field(default_factory=dict)
    machines: dict[str, int] = field(default_factory=dict)
    jobs: dict[str, int] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)  # engine key -> what a planner recognises
    left_out: list[dict[str, Any]] = field(default_factory=list)  # orders that cannot be planned, and why


def op_key(op_id: int) -> str:
    return f"op{op_id}"


def machine_key(machine_id: int) -> str:
    return f"m{machine_id}"


def minutes_between(origin: dt.datetime, moment: dt.datetime) -> int:
    return int((moment - origin).total_seconds() // 60)


def downtime_window(origin: dt.datetime, starts_at: dt.datetime, ends_at: dt.datetime | None,
                    horizon: int) -> Window | None:
    """A downtime as a breakdown window clipped to [0, horizon]; None when it lies outside.

    An open-ended downtime means "unavailable from its start until further notice": it lasts to
    the end of the horizon (one that starts after the horizon does not concern this plan).
    """
    start = max(0, minutes_between(origin, starts_at))
    end = horizon if ends_at is None else min(horizon, minutes_between(origin, ends_at))
    if start >= end:
        return None
    return Window(start, end, WindowKind.BREAKDOWN)


def _working_minutes(value: Decimal) -> int:
    return max(1, math.ceil(value))


@dataclass
class BuildOptions:
    objective: str = "tardiness_makespan"  # or "tardiness_flow"
    frozen_minutes: int = 0
    use_previous: bool = True
    # Stay close to this plan (a draft being repaired) instead of the published one.
    previous_schedule_id: int | None = None
    # What-if: orders planned although not released, and downtime that is not recorded
    # ((machine id, start, end)); neither touches the published plan or the machines.
    extra_orders: tuple[int, ...] = ()
    extra_downtime: tuple[tuple[int, dt.datetime, dt.datetime], ...] = ()


def build_problem(s: Session, origin: dt.datetime, options: BuildOptions | None = None) -> tuple[Problem, Keys]:
    """The engine's problem at ``origin`` (minute 0), from what the database says now."""
    options = options or BuildOptions()
    keys = Keys()
    horizon = HORIZON_DAYS * 1440
    tz = plant_tz()

    machines = s.scalars(
        select(Machine).where(Machine.status == MachineStatus.AVAILABLE)
        .options(selectinload(Machine.work_center).selectinload(WorkCenter.calendar), selectinload(Machine.calendar))
    ).all()
    matrices: dict[int, SetupMatrix] = {}
    for wc in s.scalars(select(WorkCenter)):
        entries = s.scalars(select(SetupMatrixEntry).where(SetupMatrixEntry.work_center_id == wc.id)).all()
        matrices[wc.id] = SetupMatrix(
            default=wc.default_changeover_minutes,
            changes={(f"f{e.from_family_id}", f"f{e.to_family_id}"): e.minutes for e in entries},
        )
    downtime: dict[int, list[Window]] = {}
    for d in s.scalars(select(MachineDowntime).where((MachineDowntime.ends_at.is_(None)) | (MachineDowntime.ends_at > origin))):
        window = downtime_window(origin, d.starts_at, d.ends_at, horizon)
        if window is not None:
            downtime.setdefault(d.machine_id, []).append(window)
    for machine_id, starts_at, ends_at in options.extra_downtime:
        window = downtime_window(origin, starts_at, ends_at, horizon)
        if window is not None:
            downtime.setdefault(machine_id, []).append(window)
    engine_machines = []
    by_wc: dict[int, list[Machine]] = {}
    for m in machines:
        by_wc.setdefault(m.work_center_id, []).append(m)
        windows = list(downtime.get(m.id, []))
        calendar = m.effective_calendar
        if calendar is not None:
            exceptions = {e.day: e.working for e in s.scalars(select(CalendarException).where(CalendarException.calendar_id == calendar.id))}
            work = working_intervals([(x.weekday, x.start_minute, x.end_minute) for x in calendar.shifts], exceptions, tz, origin, horizon)
            windows += [Window(a, b, WindowKind.OFF_SHIFT) for a, b in off_shift_windows(work, horizon)]
        key = machine_key(m.id)
        keys.machines[key] = m.id
        keys.labels[key] = m.code
        engine_machines.append(Resource(key=key, windows=tuple(windows), setups=matrices.get(m.work_center_id),
                                        work_center=m.work_center.code))
    available = {m.id for m in machines}

    orders = s.scalars(
        select(WorkOrder).where(WorkOrder.status.in_(ACTIVE_STATUSES) | WorkOrder.id.in_(options.extra_orders))
        .options(selectinload(WorkOrder.operations).selectinload(Operation.machines), selectinload(WorkOrder.edges))
    ).all()
    product_family = dict(s.execute(select(Product.id, Product.family_id)).all())
    pins = {pin.operation_id: pin for pin in s.scalars(select(OperationPin))}
    running = _running_operations(orders)
    jobs, operations, precedences = [], [], []
    now_minute = 0
    for order in orders:
        built = _order_parts(order, keys, by_wc, available, product_family, pins, running, now_minute, origin)
        if built is None:
            continue
        job, ops, arcs = built
        jobs.append(job)
        operations.extend(ops)
        precedences.extend(arcs)

    previous: tuple[Assignment, ...] = ()
    if options.use_previous:
        published = s.get(ScheduleVersion, options.previous_schedule_id) if options.previous_schedule_id else \
            s.scalar(select(ScheduleVersion).where(ScheduleVersion.status == ScheduleStatus.PUBLISHED))
        if published is not None:
            rows = s.scalars(select(ScheduledOperation).where(ScheduledOperation.schedule_id == published.id)).all()
            previous = tuple(
                Assignment(op_key(r.operation_id), machine_key(r.machine_id), minutes_between(origin, r.start_at))
                for r in rows if op_key(r.operation_id) in keys.operations and r.machine_id in available
            )
    objective = None
    if not previous:
        second = Term.TOTAL_FLOW_TIME if options.objective == "tardiness_flow" else Term.MAKESPAN
        objective = Objective.lexicographic(Term.WEIGHTED_TARDINESS, second, Term.SETUP_TIME)
    problem = Problem(
        machines=tuple(engine_machines), jobs=tuple(jobs), operations=tuple(operations), precedences=tuple(precedences),
        now=now_minute, frozen_until=options.frozen_minutes or None, previous=previous, objective=objective,
    )
    return problem, keys


def _order_parts(order: WorkOrder, keys: Keys, by_wc: dict[int, list[Machine]], available: set[int],
                 product_family: dict[int, int], pins: dict[int, OperationPin], running: set[int], now_minute: int,
                 origin: dt.datetime) -> tuple[Job, list[Task], list[Precedence]] | None:
    """One work order as a job, its remaining operations and their precedences; None (and a
    note in ``keys.left_out``) when one of its operations has no machine available to do it."""

    job_key = f"wo{order.id}"
    family = f"f{product_family[order.product_id]}"
    release = max(0, minutes_between(origin, day_start(order.release_date))) if order.release_date else 0
    job = Job(key=job_key, release=release, due=minutes_between(origin, day_end(order.due_date)),
              weight=order.priority.weight, family=family)
    gone = {op.id for op in order.operations if op.status in (OperationStatus.DONE, OperationStatus.SKIPPED)}
    edges = graph.bypass(graph.effective_edges(precedence_nodes(order)), gone)
    by_id = {op.id: op for op in order.operations}
    operations = []
    for op in order.operations:
        if op.id in gone:
            continue
        key = op_key(op.id)
        pieces = max(order.quantity - op.qty_good, 0)
        choices = [(m.machine_id, m.setup_minutes, m.run_minutes) for m in op.machines] or [
            (m.id, op.setup_minutes, op.run_minutes) for m in by_wc.get(op.work_center_id, [])]
        durations = {machine_key(mid): _working_minutes(setup + run * pieces) for mid, setup, run in choices if mid in available}
        fields: dict[str, Any] = {}
        started = op.id in running and op.machine_id in available
        if started:
            # Running now: it goes on where it is until its remaining pieces are done.
            run = next((r for mid, _s, r in choices if mid == op.machine_id), op.run_minutes)
            remaining = _working_minutes(run * pieces)
            fields = dict(status=TaskStatus.STARTED, machine=machine_key(op.machine_id), remaining=remaining,
                          start=min(now_minute, minutes_between(origin, op.started_at)) if op.started_at else now_minute)
            durations.setdefault(machine_key(op.machine_id), remaining)
        elif op.status.started and op.machine_id and machine_key(op.machine_id) in durations:
            # Paused: the rest is planned on the same machine (its setup, program and fixture are there).
            fields["pinned_machine"] = machine_key(op.machine_id)
        if not durations:
            keys.left_out.append({"order": order.number, "seq": op.seq, "name": op.name})
            return None
        pin = pins.get(op.id)
        if pin is not None and not op.status.started:
            if pin.machine_id and pin.machine_id in available:
                fields["pinned_machine"] = machine_key(pin.machine_id)
            if pin.start_at:
                fields["pinned_start"] = max(0, minutes_between(origin, pin.start_at))
        operations.append(Task(key=key, job=job_key, durations=durations, family=family, **fields))
    if not operations:
        return None  # nothing left to plan (the order waits to be completed)
    precedences = []
    for pred, succ in edges:
        before, after = by_id[pred], by_id[succ]
        if before.transfer_batch and before.transfer_batch < order.quantity:
            batch = before.transfer_batch
            first = min(_runs(before, by_wc), default=Decimal(0)) * batch
            last = min(_runs(after, by_wc), default=Decimal(0)) * batch
            precedences.append(Precedence(op_key(pred), op_key(succ), finish_to_start=None,
                                          start_to_start=_working_minutes(first), end_to_end=_working_minutes(last)))
        else:
            precedences.append(Precedence(op_key(pred), op_key(succ)))
    keys.jobs[job_key] = order.id
    keys.labels[job_key] = order.number
    for op in operations:
        keys.operations[op.key] = int(op.key[2:])
        keys.labels[op.key] = f"{order.number}/{by_id[int(op.key[2:])].seq}"
    return job, operations, precedences


def _running_operations(orders: list[WorkOrder]) -> set[int]:
    """Operations running now: one per machine, the one started last (others there are paused)."""
    latest: dict[int, Operation] = {}
    for order in orders:
        for op in order.operations:
            if op.status == OperationStatus.IN_PROGRESS and op.machine_id:
                other = latest.get(op.machine_id)
                if other is None or (op.started_at or origin_min()) > (other.started_at or origin_min()):
                    latest[op.machine_id] = op
    return {op.id for op in latest.values()}


def origin_min() -> dt.datetime:
    return dt.datetime.min.replace(tzinfo=dt.UTC)


def _runs(op: Operation, by_wc: dict[int, list[Machine]]) -> list[Decimal]:
    return [m.run_minutes for m in op.machines] or ([op.run_minutes] if by_wc.get(op.work_center_id) else [])


# --- running the solver -------------------------------------------------------------------------


def _reasons(error: SchedulingError, keys: Keys) -> list[dict[str, Any]]:
    """The engine's reasons with its keys ('op12', 'm3') replaced by what a planner recognises."""
    import re

    def label(match: re.Match[str]) -> str:
        return f"'{keys.labels.get(match.group(1), match.group(1))}'"

    return [{"code": reason.code, "ops": [keys.labels.get(k, k) for k in reason.keys],
             "text": re.sub(r"'([a-z]+\d+)'", label, reason.message)} for reason in error.reasons]


# Why a run failed, in the planner's language (the engine speaks English, to developers).
REASON_MESSAGES = {
    "pinned_machine_not_eligible": _l("%(ops)s is pinned to a machine that cannot do it."),
    "pinned_start_in_past": _l("%(ops)s is pinned to a start in the past."),
    "pinned_start_before_release": _l("%(ops)s is pinned to start before its work order may start."),
    "pinned_start_off_shift": _l("%(ops)s is pinned to a start when its machine does not work."),
    "precedence_cycle": _l("The predecessors of %(ops)s form a cycle."),
    "infeasible": _l("Pinned operations and the order of operations contradict each other: %(ops)s."),
    "no_plan_found": _l("No plan was found in the time limit. Give the scheduler more time."),
    "no_eligible_machine": _l("%(ops)s has no machine that can do it."),
    "run_died": _l("The scheduler stopped without a result (its process ended). Start a new run."),
}


def notes(version: ScheduleVersion) -> list[str]:
    """What a planner should know about a run: why it failed, orders left out, warnings."""
    if not version.message:
        return []
    try:
        data = json.loads(version.message)
    except ValueError:
        return [version.message]
    out = []
    for reason in data.get("reasons", []):
        template = REASON_MESSAGES.get(reason["code"])
        ops = ", ".join(reason["ops"][:1] if reason["code"].startswith("pinned") else reason["ops"])
        out.append(str(template) % {"ops": ops} if template is not None else reason["text"])
    for item in data.get("left_out", []):
        out.append(str(_l("%(order)s is not planned: no available machine can do operation %(seq)s (%(name)s).", **item)))
    out.extend(data.get("warnings", []))
    return out


def start_run(time_limit: int | None = None, workers: int | None = None, options: BuildOptions | None = None,
              wait: bool = False, what_if: str | None = None) -> int:
    """Create a schedule version and solve it in a background thread (``wait``: in this one)."""
    app = current_app._get_current_object()
    time_limit = time_limit or app.config["SCHEDULER_TIME_LIMIT"]
    workers = workers or app.config["SCHEDULER_WORKERS"]
    origin = utcnow().replace(second=0, microsecond=0)
    with transaction() as s:
        running = s.scalars(select(ScheduleVersion).where(ScheduleVersion.status == ScheduleStatus.RUNNING).with_for_update()).all()
        for run in running:
            if not _is_dead(run):
                raise Conflict(_l("The scheduler is already running. Wait for it to finish."), code="scheduler_busy")
            _mark_dead(run)
        version = ScheduleVersion(status=ScheduleStatus.RUNNING, origin=origin, time_limit_s=time_limit, workers=workers,
                                  created_by_id=current_actor().user_id, heartbeat_at=utcnow(), what_if_json=what_if,
                                  based_on_id=(options.previous_schedule_id if options else None))
        s.add(version)
        s.flush()
        schedule_id = version.id
        audit.record(s, "schedule_version", schedule_id, "run", "time_limit_s", None, time_limit)
    args = (schedule_id, origin, time_limit, workers, options or BuildOptions(), current_actor())
    solve_elsewhere = app.extensions.get(RUN_PROCESS)
    if wait:
        _Run(app, *args).run()
    elif solve_elsewhere is not None and app.config.get("SCHEDULER_PROCESS", True):
        # The engine's Python search holds the GIL: in a process of its own it leaves the web
        # workers (and the floor's terminals) their speed. It reports through the database.
        config = {k: v for k, v in app.config.items() if k.isupper() and _portable(v)}
        multiprocessing.get_context("spawn").Process(
            target=solve_elsewhere, args=(config, args), name=f"mes-schedule-{schedule_id}", daemon=True).start()
    else:
        threading.Thread(target=_Run(app, *args).run, name=f"mes-schedule-{schedule_id}", daemon=True).start()
    return schedule_id


# A run's own process runs this much nicer than the web workers.
RUN_NICENESS = 10
# The app factory plugs in the function a run's own process starts with (it builds an app there).
RUN_PROCESS = "mes.scheduling.run_process"


def _portable(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return all(_portable(v) for v in value)
    return value is None or isinstance(value, (str, int, float, bool, dt.timedelta))


def run_here(app: Flask, args: tuple[Any, ...]) -> None:
    """Solve a run started by ``start_run`` in this process (the target of a run's own process).
    The process yields the CPU to the web workers (nice 10): pages and terminals come first."""
    if hasattr(os, "nice"):
        os.nice(RUN_NICENESS)
    _Run(app, *args).run()


def _is_dead(run: ScheduleVersion) -> bool:
    now = utcnow()
    silent = now - (run.heartbeat_at or run.created_at) > DEAD_AFTER
    return silent or now - run.created_at > OVERRUN + dt.timedelta(seconds=run.time_limit_s)


def _mark_dead(run: ScheduleVersion) -> None:
    run.status = ScheduleStatus.FAILED
    run.message = json.dumps({"reasons": [{"code": "run_died", "ops": [], "text": "stopped without a result"}]})


def fail_dead_runs() -> int:
    """Mark running versions whose process died as failed (called wherever runs are looked at:
    starting one, the progress poll, the list page). Returns how many there were."""
    with get_db().read_session() as s:
        candidates = s.scalars(select(ScheduleVersion).where(ScheduleVersion.status == ScheduleStatus.RUNNING)).all()
        if not any(_is_dead(run) for run in candidates):
            return 0
    dead = 0
    with transaction() as s:
        for run in s.scalars(select(ScheduleVersion).where(ScheduleVersion.status == ScheduleStatus.RUNNING).with_for_update()):
            if _is_dead(run):
                _mark_dead(run)
                dead += 1
    return dead


class _Heartbeat:
    """Writes the run's heartbeat every HEARTBEAT_SECONDS from a thread of its own while it solves
    (the solver's progress callback is irregular, and silent while the problem is built), and
    watches for a planner's Stop (``stop_requested_at``, set from any process) every STOP_POLL
    seconds, setting ``stop`` so the engine ends with its best plan."""

    def __init__(self, app: Flask, schedule_id: int) -> None:
        self.app, self.schedule_id = app, schedule_id
        self.stop = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"mes-heartbeat-{schedule_id}", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._done.set()
        self._thread.join(timeout=HEARTBEAT_SECONDS * 2)

    def _beat(self) -> None:
        table = ScheduleVersion.__table__
        last_beat = time.monotonic()
        while not self._done.wait(STOP_POLL):
            try:
                with self.app.app_context():
                    if not self.stop.is_set():
                        with get_db().read_session() as s:
                            if s.scalar(select(table.c.stop_requested_at).where(table.c.id == self.schedule_id)) is not None:
                                self.stop.set()
                    if time.monotonic() - last_beat < HEARTBEAT_SECONDS:
                        continue
                    last_beat = time.monotonic()
                    with transaction() as s:
                        # A Core UPDATE: leaves the row's optimistic-locking version alone.
                        s.execute(update(table).where(
                            table.c.id == self.schedule_id, table.c.status == ScheduleStatus.RUNNING.value,
                        ).values(heartbeat_at=utcnow()))
            except Exception:  # a missed beat is retried; the run itself must go on
                self.app.logger.exception("heartbeat of schedule run %s failed", self.schedule_id)


class _Run:
    def __init__(self, app: Flask, schedule_id: int, origin: dt.datetime, time_limit: int, workers: int,
                 options: BuildOptions, actor: audit.Actor) -> None:
        self.app, self.schedule_id, self.origin = app, schedule_id, origin
        self.time_limit, self.workers, self.options, self.actor = time_limit, workers, options, actor
        self._last_progress = 0.0

    def run(self) -> None:
        with self.app.app_context(), audit.actor_context(self.actor), _Heartbeat(self.app, self.schedule_id) as beat:
            keys = Keys()
            try:
                with get_db().read_session() as s:
                    problem, keys = build_problem(s, self.origin, self.options)
                result = solve_problem(problem, self.time_limit, self.workers, self._progress, beat.stop)
                self._store(result, keys)
            except SchedulingError as exc:
                self._fail({"reasons": _reasons(exc, keys)})
            except Exception as exc:  # the run must end as failed, not stay "running" forever
                current_app.logger.exception("schedule run %s failed", self.schedule_id)
                self._fail({"warnings": [f"{type(exc).__name__}: {exc}"]})

    def _progress(self, progress: Progress) -> None:
        now = time.monotonic()
        if now - self._last_progress < 1.0:
            return
        self._last_progress = now
        # Called from a solver thread: it needs an app context of its own.
        with self.app.app_context(), transaction() as s:
            version = s.get(ScheduleVersion, self.schedule_id)
            version.progress_json = json.dumps({"phase": str(progress.phase), "objective": list(progress.objective),
                                                "lower_bound": progress.lower_bound, "seconds": round(progress.seconds, 1)})

    def _store(self, result: Result, keys: Keys) -> None:
        with transaction() as s:
            version = s.get(ScheduleVersion, self.schedule_id)
            for row in result.operations:
                start = self.origin + dt.timedelta(minutes=row.start)
                s.add(ScheduledOperation(
                    schedule_id=version.id, operation_id=keys.operations[row.operation], machine_id=keys.machines[row.machine],
                    # Setups are working minutes before the start; across a break this is an estimate.
                    setup_start_at=start - dt.timedelta(minutes=row.setup), start_at=start,
                    end_at=self.origin + dt.timedelta(minutes=row.end),
                ))
            version.status = ScheduleStatus.DRAFT
            version.solver_status = str(result.status)
            version.phase = str(result.phase)
            version.objective_json = json.dumps({str(k): v for k, v in result.objective.items()})
            version.lower_bound = result.lower_bound
            version.seconds = round(result.seconds, 2)
            if keys.left_out or result.warnings:
                version.message = json.dumps({"left_out": keys.left_out, "warnings": list(result.warnings)}, ensure_ascii=False)

    def _fail(self, message: dict[str, Any]) -> None:
        with transaction() as s:
            version = s.get(ScheduleVersion, self.schedule_id)
            version.status = ScheduleStatus.FAILED
            version.message = json.dumps(message, ensure_ascii=False)


def solve_problem(problem: Problem, time_limit: int, workers: int,
                  on_progress: Callable[[Progress], None] | None = None, stop: threading.Event | None = None) -> Result:
    return solve(problem, time_limit=time_limit, workers=workers, progress=on_progress, stop=stop)


def request_stop(schedule_id: int) -> None:
    """Ask a running schedule run to end now with its best plan; the process solving it (this one
    or another) sees the request within STOP_POLL seconds."""
    with transaction() as s:
        version = s.get(ScheduleVersion, schedule_id)
        if version is None:
            raise NotFound()
        if version.status != ScheduleStatus.RUNNING:
            raise InvalidTransition(_l("This run has already ended."))
        table = ScheduleVersion.__table__
        s.execute(update(table).where(table.c.id == schedule_id).values(stop_requested_at=utcnow()))
        audit.record(s, "schedule_version", schedule_id, "stop", "status", ScheduleStatus.RUNNING, None)


# --- publishing ---------------------------------------------------------------------------------


def publish(schedule_id: int, expected_version: int | None, expected_published: int | None = None) -> None:
    """The shop floor follows this version from now on; the one it followed is superseded.

    ``expected_published`` is the plan that was published when the planner compared (0: none):
    if another planner published meanwhile, this one gets a conflict and nothing changes."""
    with transaction() as s:
        version = s.get(ScheduleVersion, schedule_id)
        if version is None:
            raise NotFound()
        if expected_version is not None and version.version != expected_version:
            raise StaleEdit(version.published_by.display_name if version.published_by else "?", version.published_at)
        if version.status != ScheduleStatus.DRAFT:
            raise InvalidTransition(_l("Only a draft schedule can be published."))
        if version.what_if_json:
            raise InvalidTransition(_l("A what-if plan is for looking only and cannot be published. Make the change for "
                                       "real (release the order, record the downtime), then repair."))
        if expected_published:
            # Lock the plan the planner compared with: a second publisher waits here, then sees it superseded.
            base = s.scalar(select(ScheduleVersion).where(ScheduleVersion.id == expected_published)
                            .with_for_update().execution_options(populate_existing=True))
            if base is None or base.status != ScheduleStatus.PUBLISHED:
                raise _published_meanwhile(s)
        elif expected_published == 0 and s.scalar(
                select(ScheduleVersion.id).where(ScheduleVersion.status == ScheduleStatus.PUBLISHED)) is not None:
            raise _published_meanwhile(s)
        for old in s.scalars(select(ScheduleVersion).where(ScheduleVersion.status == ScheduleStatus.PUBLISHED).with_for_update()):
            old.status = ScheduleStatus.SUPERSEDED
        s.flush()
        version.status = ScheduleStatus.PUBLISHED
        version.published_at = utcnow()
        version.published_by_id = current_actor().user_id
        try:
            s.flush()
        except IntegrityError:  # two first plans at once: the unique index lets one through
            raise Conflict(_l("Another plan was published meanwhile. Compare with it before publishing."),
                           code="published_meanwhile") from None
        audit.record(s, "schedule_version", schedule_id, "publish", "status", ScheduleStatus.DRAFT, ScheduleStatus.PUBLISHED)


def _published_meanwhile(s: Session) -> Conflict:
    current = s.scalar(select(ScheduleVersion).where(ScheduleVersion.status == ScheduleStatus.PUBLISHED))
    if current is not None and current.published_at is not None:
        who = current.published_by.display_name if current.published_by else "?"
        return Conflict(_l("%(who)s published schedule %(id)s at %(when)s, after you compared. Compare with it before "
                           "publishing; nothing was changed."), who=who, id=current.id, when=format_moment(current.published_at),
                        code="published_meanwhile")
    return Conflict(_l("Another plan was published meanwhile. Compare with it before publishing."), code="published_meanwhile")


# --- reading the published plan ------------------------------------------------------------------


def published_times(operation_ids: list[int]) -> dict[int, PlannedTimes]:
    """Where and when the published plan has each of these operations (those it has)."""
    rows = session().scalars(
        select(ScheduledOperation)
        .join(ScheduleVersion)
        .where(ScheduleVersion.status == ScheduleStatus.PUBLISHED, ScheduledOperation.operation_id.in_(operation_ids))
        .options(joinedload(ScheduledOperation.machine))
    )
    return {row.operation_id: PlannedTimes(row.start_at, row.end_at, row.machine.code) for row in rows}
