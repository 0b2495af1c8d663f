"""Server-side login sessions: each login gets a random id, kept in the signed session cookie and
(as a digest) in the database. Logging out deletes the row, so a copied cookie stops working on
every process, also after a restart, while the user's other sessions (another tablet) go on."""
from __future__ import annotations

import datetime as dt
import secrets

from flask import current_app
from sqlalchemy import delete, select

from mes.core.db import get_db, session as read_session, transaction, utcnow
from mes.core.models import UserSession
from mes.core.security import digest

SESSION_KEY = "mes_sid"


def _max_age() -> dt.timedelta:
    return dt.timedelta(days=current_app.config["SESSION_MAX_DAYS"])


def start(user_id: int) -> str:
    """A new session for ``user_id``; the returned id goes into the cookie, only its digest is stored."""
    sid = secrets.token_urlsafe(32)
    now = utcnow()
    with transaction() as s:
        # Sessions never logged out (a closed browser) are dropped once they are too old to be used.
        s.execute(delete(UserSession).where(UserSession.created_at < now - _max_age()))
        s.add(UserSession(id=digest(sid), user_id=user_id, created_at=now))
    return sid


def is_valid(sid: str | None, user_id: int) -> bool:
    if not sid or not isinstance(sid, str):
        return False
    row = read_session().get(UserSession, digest(sid))
    return row is not None and row.user_id == user_id and utcnow() - row.created_at < _max_age()


def end(sid: str | None) -> None:
    """Log this one session out everywhere its cookie may have been copied to."""
    if not sid or not isinstance(sid, str):
        return
    with get_db().transaction() as s:
        s.execute(delete(UserSession).where(UserSession.id == digest(sid)))


def end_all(s, user_id: int) -> None:  # type: ignore[no-untyped-def]
    """Inside the caller's transaction: every session of the user ends (password change)."""
    s.execute(delete(UserSession).where(UserSession.user_id == user_id))


def count(user_id: int) -> int:
    return len(read_session().scalars(select(UserSession.id).where(UserSession.user_id == user_id)).all())
