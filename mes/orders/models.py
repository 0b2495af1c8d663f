"""Work orders and their operations. Releasing an order copies its product's released routing
into these rows, so later routing edits never change orders already on the floor."""
from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mes.core.audit import Audited
from mes.core.db import Base, str_enum, utcnow

Minutes = Numeric(10, 3)


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


class Operation(Audited, Base):
    """One step of one work order, as released (and as changed by planners since)."""

    __tablename__ = "operation"
    __table_args__ = (
        UniqueConstraint("work_order_id", "seq"),
        CheckConstraint("setup_minutes >= 0 AND run_minutes >= 0", name="times"),
        CheckConstraint("qty_good >= 0 AND qty_scrap >= 0", name="quantities"),
        CheckConstraint("transfer_batch IS NULL OR transfer_batch > 0", name="transfer_batch"),
        Index("ix_operation_wc_status", "work_center_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_order.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int]
    name: Mapped[str] = mapped_column(String(120))
    instructions: Mapped[str | None] = mapped_column(Text)
    work_center_id: Mapped[int] = mapped_column(ForeignKey("work_center.id"))
    setup_minutes: Mapped[Decimal] = mapped_column(Minutes, default=Decimal(0))
    run_minutes: Mapped[Decimal] = mapped_column(Minutes, default=Decimal(0))
    transfer_batch: Mapped[int | None]
    inspection_required: Mapped[bool] = mapped_column(default=False)
    drawing: Mapped[str | None] = mapped_column(String(120))
    program_no: Mapped[str | None] = mapped_column(String(64))
    follows_previous: Mapped[bool] = mapped_column(default=True)
    status: Mapped[OperationStatus] = mapped_column(str_enum(OperationStatus), default=OperationStatus.PENDING)
    # Running totals of the production reports, kept in the reports' own transaction.
    qty_good: Mapped[int] = mapped_column(default=0)
    qty_scrap: Mapped[int] = mapped_column(default=0)
    machine_id: Mapped[int | None] = mapped_column(ForeignKey("machine.id"))
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    source_operation_id: Mapped[int | None] = mapped_column(ForeignKey("routing_operation.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(default=1)

    work_order: Mapped[WorkOrder] = relationship(back_populates="operations")
    work_center = relationship("WorkCenter")
    machine = relationship("Machine")
    machines: Mapped[list[OperationMachine]] = relationship(
        back_populates="operation", cascade="all, delete-orphan", order_by="OperationMachine.id"
    )

    __mapper_args__ = {"version_id_col": version}


class OperationMachine(Audited, Base):
    """A machine eligible for one work order operation, with its times."""

    __tablename__ = "operation_machine"
    __table_args__ = (
        UniqueConstraint("operation_id", "machine_id"),
        CheckConstraint("setup_minutes >= 0 AND run_minutes >= 0", name="times"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operation.id", ondelete="CASCADE"), index=True)
    machine_id: Mapped[int] = mapped_column(ForeignKey("machine.id"))
    setup_minutes: Mapped[Decimal] = mapped_column(Minutes)
    run_minutes: Mapped[Decimal] = mapped_column(Minutes)

    operation: Mapped[Operation] = relationship(back_populates="machines")
    machine = relationship("Machine")


class OperationEdge(Base):
    __tablename__ = "operation_edge"

    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_order.id", ondelete="CASCADE"), index=True)
    predecessor_id: Mapped[int] = mapped_column(ForeignKey("operation.id", ondelete="CASCADE"), primary_key=True)
    successor_id: Mapped[int] = mapped_column(ForeignKey("operation.id", ondelete="CASCADE"), primary_key=True)
