"""Optimistic locking for what planners edit (work orders, routings, schedule versions): a
version column the mapper bumps on every change, and a stale edit refused naming who changed
the record and when."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from mes.core.audit import current_actor
from mes.core.db import utcnow
from mes.core.errors import StaleEdit


def check_version(record: Any, expected: int | None) -> None:
    """Optimistic locking: refuse an edit made on a stale copy, naming who changed it and when."""
    if expected is not None and record.version != expected:
        who = record.updated_by.display_name if record.updated_by else str(_l("someone"))
        raise StaleEdit(who, record.updated_at)


def touch(record: Any) -> None:
    """Mark ``record`` changed by the current actor (also when only its child rows changed),
    which bumps its version so stale editors are caught."""
    record.updated_at = utcnow()
    record.updated_by_id = current_actor().user_id
