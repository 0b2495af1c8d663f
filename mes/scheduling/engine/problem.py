"""The scheduling problem and its result as plain dataclasses, free of any framework.

The engine's names differ from the database's on purpose: a ``Task`` is what the engine plans
for one work-order operation (``mes.orders.models.Operation``), a ``Resource`` what it knows of
a machine (``mes.machines.models.Machine``), a ``ScheduledTask`` one line of its plan (stored as
a ``mes.scheduling.models.ScheduledOperation``). Field names and file formats keep the shop's
words (``operations``, ``machines``, ``machine``).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field


class WindowKind(enum.StrEnum):
    """Why a machine is unavailable during a window."""

    # Planned absence (nights, weekends, holidays): resumable operations pause across it.
    OFF_SHIFT = "off_shift"
    # Unplanned or maintenance stop: no operation may overlap it.
    BREAKDOWN = "breakdown"


class TaskStatus(enum.StrEnum):
    """Where a task (operation) stands on the shop floor when the plan is made."""

    PLANNED = "planned"
    STARTED = "started"
    FINISHED = "finished"


class Term(enum.StrEnum):
    """Objective terms the planner can rank."""

    WEIGHTED_TARDINESS = "weighted_tardiness"
    MAKESPAN = "makespan"
    TOTAL_FLOW_TIME = "total_flow_time"
    SETUP_TIME = "setup_time"
    MACHINE_CHANGES = "machine_changes"
    START_DEVIATION = "start_deviation"


class SolveStatus(enum.StrEnum):
    """How good the returned plan is known to be."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"


class Phase(enum.StrEnum):
    """Which part of the engine produced the returned plan."""

    HEURISTIC = "heuristic"
    REPAIR = "repair"
    PRIORITY_SEARCH = "priority-search"
    CP_SAT = "cp-sat"
    LNS = "lns"
    LOCAL_SEARCH = "local-search"


@dataclass(frozen=True)
class Window:
    """A half-open span [start, end) of minutes during which a machine does not work."""

    start: int
    end: int
    kind: WindowKind = WindowKind.OFF_SHIFT


@dataclass(frozen=True)
class SetupMatrix:
    """Sequence-dependent setup minutes on one machine, by setup family.

    A change from family A to family B takes ``changes[(A, B)]`` minutes if given,
    otherwise nothing when A == B and ``default`` minutes when they differ.
    """

    default: int = 0
    changes: Mapping[tuple[str, str], int] = field(default_factory=dict)

    def minutes(self, before: str | None, after: str | None) -> int:
        if before is not None and after is not None and (before, after) in self.changes:
            return self.changes[(before, after)]
        return 0 if before == after else self.default


@dataclass(frozen=True)
class Resource:
    """A machine as the engine sees it: it does one task at a time, and has a calendar.

    ``initial_family`` is the setup family the machine is tooled for at ``Problem.now``;
    when None it is taken from the machine's latest finished operation, and if there is
    none the first operation needs no setup.
    """

    key: str
    windows: tuple[Window, ...] = ()
    setups: SetupMatrix | None = None
    initial_family: str | None = None
    work_center: str | None = None


@dataclass(frozen=True)
class Job:
    """A work order: release, due date, weight (priority) and default setup family."""

    key: str
    release: int = 0
    due: int | None = None
    weight: int = 1
    family: str | None = None


@dataclass(frozen=True)
class Task:
    """One operation of a job, done on exactly one of its eligible machines.

    ``durations`` maps each eligible machine key to the working minutes needed there.
    A resumable operation pauses over off-shift windows (its elapsed time stretches);
    a non-resumable one must fit between two windows. No operation overlaps a breakdown.

    A finished operation gives ``machine``, ``start`` and ``end``. A started one gives
    ``machine`` and ``start`` (for the record) and ``remaining`` working minutes, counted
    from ``Problem.now``. The planner may pin a planned operation to a machine and/or a
    start minute.
    """

    key: str
    job: str
    durations: Mapping[str, int]
    family: str | None = None
    resumable: bool = True
    status: TaskStatus = TaskStatus.PLANNED
    machine: str | None = None
    start: int | None = None
    end: int | None = None
    remaining: int | None = None
    pinned_machine: str | None = None
    pinned_start: int | None = None


@dataclass(frozen=True)
class Precedence:
    """A minimum-lag arc of the precedence graph; every lag that is not None applies.

    The default is plain finish-to-start. A transfer batch (the successor may start once
    the predecessor has produced some pieces) uses ``start_to_start`` for the time to make
    those pieces and ``end_to_end`` for the time to pass the last ones on, with
    ``finish_to_start=None``. Lags are elapsed minutes.
    """

    before: str
    after: str
    finish_to_start: int | None = 0
    start_to_start: int | None = None
    end_to_end: int | None = None


