"""Production reports: append-only records of good and scrap quantities per operation."""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mes.core.audit import Audited
from mes.core.db import Base, str_enum, utcnow


class ReportKind(enum.StrEnum):
    PRODUCTION = "production"
    # Reverses an earlier report (negative quantities), with a reason.
    CORRECTION = "correction"
    # Moves reported pieces between lots when a work order is split.
    TRANSFER = "transfer"


class ProductionReport(Audited, Base):
    """Good and scrap pieces reported for an operation. Never updated or deleted: a correction is
    a new report with negative quantities that names the one it reverses and why."""

    __tablename__ = "production_report"
    __append_only__ = True
    __table_args__ = (
        CheckConstraint("kind <> 'production' OR (good_qty >= 0 AND scrap_qty >= 0)", name="quantities"),
        CheckConstraint("kind = 'production' OR reason IS NOT NULL", name="reason"),
        CheckConstraint("kind <> 'correction' OR reverses_id IS NOT NULL", name="reverses"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ReportKind] = mapped_column(str_enum(ReportKind), default=ReportKind.PRODUCTION)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operation.id"), index=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_order.id"), index=True)
    machine_id: Mapped[int | None] = mapped_column(ForeignKey("machine.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    good_qty: Mapped[int] = mapped_column(default=0)
    scrap_qty: Mapped[int] = mapped_column(default=0)
    scrap_reason: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16), default="terminal")
    reported_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("production_report.id"))
    reason: Mapped[str | None] = mapped_column(Text)

    operation = relationship("Operation")
    user = relationship("User")
