"""Products and their families, versioned routings (operations, eligible machines, precedence),
and the sequence-dependent setup matrix of each work center."""
from __future__ import annotations

import datetime as dt
import enum

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint, true
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


class ProductFamily(Audited, Base):
    """Products that share a setup: changing between families costs changeover time."""

    __tablename__ = "product_family"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    updated_at: Mapped[dt.datetime | None] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_by = relationship("User")

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<ProductFamily {self.code}>"


class Product(Base):
    __tablename__ = "product"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    family_id: Mapped[int] = mapped_column(ForeignKey("product_family.id"), index=True)
    drawing: Mapped[str | None] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(default=True)

    family: Mapped[ProductFamily] = relationship()

    def __repr__(self) -> str:
        return f"<Product {self.code}>"


class RoutingStatus(enum.StrEnum):
    DRAFT = "draft"
    RELEASED = "released"
    OBSOLETE = "obsolete"

    @property
    def label(self) -> str:
        return str(ROUTING_STATUS_LABELS[self])


ROUTING_STATUS_LABELS = {
    RoutingStatus.DRAFT: _l("Draft"),
    RoutingStatus.RELEASED: _l("Released"),
    RoutingStatus.OBSOLETE: _l("Obsolete"),
}


class Routing(Audited, Base):
    """One version of a product's route. Only drafts are edited. The version in force on a day is
    the released one with the latest effective date on or before it; releasing a version that is
    already effective makes the earlier ones obsolete."""

    __tablename__ = "routing"
    __table_args__ = (UniqueConstraint("product_id", "version_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    version_no: Mapped[int]
    status: Mapped[RoutingStatus] = mapped_column(str_enum(RoutingStatus), default=RoutingStatus.DRAFT)
    effective_from: Mapped[dt.date | None]
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    version: Mapped[int] = mapped_column(default=1)

    product: Mapped[Product] = relationship()
    updated_by = relationship("User")
    operations: Mapped[list[RoutingOperation]] = relationship(
        back_populates="routing", cascade="all, delete-orphan", order_by="RoutingOperation.seq"
    )
    edges: Mapped[list[RoutingEdge]] = relationship(cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<Routing {self.product_id} v{self.version_no} {self.status}>"


class RoutingOperation(OperationColumns, Audited, Base):
    """A step of a routing. Without explicit machines, any machine of its work center is eligible
    with the default times given here."""

    __tablename__ = "routing_operation"
    __table_args__ = operation_constraints("routing_id")

    id: Mapped[int] = mapped_column(primary_key=True)
    routing_id: Mapped[int] = mapped_column(ForeignKey("routing.id", ondelete="CASCADE"), index=True)

    routing: Mapped[Routing] = relationship(back_populates="operations")
    machines: Mapped[list[RoutingOperationMachine]] = relationship(
        back_populates="operation", cascade="all, delete-orphan", order_by="RoutingOperationMachine.id"
    )
    characteristics: Mapped[list[RoutingCharacteristic]] = relationship(
        back_populates="operation", cascade="all, delete-orphan", order_by="RoutingCharacteristic.seq"
    )


class RoutingCharacteristic(CharacteristicColumns, Audited, Base):
    """A line of a routing operation's inspection plan."""

    __tablename__ = "routing_characteristic"
    __table_args__ = characteristic_constraints()

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("routing_operation.id", ondelete="CASCADE"), index=True)

    operation: Mapped[RoutingOperation] = relationship(back_populates="characteristics")


class RoutingOperationMachine(MachineTimeColumns, Audited, Base):
    """A machine eligible for a routing operation, with its own times."""

    __tablename__ = "routing_operation_machine"

    operation_id: Mapped[int] = mapped_column(ForeignKey("routing_operation.id", ondelete="CASCADE"), index=True)

    operation: Mapped[RoutingOperation] = relationship(back_populates="machines")


class RoutingEdge(Base):
    """An explicit precedence for a successor that does not simply follow the previous operation
    (parallel branches that join)."""

    __tablename__ = "routing_edge"

    routing_id: Mapped[int] = mapped_column(ForeignKey("routing.id", ondelete="CASCADE"), index=True)
    predecessor_id: Mapped[int] = mapped_column(
        ForeignKey("routing_operation.id", ondelete="CASCADE"), primary_key=True
    )
    successor_id: Mapped[int] = mapped_column(
        ForeignKey("routing_operation.id", ondelete="CASCADE"), primary_key=True
    )


class SetupMatrixEntry(Audited, Base):
    """Changeover minutes on a work center's machines from one product family to another."""

    __tablename__ = "setup_matrix_entry"
    __table_args__ = (
        UniqueConstraint("work_center_id", "from_family_id", "to_family_id"),
        CheckConstraint("minutes >= 0", name="minutes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    work_center_id: Mapped[int] = mapped_column(ForeignKey("work_center.id", ondelete="CASCADE"), index=True)
    from_family_id: Mapped[int] = mapped_column(ForeignKey("product_family.id"))
    to_family_id: Mapped[int] = mapped_column(ForeignKey("product_family.id"))
    minutes: Mapped[int]