@dataclass(frozen=True)
class Assignment:
    """One operation of a previous schedule: where and when it was planned."""

    operation: str
    machine: str
    start: int


@dataclass(frozen=True)
class Objective:
    """Lexicographic levels of weighted terms, most important first.

    Each level is a mapping from term to integer weight; a plan is better than another if
    its first differing level sum is smaller.
    """

    levels: tuple[Mapping[Term, int], ...] = (
        {Term.WEIGHTED_TARDINESS: 1},
        {Term.MAKESPAN: 1},
        {Term.SETUP_TIME: 1},
    )

    @classmethod
    def lexicographic(cls, *terms: Term) -> Objective:
        """One term per level, in the given order."""
        return cls(levels=tuple({term: 1} for term in terms))

    @classmethod
    def rescheduling(cls, machine_change_minutes: int = 60) -> Objective:
        """Weighted tardiness, where moving an operation to another machine costs as much
        as ``machine_change_minutes`` of weighted tardiness; then start deviation from the
        previous schedule; then makespan and setups."""
        return cls(
            levels=(
                {Term.WEIGHTED_TARDINESS: 1, Term.MACHINE_CHANGES: machine_change_minutes},
                {Term.START_DEVIATION: 1},
                {Term.MAKESPAN: 1},
                {Term.SETUP_TIME: 1},
            )
        )

    def terms(self) -> tuple[Term, ...]:
        seen: list[Term] = []
        for level in self.levels:
            seen.extend(term for term in level if term not in seen)
        return tuple(seen)


@dataclass(frozen=True)
class Problem:
    """Everything the engine needs; times are integer minutes from an origin the caller owns.

    Nothing planned starts before ``now``. Operations of ``previous`` starting before
    ``frozen_until`` keep their machine and start, and no other operation starts before it.
    ``objective`` None means the default order, or ``Objective.rescheduling()`` when a
    previous schedule is given.
    """

    machines: tuple[Resource, ...]
    jobs: tuple[Job, ...]
    operations: tuple[Task, ...]
    precedences: tuple[Precedence, ...] = ()
    now: int = 0
    frozen_until: int | None = None
    previous: tuple[Assignment, ...] = ()
    objective: Objective | None = None


@dataclass(frozen=True)
class ScheduledTask:
    """Where and when one task (operation) runs; ``setup`` working minutes precede ``start``."""

    operation: str
    job: str
    machine: str
    start: int
    end: int
    setup: int = 0


@dataclass(frozen=True)
class Progress:
    """A snapshot for a progress display: the incumbent's primary level and the bound."""

    phase: Phase
    objective: tuple[int, ...]
    lower_bound: int | None
    seconds: float


@dataclass(frozen=True)
class Result:
    """A complete plan and how it was obtained.

    ``objective`` holds every term's value; ``levels`` the lexicographic level sums;
    ``lower_bound`` bounds the first level (None when unknown). ``released`` names
    operations of the frozen horizon that could not keep their place (see ``warnings``).
    """

    status: SolveStatus
    phase: Phase
    operations: tuple[ScheduledTask, ...]
    objective: Mapping[Term, int]
    levels: tuple[int, ...]
    lower_bound: int | None
    seconds: float
    warnings: tuple[str, ...] = ()
    released: tuple[str, ...] = ()

    def by_operation(self) -> dict[str, ScheduledTask]:
        return {op.operation: op for op in self.operations}


@dataclass(frozen=True)
class Reason:
    """One cause of an infeasible or malformed problem."""

    code: str
    keys: tuple[str, ...]
    message: str


class SchedulingError(Exception):
    """Bad input a user can cause: carries machine-readable reasons naming the culprits."""

    def __init__(self, reasons: list[Reason] | Reason):
        self.reasons: tuple[Reason, ...] = (reasons,) if isinstance(reasons, Reason) else tuple(reasons)
        super().__init__("; ".join(reason.message for reason in self.reasons))

    @property
    def code(self) -> str:
        return self.reasons[0].code

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(key for reason in self.reasons for key in reason.keys)


class ProblemFileError(SchedulingError):
    """A problem file that cannot be read, naming where it went wrong."""

    def __init__(self, source: str, line: int | None, field: str, detail: str):
        self.source, self.line, self.field = source, line, field
        where = f"{source}, line {line}" if line is not None else source
        super().__init__(Reason("malformed_problem_file", (source,), f"{where} ({field}): {detail}"))
