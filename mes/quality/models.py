"""What quality records: inspection results taken on the floor (append-only, like production
reports) and nonconformance reports with their disposition."""
from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from mes.core.audit import Audited
from mes.core.db import Base, str_enum, utcnow
from mes.operations.models import Frequency, Measure


class InspectionResult(Audited, Base):
    """One check of one characteristic on one piece (or lot). Never updated: a wrong entry is
    followed by a new one, and the latest result of an occasion counts."""

    __tablename__ = "inspection_result"
    __append_only__ = True
    __table_args__ = (
        CheckConstraint("sample_no > 0", name="sample_no"),
        Index("ix_inspection_result_char_occasion", "characteristic_id", "frequency", "sample_no"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operation.id"), index=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_order.id"), index=True)
    characteristic_id: Mapped[int] = mapped_column(ForeignKey("operation_characteristic.id"))
    # The occasion: first piece, the k-th "every N", last piece, the lot.
    frequency: Mapped[Frequency] = mapped_column(str_enum(Frequency))
    sample_no: Mapped[int] = mapped_column(default=1)
    # Pieces reported on the operation when the check was taken.
    pieces: Mapped[int] = mapped_column(default=0)
    value: Mapped[Decimal | None] = mapped_column(Measure)
    passed: Mapped[bool]
    defect: Mapped[str | None] = mapped_column(String(120))
    # The worker confirmed a value far outside the limits (not a typing error).
    confirmed: Mapped[bool] = mapped_column(default=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    machine_id: Mapped[int | None] = mapped_column(ForeignKey("machine.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)

    characteristic = relationship("OperationCharacteristic")
    operation = relationship("Operation")
    user = relationship("User")
    machine = relationship("Machine")


class NcrSource(enum.StrEnum):
    INSPECTION = "inspection"
    SCRAP = "scrap"
    MANUAL = "manual"

    @property
    def label(self) -> str:
        return str(NCR_SOURCE_LABELS[self])


class NcrStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return str(NCR_STATUS_LABELS[self])


class Disposition(enum.StrEnum):
    SCRAP = "scrap"
    REWORK = "rework"
    USE_AS_IS = "use_as_is"
    RETURN_TO_SUPPLIER = "return_to_supplier"

    @property
    def label(self) -> str:
        return str(DISPOSITION_LABELS[self])


NCR_SOURCE_LABELS = {NcrSource.INSPECTION: _l("Failed inspection"), NcrSource.SCRAP: _l("Scrap"),
                     NcrSource.MANUAL: _l("Raised by hand")}
NCR_STATUS_LABELS = {NcrStatus.OPEN: _l("Open"), NcrStatus.CLOSED: _l("Closed")}
DISPOSITION_LABELS = {
    Disposition.SCRAP: _l("Scrap"),
    Disposition.REWORK: _l("Rework"),
    Disposition.USE_AS_IS: _l("Use as is"),
    Disposition.RETURN_TO_SUPPLIER: _l("Return to supplier"),
}


class Nonconformance(Audited, Base):
    """A nonconformance report: pieces that do not conform, why, and what is done with them.
    Quality staff decide the disposition, which closes it."""

    __tablename__ = "nonconformance"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity"),
        CheckConstraint("status <> 'closed' OR disposition IS NOT NULL", name="disposed"),
        CheckConstraint("disposition <> 'use_as_is' OR disposition_reason IS NOT NULL", name="use_as_is_reason"),
        Index("ix_nonconformance_status", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[NcrSource] = mapped_column(str_enum(NcrSource), default=NcrSource.MANUAL)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_order.id"), index=True)
    operation_id: Mapped[int | None] = mapped_column(ForeignKey("operation.id"))
    inspection_result_id: Mapped[int | None] = mapped_column(ForeignKey("inspection_result.id"))
    production_report_id: Mapped[int | None] = mapped_column(ForeignKey("production_report.id"))
    quantity: Mapped[int]
    defect: Mapped[str] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(Text)
    photo: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    photo_type: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[NcrStatus] = mapped_column(str_enum(NcrStatus), default=NcrStatus.OPEN)
    disposition: Mapped[Disposition | None] = mapped_column(str_enum(Disposition, 24))
    disposition_reason: Mapped[str | None] = mapped_column(Text)
    rework_operation_id: Mapped[int | None] = mapped_column(ForeignKey("operation.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    disposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    disposed_at: Mapped[dt.datetime | None]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    version: Mapped[int] = mapped_column(default=1)

    work_order = relationship("WorkOrder")
    operation = relationship("Operation", foreign_keys=[operation_id])
    rework_operation = relationship("Operation", foreign_keys=[rework_operation_id])
    inspection_result = relationship("InspectionResult")
    created_by = relationship("User", foreign_keys=[created_by_id])
    disposed_by = relationship("User", foreign_keys=[disposed_by_id])
    updated_by = relationship("User", foreign_keys=[updated_by_id])

    __mapper_args__ = {"version_id_col": version}
