"""Work centers, machines, shift calendars and machine downtime."""
from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mes.core.audit import Audited
from mes.core.db import Base, str_enum, utcnow


class MachineStatus(enum.StrEnum):
    """Whether the planner may use the machine (its live running state comes from MQTT)."""

    AVAILABLE = "available"
    DOWN = "down"
    MAINTENANCE = "maintenance"
    RETIRED = "retired"

    @property
    def label(self) -> str:
        return str(MACHINE_STATUS_LABELS[self])


MACHINE_STATUS_LABELS = {
    MachineStatus.AVAILABLE: _l("Available"),
    MachineStatus.DOWN: _l("Down"),
    MachineStatus.MAINTENANCE: _l("Maintenance"),
    MachineStatus.RETIRED: _l("Retired"),
}


class WorkCalendar(Audited, Base):
    """A weekly shift pattern (e.g. "one shift, Mon-Fri") shared by machines."""

    __tablename__ = "work_calendar"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    # --- plant setup: master-data columns (retire, optimistic locking) ---
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    updated_at: Mapped[dt.datetime | None] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_by = relationship("User")
    __mapper_args__ = {"version_id_col": version}
    # --- end plant setup ---

    shifts: Mapped[list[CalendarShift]] = relationship(
        back_populates="calendar", cascade="all, delete-orphan", order_by="CalendarShift.weekday"
    )
    exceptions: Mapped[list[CalendarException]] = relationship(
        back_populates="calendar", cascade="all, delete-orphan"
    )


