"""What machines tell over MQTT: state changes (the timeline), cumulative counter readings with
the pieces each one adds, alarms, messages that could not be taken (dead letters), each machine's
live summary, and how a machine's gateway publishes (its topic mapping)."""
from __future__ import annotations

import datetime as dt
import enum

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mes.core.audit import Audited
from mes.core.db import Base, str_enum, utcnow


class MachineState(enum.StrEnum):
    """What a machine says it is doing."""

    RUNNING = "running"
    IDLE = "idle"
    SETUP = "setup"
    DOWN = "down"
    OFF = "off"

    @property
    def label(self) -> str:
        return str(MACHINE_STATE_LABELS[self])


MACHINE_STATE_LABELS = {
    MachineState.RUNNING: _l("Running"),
    MachineState.IDLE: _l("Idle"),
    MachineState.SETUP: _l("Setup"),
    MachineState.DOWN: _l("Down"),
    MachineState.OFF: _l("Off"),
}


class StateEvent(Base):
    """A machine entered ``state`` at ``ts`` (the gateway's clock). The state lasts until the
    machine's next event by timestamp, so a late message falls into place; one event per machine
    and timestamp, so a redelivered message changes nothing."""

    __tablename__ = "machine_state_event"
    __table_args__ = (UniqueConstraint("machine_id", "ts"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    machine_id: Mapped[int] = mapped_column(ForeignKey("machine.id"))
    ts: Mapped[dt.datetime]
    state: Mapped[MachineState] = mapped_column(str_enum(MachineState, 8))
    reason: Mapped[str | None] = mapped_column(String(120))
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CounterReading(Base):
    """A gateway's cumulative good and scrap counters at ``ts``, and the pieces this reading adds
    to the previous one by timestamp (a drop is a reset or a rollover, never negative parts).
    ``operation_id`` is the operation running on the machine when the reading arrived."""

    __tablename__ = "machine_counter_reading"
    __table_args__ = (
        UniqueConstraint("machine_id", "ts"),
        CheckConstraint("good_delta >= 0 AND scrap_delta >= 0", name="deltas"),
        Index("ix_machine_counter_reading_operation", "operation_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    machine_id: Mapped[int] = mapped_column(ForeignKey("machine.id"))
    ts: Mapped[dt.datetime]
    good: Mapped[int] = mapped_column(BigInteger)
    scrap: Mapped[int] = mapped_column(BigInteger)
    good_delta: Mapped[int] = mapped_column(BigInteger, default=0)
    scrap_delta: Mapped[int] = mapped_column(BigInteger, default=0)
    # "reset" or "rollover" when the counter dropped since the previous reading.
    event: Mapped[str | None] = mapped_column(String(16))
    operation_id: Mapped[int | None] = mapped_column(ForeignKey("operation.id", ondelete="SET NULL"))
    # Set once the pieces were reported on the operation (confirmed by a worker, or posted
    # directly); the report, when the pieces were not all zero.
    reported: Mapped[bool] = mapped_column(default=False)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("production_report.id"))
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class MachineAlarm(Base):
    """An alarm a machine raised (``active``) or cleared, as its gateway reported it."""

    __tablename__ = "machine_alarm"
    __table_args__ = (UniqueConstraint("machine_id", "ts", "code", "active"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    machine_id: Mapped[int] = mapped_column(ForeignKey("machine.id"), index=True)
    ts: Mapped[dt.datetime]
    code: Mapped[str] = mapped_column(String(64))
    text: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool]
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DeadLetter(Base):
    """A message the worker could not take, kept with the reason for an administrator."""

    __tablename__ = "machine_dead_letter"

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    topic: Mapped[str] = mapped_column(String(400))
    payload: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str | None] = mapped_column(String(400))
    machine_id: Mapped[int | None] = mapped_column(ForeignKey("machine.id", ondelete="SET NULL"))


class MachineLive(Base):
    """One row per connected machine: where its timeline and counters stand (the worker locks
    it while it adds to them, so two workers never count one machine's pieces at once)."""

    __tablename__ = "machine_live"

    machine_id: Mapped[int] = mapped_column(ForeignKey("machine.id", ondelete="CASCADE"), primary_key=True)
    state: Mapped[MachineState | None] = mapped_column(str_enum(MachineState, 8))
    state_since: Mapped[dt.datetime | None]
    # The newest state event's timestamp (a repeated state moves it, not ``state_since``).
    state_ts: Mapped[dt.datetime | None]
    reason: Mapped[str | None] = mapped_column(String(120))
    counter_ts: Mapped[dt.datetime | None]
    good: Mapped[int | None] = mapped_column(BigInteger)
    scrap: Mapped[int | None] = mapped_column(BigInteger)
    last_message_at: Mapped[dt.datetime | None]
    # Gateway clock minus ours at the last message, in seconds: large means the clock is off.
    clock_offset_seconds: Mapped[int | None]
    # Since when the machine idles (an idle spell long enough becomes a downtime when it ends).
    idle_since: Mapped[dt.datetime | None]
    # Set when the worker marked the machine unavailable for the planner after a long stop.
    marked_unavailable: Mapped[bool] = mapped_column(default=False)
    # The automatic downtime open for the current stop, if any.
    downtime_id: Mapped[int | None] = mapped_column(ForeignKey("machine_downtime.id", ondelete="SET NULL"))


class TopicMapping(Audited, Base):
    """How one machine's gateway publishes, when not in the default ``mes/<site>/<code>/...``
    topics and payloads: its topics (MQTT wildcards allowed), where the fields sit in its JSON
    (dotted paths, numbers index lists), and what its state values mean."""

    __tablename__ = "machine_topic_mapping"

    id: Mapped[int] = mapped_column(primary_key=True)
    machine_id: Mapped[int] = mapped_column(ForeignKey("machine.id", ondelete="CASCADE"), unique=True)
    state_topic: Mapped[str | None] = mapped_column(String(200))
    count_topic: Mapped[str | None] = mapped_column(String(200))
    alarm_topic: Mapped[str | None] = mapped_column(String(200))
    ts_path: Mapped[str] = mapped_column(String(120), default="ts")
    state_path: Mapped[str] = mapped_column(String(120), default="state")
    reason_path: Mapped[str] = mapped_column(String(120), default="reason")
    good_path: Mapped[str] = mapped_column(String(120), default="good")
    scrap_path: Mapped[str] = mapped_column(String(120), default="scrap")
    code_path: Mapped[str] = mapped_column(String(120), default="code")
    text_path: Mapped[str] = mapped_column(String(120), default="text")
    active_path: Mapped[str] = mapped_column(String(120), default="active")
    # JSON object: the gateway's value -> running|idle|setup|down|off.
    state_map: Mapped[str | None] = mapped_column(Text)
    # The value after which the counter wraps to 0 (e.g. 65535); none: a drop is always a reset.
    counter_max: Mapped[int | None] = mapped_column(BigInteger)
    # Pieces per minute beyond which a jump is implausible (a glitch, not parts).
    max_rate_per_minute: Mapped[int] = mapped_column(default=600)
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[dt.datetime | None] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    machine = relationship("Machine")
    updated_by = relationship("User")
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class DisplayLink(Base):
    """A revocable link for an andon screen without login: only the token's digest is kept."""

    __tablename__ = "andon_display_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    work_center_id: Mapped[int | None] = mapped_column(ForeignKey("work_center.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    revoked_at: Mapped[dt.datetime | None]
    last_used_at: Mapped[dt.datetime | None]
