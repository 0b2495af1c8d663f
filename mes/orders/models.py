"""Work orders, their operations and the production reported on them. Releasing an order copies
its product's released routing into these rows, so later routing edits never change orders
already on the floor."""
from __future__ import annotations

import datetime as dt
import enum

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mes.core.audit import Audited
from mes.core.db import Base, str_enum, utcnow
from mes.operations.models import (
    CharacteristicColumns,
    MachineTimeColumns,
    OperationColumns,
    characteristic_constraints,
    operation_constraints,
)


class WorkOrderStatus(enum.StrEnum):
    DRAFT = "draft"
    RELEASED = "released"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CLOSED = "closed"
    ON_HOLD = "on_hold"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return str(WORK_ORDER_STATUS_LABELS[self])


WORK_ORDER_STATUS_LABELS = {
    WorkOrderStatus.DRAFT: _l("Draft"),
    WorkOrderStatus.RELEASED: _l("Released"),
    WorkOrderStatus.IN_PROGRESS: _l("In progress"),
    WorkOrderStatus.COMPLETED: _l("Completed"),
    WorkOrderStatus.CLOSED: _l("Closed"),
    WorkOrderStatus.ON_HOLD: _l("On hold"),
    WorkOrderStatus.CANCELLED: _l("Cancelled"),
}

#: Orders the shop floor and the scheduler work on.
ACTIVE_STATUSES = (WorkOrderStatus.RELEASED, WorkOrderStatus.IN_PROGRESS)
#: Orders not yet finished: what planners work on and what can be late.
OPEN_STATUSES = (WorkOrderStatus.DRAFT, WorkOrderStatus.RELEASED, WorkOrderStatus.IN_PROGRESS, WorkOrderStatus.ON_HOLD)


class Priority(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def weight(self) -> int:
        """Weight of a day late in the scheduler's weighted tardiness."""
        return {"low": 1, "normal": 2, "high": 4, "urgent": 8}[self.value]

    @property
    def label(self) -> str:
        return str(PRIORITY_LABELS[self])


PRIORITY_LABELS = {
    Priority.LOW: _l("Low"),
    Priority.NORMAL: _l("Normal"),
    Priority.HIGH: _l("High"),
    Priority.URGENT: _l("Urgent"),
}


class OperationStatus(enum.StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    PAUSED = "paused"
    DONE = "done"
    SKIPPED = "skipped"

    @property
    def label(self) -> str:
        return str(OPERATION_STATUS_LABELS[self])

    @property
    def started(self) -> bool:
        """Started or finished work cannot be changed by a planner."""
        return self in (OperationStatus.IN_PROGRESS, OperationStatus.PAUSED, OperationStatus.DONE)


OPERATION_STATUS_LABELS = {
    OperationStatus.PENDING: _l("Pending"),
    OperationStatus.IN_PROGRESS: _l("Running"),
    OperationStatus.PAUSED: _l("Paused"),
    OperationStatus.DONE: _l("Done"),
    OperationStatus.SKIPPED: _l("Skipped"),
}


class WorkOrder(Audited, Base):
    __tablename__ = "work_order"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity"),
        CheckConstraint("release_date IS NULL OR due_date >= release_date", name="dates"),
        Index("ix_work_order_status_due", "status", "due_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    quantity: Mapped[int]
    release_date: Mapped[dt.date | None]
    due_date: Mapped[dt.date] = mapped_column(index=True)
    priority: Mapped[Priority] = mapped_column(str_enum(Priority, 8), default=Priority.NORMAL)
    customer: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[WorkOrderStatus] = mapped_column(str_enum(WorkOrderStatus), default=WorkOrderStatus.DRAFT)
    # The status to return to when a hold is released.
    held_from: Mapped[WorkOrderStatus | None] = mapped_column(str_enum(WorkOrderStatus))
    routing_id: Mapped[int | None] = mapped_column(ForeignKey("routing.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("work_order.id"))
    note: Mapped[str | None] = mapped_column(Text)
    released_at: Mapped[dt.datetime | None]
    completed_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    version: Mapped[int] = mapped_column(default=1)

    product = relationship("Product")
    routing = relationship("Routing")
    updated_by = relationship("User")
    parent: Mapped[WorkOrder | None] = relationship(remote_side=[id])
    operations: Mapped[list[Operation]] = relationship(
        back_populates="work_order", cascade="all, delete-orphan", order_by="Operation.seq"
    )
    edges: Mapped[list[OperationEdge]] = relationship(cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<WorkOrder {self.number} {self.status}>"


class Operation(OperationColumns, Audited, Base):
    """One step of one work order, as released (and as changed by planners since)."""

    __tablename__ = "operation"
    __table_args__ = (
        *operation_constraints("work_order_id"),
        CheckConstraint("qty_good >= 0 AND qty_scrap >= 0", name="quantities"),
        Index("ix_operation_wc_status", "work_center_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_order.id", ondelete="CASCADE"), index=True)
    status: Mapped[OperationStatus] = mapped_column(str_enum(OperationStatus), default=OperationStatus.PENDING)
    # Running totals of the production reports, kept in the reports' own transaction.
    qty_good: Mapped[int] = mapped_column(default=0)
    qty_scrap: Mapped[int] = mapped_column(default=0)
    machine_id: Mapped[int | None] = mapped_column(ForeignKey("machine.id"))
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    # While started: setting up or running (the floor's lifecycle sets it).
    phase: Mapped[str | None] = mapped_column(String(8))
    # Why a paused operation stands still (a pause reason).
    pause_reason_id: Mapped[int | None] = mapped_column(ForeignKey("reason.id"))
    source_operation_id: Mapped[int | None] = mapped_column(ForeignKey("routing_operation.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(default=1)

    work_order: Mapped[WorkOrder] = relationship(back_populates="operations")
    machine = relationship("Machine")
    pause_reason = relationship("Reason")
    machines: Mapped[list[OperationMachine]] = relationship(
        back_populates="operation", cascade="all, delete-orphan", order_by="OperationMachine.id"
    )
    characteristics: Mapped[list[OperationCharacteristic]] = relationship(
        back_populates="operation", cascade="all, delete-orphan", order_by="OperationCharacteristic.seq"
    )

    __mapper_args__ = {"version_id_col": version}


class OperationCharacteristic(CharacteristicColumns, Audited, Base):
    """A line of a work order operation's inspection plan, copied from the routing at release."""

    __tablename__ = "operation_characteristic"
    __table_args__ = characteristic_constraints()

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operation.id", ondelete="CASCADE"), index=True)
    # The routing's line it was copied from: results of all orders of a product meet there (control charts).
    source_characteristic_id: Mapped[int | None] = mapped_column(
        ForeignKey("routing_characteristic.id", ondelete="SET NULL"), index=True)

    operation: Mapped[Operation] = relationship(back_populates="characteristics")


class OperationMachine(MachineTimeColumns, Audited, Base):
    """A machine eligible for one work order operation, with its times."""

    __tablename__ = "operation_machine"

    operation_id: Mapped[int] = mapped_column(ForeignKey("operation.id", ondelete="CASCADE"), index=True)

    operation: Mapped[Operation] = relationship(back_populates="machines")


class OperationEdge(Base):
    __tablename__ = "operation_edge"

    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_order.id", ondelete="CASCADE"), index=True)
    predecessor_id: Mapped[int] = mapped_column(ForeignKey("operation.id", ondelete="CASCADE"), primary_key=True)
    successor_id: Mapped[int] = mapped_column(ForeignKey("operation.id", ondelete="CASCADE"), primary_key=True)


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
