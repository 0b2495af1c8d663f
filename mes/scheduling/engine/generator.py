"""Realistic job-shop problems for benchmarks, tests and demos (deterministic for a seed).

A high-mix, low-volume shop: 25 machines in 9 work centers; new machines work two shifts
(06:00-22:00), old ones one shift (06:00-14:00) and are slower; weekends are off. Orders
have 8 setup families, routings of 3-6 operations, a quarter of them assemblies of two
parallel branches; some operations pass pieces on in transfer batches. Releases and
weighted due dates are spread over three weeks (or, with a load, over a span that grows with
the number of orders). Minute 0 is a Monday, 00:00.
"""

from __future__ import annotations

import random
from dataclasses import replace

from mes.scheduling.engine.problem import (
    Assignment,
    Job,
    Objective,
    Precedence,
    Problem,
    Resource,
    Result,
    SetupMatrix,
    Task,
    Term,
    Window,
    WindowKind,
)

DAY = 1440
WEEK = 7 * DAY
FAMILIES = [f"F{k}" for k in range(1, 9)]

# Work center: (machines, unit minutes per piece range, base setup minutes, non-resumable)
WORK_CENTERS = {
    "SAW": (2, (1, 3), 15, False),
    "TURN": (4, (3, 8), 40, False),
    "MILL": (5, (4, 10), 45, False),
    "DRILL": (3, (1, 4), 20, False),
    "GRIND": (2, (3, 6), 30, False),
    "HEAT": (1, (1, 2), 60, True),
    "WELD": (2, (4, 9), 25, False),
    "ASSY": (3, (5, 12), 20, False),
    "QC": (3, (1, 3), 10, False),
}

MACHINING = ["TURN", "MILL", "DRILL", "GRIND"]


def shift_windows(shifts: int, weeks: int) -> tuple[Window, ...]:
    """Off-shift windows for 06:00-14:00 (one shift) or 06:00-22:00 (two) on weekdays."""
    end_of_day = 14 * 60 if shifts == 1 else 22 * 60
    windows = [Window(0, 6 * 60)]
    for week in range(weeks):
        base = week * WEEK
        for day in range(5):
            start = base + day * DAY + end_of_day
            # Friday's evening runs into the weekend, until Monday 06:00.
            end = base + day * DAY + DAY + 6 * 60 if day < 4 else base + WEEK + 6 * 60
            windows.append(Window(start, end))
    return tuple(windows)


def _setup_matrix(rng: random.Random, base: int) -> SetupMatrix:
    changes = {}
    for a in FAMILIES:
        for b in FAMILIES:
            if a == b:
                continue
            # Neighbouring families (similar material or fixture) change quickly.
            near = abs(FAMILIES.index(a) - FAMILIES.index(b)) == 1
            changes[(a, b)] = max(5, int(base * (0.3 if near else rng.uniform(0.8, 1.5))))
    return SetupMatrix(default=base, changes=changes)


