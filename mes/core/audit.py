"""The audit log: every change to audited records becomes one row per changed field.

Rows are written from mapper hooks on the same connection, in the same transaction as the change, so an audit entry
exists exactly when the change does. Who made the change and why come from the request context
(:func:`actor_context`, :func:`reason`).
"""
from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import decimal
import enum
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, event, insert, inspect
from sqlalchemy.orm import Session

from mes.core.db import utcnow
from mes.core.models import AuditEntry


class Audited:
    """Mixin: changes to rows of this class are written to the audit log."""

    __audit_exclude__: frozenset[str] = frozenset({"version", "updated_at", "updated_by_id", "created_at"})


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    name: str


SYSTEM = Actor(None, "system")
_actor: contextvars.ContextVar[Actor] = contextvars.ContextVar("mes_actor", default=SYSTEM)
_reason: contextvars.ContextVar[str | None] = contextvars.ContextVar("mes_reason", default=None)


def current_actor() -> Actor:
    return _actor.get()


@contextlib.contextmanager
def actor_context(actor: Actor) -> Iterator[None]:
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)


def set_actor(actor: Actor) -> None:
    """Set the actor for the rest of this context (a request, a CLI command)."""
    _actor.set(actor)


@contextlib.contextmanager
def reason(text: str | None) -> Iterator[None]:
    """Attach a reason to every audit entry written inside the block."""
    token = _reason.set(text)
    try:
        yield
    finally:
        _reason.reset(token)


# Reasons the app writes itself are stored as a key and its values, and read in the reader's
# language (:func:`reason_text`); what a user types is stored as typed.
_KEYED = "mes:"


def keyed_reason(key: str, **values: Any) -> str:
    """A reason the app gives (see ``REASONS``), stored language-neutral."""
    return _KEYED + json.dumps({"key": key, "values": values}, ensure_ascii=False, sort_keys=True)


def reason_key(stored: str | None) -> tuple[str, dict[str, Any]] | None:
    """(key, values) of a keyed reason; None for a typed one."""
    if not stored or not stored.startswith(_KEYED):
        return None
    try:
        data = json.loads(stored[len(_KEYED):])
        return str(data["key"]), dict(data.get("values") or {})
    except (ValueError, KeyError, TypeError):
        return None


def record(s: Session, entity: str, entity_id: int, action: str, field: str | None = None,
           old: Any = None, new: Any = None) -> None:
    """An explicit audit entry for an event that is no column change of an Audited record (a
    schedule run, a terminal enrolled), in the caller's transaction."""
    actor = current_actor()
    s.execute(insert(AuditEntry), [dict(at=utcnow(), user_id=actor.user_id, actor=actor.name, entity=entity,
                                        entity_id=entity_id, action=action, field=field, old_value=_render(old),
                                        new_value=_render(new), reason=_reason.get())])


def _render(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, (dt.date, decimal.Decimal)):
        return str(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _row(obj: Any, action: str, field: str | None, old: Any, new: Any) -> dict[str, Any]:
    actor = current_actor()
    return dict(
        at=utcnow(),
        user_id=actor.user_id,
        actor=actor.name,
        entity=obj.__tablename__,
        entity_id=inspect(obj).mapper.primary_key_from_instance(obj)[0],
        action=action,
        field=field,
        old_value=_render(old),
        new_value=_render(new),
        reason=_reason.get(),
    )


def _after_insert(_mapper: Any, connection: Connection, obj: Any) -> None:
    if not isinstance(obj, Audited):
        return
    values = {
        attr.key: _render(getattr(obj, attr.key))
        for attr in inspect(obj).mapper.column_attrs
        if attr.key not in obj.__audit_exclude__ and getattr(obj, attr.key) is not None
    }
    connection.execute(insert(AuditEntry), [_row(obj, "create", None, None, values)])


def _after_update(_mapper: Any, connection: Connection, obj: Any) -> None:
    if not isinstance(obj, Audited):
        return
    state = inspect(obj)
    rows = []
    for attr in state.mapper.column_attrs:
        if attr.key in obj.__audit_exclude__:
            continue
        history = state.attrs[attr.key].history
        if not history.has_changes():
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        if _render(old) != _render(new):
            rows.append(_row(obj, "update", attr.key, old, new))
    if rows:
        connection.execute(insert(AuditEntry), rows)


def _after_delete(_mapper: Any, connection: Connection, obj: Any) -> None:
    # Mapper events see every deleted row, including orphans removed by a cascade.
    if isinstance(obj, Audited):
        connection.execute(insert(AuditEntry), [_row(obj, "delete", None, None, None)])


def install(base: type) -> None:
    """Hook the audit writer into every mapped class under ``base`` (idempotent)."""
    if event.contains(base, "after_insert", _after_insert):
        return
    event.listen(base, "after_insert", _after_insert, propagate=True)
    event.listen(base, "after_update", _after_update, propagate=True)
    event.listen(base, "after_delete", _after_delete, propagate=True)
    event.listen(Session, "before_flush", _refuse_audit_changes)


def _refuse_audit_changes(session: Session, _context: Any, _instances: Any) -> None:
    # The database refuses it too (triggers); failing here gives a clearer traceback.
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEntry) or getattr(obj, "__append_only__", False):
            raise RuntimeError(f"{type(obj).__name__} rows are append-only")
