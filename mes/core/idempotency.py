"""Retried requests must not count twice (flaky shop Wi-Fi): a key made when the form is drawn,
or the API's ``Idempotency-Key`` header, is stored with the result in the same transaction as
the change. A replay returns the stored result; the same key with another payload is refused
(422); a resend racing the original waits for it and gets its answer."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
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
    """Run ``work`` once per ``key``: returns (status, body, replayed).

    The key is claimed, the work done and its answer stored in one transaction: a failed work
    leaves no key behind (the client may retry), and a resend racing the original waits for it
    (the key's unique index on PostgreSQL, the write lock on SQLite) and then gets its answer."""
    if not key:
        with transaction() as s:
            status, body = work(s)
        return status, body, False
    if len(key) > 128:
        raise ValidationError(_l("The idempotency key is too long."), fields={"Idempotency-Key": [_l("At most 128 characters.")]})
    request_digest = _digest(scope, payload)
    for _attempt in range(2):
        try:
            with transaction() as s:
                row = s.scalars(
                    select(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key).with_for_update()
                ).one_or_none()
                if row is not None:
                    replay = _answer_of(row, scope, request_digest)
                    if replay is not None:
                        return replay[0], replay[1], True
                    s.delete(row)  # a claim left by a request that died (written before the one-transaction claim)
                    s.flush()
                row = IdempotencyKey(user_id=user_id, key=key, scope=scope, request_digest=request_digest, state="running")
                s.add(row)
                s.flush()  # a racing resend with the same key waits here until this transaction ends
                status, body = work(s)
                row.state = "done"
                row.response_status = status
                row.response_body = json.dumps(body, default=str)
                row.finished_at = utcnow()
            return status, body, False
        except IntegrityError:
            continue  # the racing request committed first: the next attempt replays its answer
    raise Conflict(_l("This request is still being processed. Please wait a moment."), code="in_progress")


def _answer_of(row: IdempotencyKey, scope: str, request_digest: str) -> tuple[int, dict[str, Any]] | None:
    """The stored answer for a repeated key; None when a dead request's claim may be taken over."""
    if row.scope != scope or row.request_digest != request_digest:
        raise DomainError(_l("This request key was already used for a different request."), code="idempotency_mismatch")
    if row.state == "done":
        return row.response_status or 200, json.loads(row.response_body or "{}")
    if utcnow() - row.created_at < STALE_AFTER:
        raise Conflict(_l("This request is still being processed. Please wait a moment."), code="in_progress")
    return None
