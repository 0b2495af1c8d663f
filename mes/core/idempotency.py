"""Retried requests must not count twice (flaky shop Wi-Fi): a key made when the form is drawn,
or the API's ``Idempotency-Key`` header, is stored with the result in the same transaction as
the change. A replay returns the stored result; the same key with another payload is refused
(422); the same key while the first request still runs gets 409."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mes.core.db import transaction, utcnow
from mes.core.errors import Conflict, DomainError, ValidationError
from mes.core.models import IdempotencyKey

# A claim older than this belongs to a request that died; a retry may take it over.
STALE_AFTER = dt.timedelta(minutes=2)


def _digest(scope: str, payload: Any) -> str:
    return hashlib.sha256(json.dumps([scope, payload], sort_keys=True, default=str).encode()).hexdigest()


def run(
    user_id: int,
    key: str | None,
    scope: str,
    payload: Any,
    work: Callable[[Session], tuple[int, dict[str, Any]]],
) -> tuple[int, dict[str, Any], bool]:
    """Run ``work`` once per ``key``: returns (status, body, replayed)."""
    if not key:
        with transaction() as s:
            status, body = work(s)
        return status, body, False
    if len(key) > 128:
        raise ValidationError(_l("The idempotency key is too long."), fields={"Idempotency-Key": [_l("At most 128 characters.")]})
    request_digest = _digest(scope, payload)
    replay = _claim(user_id, key, scope, request_digest)
    if replay is not None:
        return replay[0], replay[1], True
    try:
        with transaction() as s:
            status, body = work(s)
            row = s.scalars(
                select(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key).with_for_update()
            ).one()
            row.state = "done"
            row.response_status = status
            row.response_body = json.dumps(body, default=str)
            row.finished_at = utcnow()
        return status, body, False
    except BaseException:
        # The work did not happen: free the key so the client may retry it.
        with transaction() as s:
            s.execute(
                delete(IdempotencyKey).where(
                    IdempotencyKey.user_id == user_id, IdempotencyKey.key == key, IdempotencyKey.state == "running"
                )
            )
        raise


def _claim(user_id: int, key: str, scope: str, request_digest: str) -> tuple[int, dict[str, Any]] | None:
    try:
        with transaction() as s:
            row = s.scalars(
                select(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key).with_for_update()
            ).one_or_none()
            if row is None:
                s.add(IdempotencyKey(user_id=user_id, key=key, scope=scope, request_digest=request_digest, state="running"))
                return None
            if row.scope != scope or row.request_digest != request_digest:
                raise DomainError(
                    _l("This request key was already used for a different request."), code="idempotency_mismatch"
                )
            if row.state == "done":
                return row.response_status or 200, json.loads(row.response_body or "{}")
            if utcnow() - row.created_at < STALE_AFTER:
                raise Conflict(_l("This request is still being processed. Please wait a moment."), code="in_progress")
            row.created_at = utcnow()
            return None
    except IntegrityError:
        # Another process inserted the same key between our read and insert: it is running.
        raise Conflict(_l("This request is still being processed. Please wait a moment."), code="in_progress") from None
