"""The columns every operation has, on a routing and on a work order, and the columns of an
eligible machine with its own times. Mixins: each owner declares its table, keys and links."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

#: Minutes of setup or run time, to the thousandth (a run of 0.125 min per piece is common).
Minutes = Numeric(10, 3)


class OperationColumns:
    """A step of a route: where it runs, how long it takes by default, what the worker needs."""

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
    # True: starts after the previous operation in sequence (a chain, the usual case).
    # False: starts after the operations named in the owner's edge table (none: a branch starts here).
    follows_previous: Mapped[bool] = mapped_column(default=True)

    @declared_attr
    def work_center(cls) -> Mapped[Any]:  # noqa: N805
        return relationship("WorkCenter")


#: The data fields of an operation (what is copied from a routing to an order, or to a split lot).
COPIED_FIELDS = ("seq", "name", "instructions", "work_center_id", "setup_minutes", "run_minutes", "transfer_batch",
                 "inspection_required", "drawing", "program_no", "follows_previous")


def operation_constraints(owner_column: str) -> tuple[Any, ...]:
    """The table constraints every operation table has; ``owner_column`` names its routing or order."""
    return (
        UniqueConstraint(owner_column, "seq"),
        CheckConstraint("setup_minutes >= 0 AND run_minutes >= 0", name="times"),
        CheckConstraint("transfer_batch IS NULL OR transfer_batch > 0", name="transfer_batch"),
    )


class MachineTimeColumns:
    """A machine eligible for an operation, with its own times (old machines are slower)."""

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:  # noqa: N805
        return (
            UniqueConstraint("operation_id", "machine_id"),
            CheckConstraint("setup_minutes >= 0 AND run_minutes >= 0", name="times"),
        )

    id: Mapped[int] = mapped_column(primary_key=True)
    machine_id: Mapped[int] = mapped_column(ForeignKey("machine.id"))
    setup_minutes: Mapped[Decimal] = mapped_column(Minutes)
    run_minutes: Mapped[Decimal] = mapped_column(Minutes)

    @declared_attr
    def machine(cls) -> Mapped[Any]:  # noqa: N805
        return relationship("Machine")
