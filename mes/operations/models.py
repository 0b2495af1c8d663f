"""The columns every operation has, on a routing and on a work order, and the columns of an
eligible machine with its own times. Mixins: each owner declares its table, keys and links."""
from __future__ import annotations

import enum
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from mes.core.db import str_enum

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


class CharacteristicKind(enum.StrEnum):
    """A measured value against limits, or an attribute judged pass or fail."""

    MEASURED = "measured"
    ATTRIBUTE = "attribute"

    @property
    def label(self) -> str:
        return str(CHARACTERISTIC_KIND_LABELS[self])


class Frequency(enum.StrEnum):
    """When a characteristic is inspected."""

    FIRST = "first"  # the first piece (first article)
    EVERY_N = "every_n"  # every N pieces reported
    LAST = "last"  # the last piece of the lot
    LOT = "lot"  # once per lot (work order)

    @property
    def label(self) -> str:
        return str(FREQUENCY_LABELS[self])


CHARACTERISTIC_KIND_LABELS = {CharacteristicKind.MEASURED: _l("Measured"), CharacteristicKind.ATTRIBUTE: _l("Attribute")}
FREQUENCY_LABELS = {
    Frequency.FIRST: _l("First piece"),
    Frequency.EVERY_N: _l("Every N pieces"),
    Frequency.LAST: _l("Last piece"),
    Frequency.LOT: _l("Once per lot"),
}

#: Inspection values: up to 10 digits before and 4 after the point.
Measure = Numeric(14, 4)


class CharacteristicColumns:
    """One line of an operation's inspection plan: what to check, against what, how often.
    Routings hold the plan; releasing an order copies it with the operation."""

    seq: Mapped[int]
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[CharacteristicKind] = mapped_column(str_enum(CharacteristicKind), default=CharacteristicKind.MEASURED)
    nominal: Mapped[Decimal | None] = mapped_column(Measure)
    lower_limit: Mapped[Decimal | None] = mapped_column(Measure)
    upper_limit: Mapped[Decimal | None] = mapped_column(Measure)
    unit: Mapped[str | None] = mapped_column(String(16))
    gauge: Mapped[str | None] = mapped_column(String(64))
    # Attributes: the defects a worker may pick when a piece fails, one per line.
    defects: Mapped[str | None] = mapped_column(Text)
    frequency: Mapped[Frequency] = mapped_column(str_enum(Frequency), default=Frequency.FIRST)
    every_n: Mapped[int | None]

    @property
    def defect_list(self) -> list[str]:
        return [d.strip() for d in (self.defects or "").splitlines() if d.strip()]


#: The data fields of a characteristic (copied with its operation).
CHARACTERISTIC_FIELDS = ("seq", "name", "kind", "nominal", "lower_limit", "upper_limit", "unit", "gauge", "defects",
                         "frequency", "every_n")


def characteristic_constraints() -> tuple[Any, ...]:
    return (
        UniqueConstraint("operation_id", "seq"),
        CheckConstraint("lower_limit IS NULL OR upper_limit IS NULL OR lower_limit <= upper_limit", name="limits"),
        CheckConstraint("every_n IS NULL OR every_n > 0", name="every_n"),
    )