def shop_problem(orders: int = 200, seed: int = 1, weeks_of_calendar: int | None = None,
                 load: float | None = None) -> Problem:
    """The generated shop with ``orders`` work orders (about five operations each).

    Without ``load``, releases fall in the first 11 days and due dates within three weeks
    whatever the number of orders, so large shops are heavily overloaded. With ``load``,
    releases and the due-date cap stretch with the number of orders so that the shop is as
    busy as 200 orders at ``load`` 1.0 (where nearly every order can be on time); at 1.5
    and above zero tardiness is out of reach. The calendar covers at least
    ``weeks_of_calendar`` weeks (by default 8, or longer for a stretched shop).
    """
    stretch = 1.0 if load is None else max(orders / 200.0, 0.05) / load
    if weeks_of_calendar is None:
        weeks_of_calendar = max(8, int(8 * stretch) + 1)
    rng = random.Random(seed)
    machines: list[Resource] = []
    speed: dict[str, float] = {}
    by_center: dict[str, list[str]] = {}
    setups_by_center = {wc: _setup_matrix(rng, spec[2]) for wc, spec in WORK_CENTERS.items()}
    for wc, (count, _, _, _) in WORK_CENTERS.items():
        for k in range(count):
            key = f"{wc}-{k + 1}"
            old = count > 1 and k == count - 1 or (count > 3 and k == count - 2)
            speed[key] = rng.uniform(1.3, 1.5) if old else 1.0
            machines.append(Resource(
                key=key,
                windows=shift_windows(1 if old else 2, weeks_of_calendar),
                setups=setups_by_center[wc],
                initial_family=rng.choice(FAMILIES),
                work_center=wc,
            ))
            by_center.setdefault(wc, []).append(key)

    jobs: list[Job] = []
    operations: list[Task] = []
    precedences: list[Precedence] = []
    for n in range(orders):
        key = f"WO{n + 1:04d}"
        family = rng.choice(FAMILIES)
        quantity = rng.choice([2, 5, 8, 10, 15, 20, 30])
        weight = rng.choices([1, 2, 5], weights=[70, 20, 10])[0]
        ops: list[Task] = []

        def add(wc: str, label: str) -> Task:
            _, (lo, hi), _, rigid = WORK_CENTERS[wc]
            unit = rng.uniform(lo, hi)
            minutes = 20 + unit * quantity
            if rigid:
                minutes = min(minutes, 240)
            op = Task(
                key=f"{key}/{label}",
                job=key,
                durations={m: max(5, int(minutes * speed[m])) for m in by_center[wc]},
                resumable=not rigid,
            )
            ops.append(op)
            return op

        def link(a: Task, b: Task) -> None:
            if quantity >= 10 and rng.random() < 0.15:
                # Transfer batch: the next step starts once a fifth of the pieces are done.
                first = max(5, (min(a.durations.values()) - 20) // 5)
                last = max(5, (min(b.durations.values()) - 20) // 5)
                precedences.append(Precedence(a.key, b.key, finish_to_start=None, start_to_start=first, end_to_end=last))
            else:
                precedences.append(Precedence(a.key, b.key))

        def branch(prefix: str, length: int) -> list[Task]:
            centers = ["SAW"] + rng.sample(MACHINING, k=length - 1)
            if length >= 3 and rng.random() < 0.25:
                centers[-1] = "HEAT"
            chain = [add(wc, f"{prefix}{k + 1}0") for k, wc in enumerate(centers)]
            for a, b in zip(chain, chain[1:]):
                link(a, b)
            return chain

        if rng.random() < 0.25:
            left = branch("A", rng.randint(2, 3))
            right = branch("B", rng.randint(2, 3))
            join = add(rng.choice(["ASSY", "WELD"]), "J10")
            link(left[-1], join)
            link(right[-1], join)
            final = add("QC", "Q10")
            link(join, final)
        else:
            chain = branch("", rng.randint(3, 5))
            final = add("QC", "Q10")
            link(chain[-1], final)

        work = sum(min(op.durations.values()) for op in ops)
        release = int(rng.uniform(0, 11 * stretch) * DAY) // 60 * 60
        # Flow allowance in calendar time: work stretched by shifts, waiting and transport.
        allowance = int(work * rng.uniform(2.0, 4.5)) + rng.randint(1, 4) * DAY
        due = min(release + allowance, int(3 * WEEK * stretch))
        jobs.append(Job(key=key, release=release, due=max(due, release + work), weight=weight, family=family))
        operations += ops

    return Problem(
        machines=tuple(machines),
        jobs=tuple(jobs),
        operations=tuple(operations),
        precedences=tuple(precedences),
        objective=Objective.lexicographic(Term.WEIGHTED_TARDINESS, Term.MAKESPAN, Term.SETUP_TIME),
    )


def busiest_machine(result: Result, until: int) -> str:
    """The machine with the most planned minutes before ``until``."""
    load: dict[str, int] = {}
    for s in result.operations:
        load[s.machine] = load.get(s.machine, 0) + max(0, min(s.end, until) - s.start)
    return max(load, key=lambda m: (load[m], m))


def breakdown_scenario(problem: Problem, plan: Result, machine: str, start: int = 0, minutes: int = 480,
                       machine_change_minutes: int = 60) -> Problem:
    """``problem`` after ``machine`` breaks down for ``minutes`` at ``start``, with ``plan``
    as the previous schedule to stay close to."""
    machines = tuple(
        replace(m, windows=m.windows + (Window(start, start + minutes, WindowKind.BREAKDOWN),)) if m.key == machine else m
        for m in problem.machines
    )
    previous = tuple(Assignment(s.operation, s.machine, s.start) for s in plan.operations)
    return replace(
        problem,
        machines=machines,
        previous=previous,
        now=start,
        objective=Objective.rescheduling(machine_change_minutes),
    )
