"""Failed-login throttling with counters in the database, so limits hold across processes and
restarts.

An account is throttled per source (its address, or the kiosk it is tried on) with delays that
grow with every further failure, plus a much looser limit for the account from anywhere: someone
guessing from one address slows only themselves down, and cannot lock the owner (the admin, say)
out from another. Kiosk devices and PIN/badge logins as a whole keep their fixed limits."""
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
    # Growing: each failure past the limit doubles the wait (from LOGIN_BASE_DELAY_SECONDS up to
    # the window). Fixed: past the limit, locked for the whole window.
    growing: bool = False


def account(name: str, source: str) -> list[Limit]:
    """The limits on account ``name`` (an already normalized identifier, see
    mes.core.security.identifier) tried from ``source`` ("ip:..." or "kiosk:...")."""
    config = current_app.config
    return [Limit(f"account:{name}|{source}", config["LOGIN_MAX_FAILURES_ACCOUNT"], growing=True),
            Limit(f"account:{name}", config["LOGIN_MAX_FAILURES_ACCOUNT_ANYWHERE"], growing=True)]


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
            if row.failures < lim.max_failures:
                continue
            if lim.growing:
                # The count goes on within the window: 30 s, 1 min, 2 min, ... up to the window.
                base = current_app.config["LOGIN_BASE_DELAY_SECONDS"]
                delay = dt.timedelta(seconds=base * 2 ** min(row.failures - lim.max_failures, 20))
                row.locked_until = now + min(delay, _window())
            else:
                row.locked_until = now + _window()
                row.failures = 0
                row.window_started_at = now


def record_success(limits: list[Limit]) -> None:
    """A successful login clears the counters given (its account's from this source, not the
    device or global ones)."""
    with get_db().transaction() as s:
        for lim in limits:
            row = s.get(LoginThrottle, lim.key)
            if row is not None:
                row.failures = 0
                row.locked_until = None