class CalendarShift(Audited, Base):
    """Working time on one weekday, in minutes after local midnight (a night shift may pass 1440)."""

    __tablename__ = "calendar_shift"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("start_minute >= 0 AND end_minute > start_minute AND end_minute <= 2880", name="span"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("work_calendar.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int]
    start_minute: Mapped[int]
    end_minute: Mapped[int]

    calendar: Mapped[WorkCalendar] = relationship(back_populates="shifts")


class CalendarException(Audited, Base):
    """A holiday (no work) or an extra working day on a calendar."""

    __tablename__ = "calendar_exception"
    __table_args__ = (UniqueConstraint("calendar_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("work_calendar.id", ondelete="CASCADE"))
    day: Mapped[dt.date]
    working: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str | None] = mapped_column(String(200))

    calendar: Mapped[WorkCalendar] = relationship(back_populates="exceptions")


class WorkCenter(Audited, Base):
    __tablename__ = "work_center"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(Text)
    calendar_id: Mapped[int | None] = mapped_column(ForeignKey("work_calendar.id"))
    # Changeover minutes when the product family changes and the setup matrix has no entry.
    default_changeover_minutes: Mapped[int] = mapped_column(default=0)
    # --- plant setup: master-data columns (retire, optimistic locking) ---
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    updated_at: Mapped[dt.datetime | None] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_by = relationship("User")
    __mapper_args__ = {"version_id_col": version}
    # --- end plant setup ---

    calendar: Mapped[WorkCalendar | None] = relationship()
    machines: Mapped[list[Machine]] = relationship(back_populates="work_center", order_by="Machine.code")

    def __repr__(self) -> str:
        return f"<WorkCenter {self.code}>"


class Machine(Audited, Base):
    __tablename__ = "machine"
    __table_args__ = (CheckConstraint("year_built IS NULL OR year_built BETWEEN 1900 AND 2100", name="year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    work_center_id: Mapped[int] = mapped_column(ForeignKey("work_center.id"), index=True)
    make: Mapped[str | None] = mapped_column(String(80))
    model: Mapped[str | None] = mapped_column(String(80))
    year_built: Mapped[int | None]
    has_data_connection: Mapped[bool] = mapped_column(default=False)
    status: Mapped[MachineStatus] = mapped_column(str_enum(MachineStatus), default=MachineStatus.AVAILABLE)
    calendar_id: Mapped[int | None] = mapped_column(ForeignKey("work_calendar.id"))
    # Ideal cycle speed relative to the routing's standard times (OEE performance uses it later).
    speed_factor: Mapped[Decimal] = mapped_column(Numeric(6, 3), default=Decimal("1.000"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # --- plant setup: optimistic locking (retired = status RETIRED) ---
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    updated_at: Mapped[dt.datetime | None] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_by = relationship("User")
    __mapper_args__ = {"version_id_col": version}
    # --- end plant setup ---

    work_center: Mapped[WorkCenter] = relationship(back_populates="machines")
    calendar: Mapped[WorkCalendar | None] = relationship()

    @property
    def effective_calendar(self) -> WorkCalendar | None:
        return self.calendar or self.work_center.calendar

    def __repr__(self) -> str:
        return f"<Machine {self.code}>"


class MachineDowntime(Audited, Base):
    """A period a machine cannot work: a breakdown, planned maintenance. Audited: ending or
    correcting one changes what the scheduler plans."""

    __tablename__ = "machine_downtime"
    __table_args__ = (CheckConstraint("ends_at IS NULL OR ends_at > starts_at", name="span"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    machine_id: Mapped[int] = mapped_column(ForeignKey("machine.id"), index=True)
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime | None]
    kind: Mapped[str] = mapped_column(String(16), default="breakdown")
    note: Mapped[str | None] = mapped_column(Text)
    # "manual" (recorded in the office or on the terminal) or "machine" (the machine-data
    # worker saw the machine stop: a worker on the terminal gives the reason).
    source: Mapped[str] = mapped_column(String(16), default="manual", server_default="manual")
    # Set when a worker reported the stop from the floor (a downtime reason).
    reason_id: Mapped[int | None] = mapped_column(ForeignKey("reason.id"))

    machine: Mapped[Machine] = relationship()
    reason: Mapped[Reason | None] = relationship()


class ReasonKind(enum.StrEnum):
    """What a reason explains: an operation paused, pieces scrapped, a machine stopped."""

    PAUSE = "pause"
    SCRAP = "scrap"
    DOWNTIME = "downtime"

    @property
    def label(self) -> str:
        return str(REASON_KIND_LABELS[self])


REASON_KIND_LABELS = {
    ReasonKind.PAUSE: _l("Pause"),
    ReasonKind.SCRAP: _l("Scrap"),
    ReasonKind.DOWNTIME: _l("Downtime"),
}


class Reason(Audited, Base):
    """One entry of a plant's reason lists (why work paused, pieces were scrapped, a machine
    stopped), named in both languages so the floor shows it in the worker's. Retired, never
    deleted: reports keep pointing at it."""

    __tablename__ = "reason"
    __table_args__ = (UniqueConstraint("kind", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ReasonKind] = mapped_column(str_enum(ReasonKind))
    code: Mapped[str] = mapped_column(String(32))
    name_en: Mapped[str] = mapped_column(String(120))
    name_zh: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(default=True)
    sort_order: Mapped[int] = mapped_column(default=0)

    def name(self, locale: str) -> str:
        return self.name_zh if locale.startswith("zh") else self.name_en


#: The lists a new plant starts with: (kind, code, English, Chinese).
DEFAULT_REASONS: tuple[tuple[str, str, str, str], ...] = (
    ("pause", "material", "Waiting for material", "等待物料"),
    ("pause", "machine_fault", "Machine fault", "设备故障"),
    ("pause", "break", "Break", "休息"),
    ("pause", "quality_hold", "Quality hold", "质量暂停"),
    ("pause", "tooling", "Tooling", "工装刀具"),
    ("pause", "other", "Other", "其他"),
    ("scrap", "dimension", "Out of tolerance", "尺寸超差"),
    ("scrap", "surface", "Surface defect", "表面缺陷"),
    ("scrap", "material", "Material defect", "材料缺陷"),
    ("scrap", "setup", "Setup piece", "调机件"),
    ("scrap", "handling", "Damaged in handling", "搬运损坏"),
    ("scrap", "other", "Other", "其他"),
    ("downtime", "breakdown", "Breakdown", "设备故障停机"),
    ("downtime", "tool_break", "Tool breakage", "断刀"),
    ("downtime", "power", "Power or air failure", "断电或断气"),
    ("downtime", "repair", "Unplanned maintenance", "计划外维修"),
    ("downtime", "no_operator", "No operator", "无人操作"),
    ("downtime", "other", "Other", "其他"),
)
