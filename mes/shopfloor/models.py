"""Time booked on the floor: who is clocked on which operation right now, and the append-only
labour records the lifecycle writes from those clocks (or a worker enters after the fact)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mes.core.db import Base, utcnow


class LabourClock(Base):
    """A worker clocked on an operation since ``started_at``: open, not yet booked. Booking it
    (:func:`mes.shopfloor.services` on every change of the worker's clocks) writes a
    :class:`LabourRecord` and moves ``started_at`` on."""

    __tablename__ = "labour_clock"
    __table_args__ = (UniqueConstraint("user_id", "operation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operation.id", ondelete="CASCADE"), index=True)
    machine_id: Mapped[int | None] = mapped_column(ForeignKey("machine.id"))
    phase: Mapped[str] = mapped_column(String(8))
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    user = relationship("User")
    operation = relationship("Operation")


class LabourRecord(Base):
    """Minutes one worker spent on one operation (setup or run). Never updated or deleted.

    ``minutes`` is the worker's elapsed time divided by the number of operations the worker was
    clocked on at once (``shared_by``): two machines tended for an hour book 30 minutes each."""

    __tablename__ = "labour_record"
    __append_only__ = True
    __table_args__ = (
        CheckConstraint("minutes >= 0", name="minutes"),
        CheckConstraint("shared_by >= 1", name="shared_by"),
        CheckConstraint("source <> 'manual' OR reason IS NOT NULL", name="reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operation.id"), index=True)
    machine_id: Mapped[int | None] = mapped_column(ForeignKey("machine.id"))
    phase: Mapped[str] = mapped_column(String(8))
    started_at: Mapped[dt.datetime | None]
    ended_at: Mapped[dt.datetime | None]
    minutes: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    shared_by: Mapped[int] = mapped_column(default=1)
    source: Mapped[str] = mapped_column(String(16), default="terminal")
    reason: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    user = relationship("User")
    machine = relationship("Machine")
