"""Failed-login throttling with counters in the database, so limits hold across processes and
restarts: per account, per kiosk device, and globally for PINs."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from mes.core.db import get_db, utcnow
from mes.core.models import LoginThrottle


@dataclass(frozen=True)
class Limit:
    key: str
    max_failures: int


def account(name: str) -> Limit:
    """``name`` is an already normalized identifier (mes.core.security.identifier)."""
    return Limit(f"account:{name}", current_app.config["LOGIN_MAX_FAILURES_ACCOUNT"])


def device(device_key: str) -> Limit:
    return Limit(f"device:{device_key}", current_app.config["LOGIN_MAX_FAILURES_DEVICE"])


def global_pin() -> Limit:
    return Limit("global:pin", current_app.config["LOGIN_MAX_FAILURES_GLOBAL"])


def global_badge() -> Limit:
    return Limit("global:badge", current_app.config["LOGIN_MAX_FAILURES_GLOBAL"])


def _window() -> dt.timedelta:
    return dt.timedelta(seconds=current_app.config["LOGIN_WINDOW_SECONDS"])


def locked_until(limits: list[Limit]) -> dt.datetime | None:
    """The latest lock among ``limits`` still in force, or None when a login may be tried."""
    now = utcnow()
    with get_db().read_session() as s:
        rows = s.scalars(select(LoginThrottle).where(LoginThrottle.key.in_([lim.key for lim in limits])))
        locks = [r.locked_until for r in rows if r.locked_until and r.locked_until > now]
    return max(locks) if locks else None


def _row_for_update(s: Session, key: str) -> LoginThrottle:
    insert = postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert
    s.execute(insert(LoginThrottle).values(key=key, failures=0, window_started_at=utcnow()).on_conflict_do_nothing())
    return s.scalars(select(LoginThrottle).where(LoginThrottle.key == key).with_for_update()).one()


def record_failure(limits: list[Limit]) -> None:
    """Count one failure against every limit, in a transaction of its own (the login itself fails)."""
    now = utcnow()
    with get_db().transaction() as s:
        for lim in sorted(limits, key=lambda x: x.key):  # same lock order in every process
            row = _row_for_update(s, lim.key)
            if now - row.window_started_at > _window():
                row.failures = 0
                row.window_started_at = now
            row.failures += 1
            if row.failures >= lim.max_failures:
                row.locked_until = now + _window()
                row.failures = 0
                row.window_started_at = now


def record_success(limits: list[Limit]) -> None:
    """A successful login clears its account's counter (not the device or global ones)."""
    with get_db().transaction() as s:
        for lim in limits:
            row = s.get(LoginThrottle, lim.key)
            if row is not None:
                row.failures = 0
                row.locked_until = None
