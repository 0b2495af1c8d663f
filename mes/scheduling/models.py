"""Schedule versions (proposed until a planner publishes one), their operations, and pins."""
from __future__ import annotations

import datetime as dt
import enum

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mes.core.db import Base, str_enum, utcnow


class ScheduleStatus(enum.StrEnum):
    RUNNING = "running"
    FAILED = "failed"
    DRAFT = "draft"
    PUBLISHED = "published"
    SUPERSEDED = "superseded"

    @property
    def label(self) -> str:
        return str(SCHEDULE_STATUS_LABELS[self])


SCHEDULE_STATUS_LABELS = {
    ScheduleStatus.RUNNING: _l("Solving"),
    ScheduleStatus.FAILED: _l("Failed"),
    ScheduleStatus.DRAFT: _l("Draft"),
    ScheduleStatus.PUBLISHED: _l("Published"),
    ScheduleStatus.SUPERSEDED: _l("Superseded"),
}


# How good the plan is known to be, and which part of the engine made it (the engine's words).
SOLVER_STATUS_LABELS = {
    "optimal": _l("optimal"),
    "feasible": _l("good, not proven best"),
    "infeasible": _l("no plan possible"),
}
PHASE_LABELS = {
    "heuristic": _l("dispatch rules"),
    "repair": _l("repair of the published plan"),
    "priority-search": _l("priority search"),
    "cp-sat": _l("optimizer"),
    "lns": _l("optimizer, step by step"),
}


def solver_status_label(value: str | None) -> str:
    return str(SOLVER_STATUS_LABELS.get(value or "", value or ""))


def phase_label(value: str | None) -> str:
    return str(PHASE_LABELS.get(value or "", value or ""))


class ScheduleVersion(Base):
    __tablename__ = "schedule_version"
    __table_args__ = (
        Index(
            "uq_schedule_one_published",
            "status",
            unique=True,
            sqlite_where=text("status = 'published'"),
            postgresql_where=text("status = 'published'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[ScheduleStatus] = mapped_column(str_enum(ScheduleStatus), default=ScheduleStatus.RUNNING)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # Minute 0 of the solver's time axis.
    origin: Mapped[dt.datetime]
    time_limit_s: Mapped[int]
    workers: Mapped[int]
    solver_status: Mapped[str | None] = mapped_column(String(24))
    phase: Mapped[str | None] = mapped_column(String(24))
    objective_json: Mapped[str | None] = mapped_column(Text)
    lower_bound: Mapped[int | None]
    seconds: Mapped[float | None]
    progress_json: Mapped[str | None] = mapped_column(Text)
    # Written every few seconds by the process solving it: a running version whose heartbeat stops
    # died with its process (see mes.scheduling.services.fail_dead_runs).
    heartbeat_at: Mapped[dt.datetime | None]
    message: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[dt.datetime | None]
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    version: Mapped[int] = mapped_column(default=1)
    # --- planner board ---
    # Set by a planner's Stop; the process solving the run watches it and keeps the best plan.
    stop_requested_at: Mapped[dt.datetime | None]
    # The last change by hand (a move, an unpin) of a draft.
    changed_at: Mapped[dt.datetime | None]
    # The plan a draft was copied from, or repaired from.
    based_on_id: Mapped[int | None] = mapped_column(ForeignKey("schedule_version.id", ondelete="SET NULL"))
    # What a what-if draft assumes (a rush order, a machine down), as JSON.
    what_if_json: Mapped[str | None] = mapped_column(Text)
    # --- end planner board ---

    created_by = relationship("User", foreign_keys=[created_by_id])
    published_by = relationship("User", foreign_keys=[published_by_id])
    operations: Mapped[list[ScheduledOperation]] = relationship(
        back_populates="schedule", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}


class ScheduledOperation(Base):
    __tablename__ = "scheduled_operation"
    __table_args__ = (
        UniqueConstraint("schedule_id", "operation_id"),
        Index("ix_scheduled_operation_machine_start", "schedule_id", "machine_id", "start_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedule_version.id", ondelete="CASCADE"))
    operation_id: Mapped[int] = mapped_column(ForeignKey("operation.id", ondelete="CASCADE"), index=True)
    machine_id: Mapped[int] = mapped_column(ForeignKey("machine.id"))
    setup_start_at: Mapped[dt.datetime]
    start_at: Mapped[dt.datetime]
    end_at: Mapped[dt.datetime]

    schedule: Mapped[ScheduleVersion] = relationship(back_populates="operations")
    operation = relationship("Operation")
    machine = relationship("Machine")


class OperationPin(Base):
    """A planner's decision the solver must keep: this operation on this machine (and start)."""

    __tablename__ = "operation_pin"

    operation_id: Mapped[int] = mapped_column(ForeignKey("operation.id", ondelete="CASCADE"), primary_key=True)
    machine_id: Mapped[int | None] = mapped_column(ForeignKey("machine.id"))
    start_at: Mapped[dt.datetime | None]
    pinned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    pinned_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
