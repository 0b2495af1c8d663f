"""What every package's JSON API shares: bearer-token authentication (``Authorization: Bearer mes_...``,
see ``mes token create``) and the paging and error schemas."""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import marshmallow as ma
from flask import g, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from mes.core import audit
from mes.core.auth import Permission, permissions_of
from mes.core.db import session, transaction, utcnow
from mes.core.errors import DomainError, Forbidden
from mes.core.fields import Count
from mes.core.inputs import MAX_PAGE
from mes.core.models import ApiToken
from mes.core.security import digest

F = TypeVar("F", bound=Callable[..., Any])

SECURITY_SCHEME = {"type": "http", "scheme": "bearer", "description": "A token from `mes token create USERNAME`."}


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"
    default_message = _l("A valid bearer token is required.")


def _authenticate() -> None:
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        raise Unauthorized()
    token = session().scalar(select(ApiToken).where(ApiToken.digest == digest(raw.strip())))
    now = utcnow()
    if token is None or token.revoked_at or (token.expires_at and token.expires_at < now) or not token.user.active:
        raise Unauthorized()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        with transaction() as s:  # at most once a minute: keeps reads from becoming writes
            row = s.get(ApiToken, token.id)
            if row is not None:
                row.last_used_at = now
    g.api_user = token.user
    audit.set_actor(audit.Actor(token.user.id, token.user.username))


def token_required(*permissions: Permission) -> Callable[[F], F]:
    """Authenticate the bearer token and require one of ``permissions``."""

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def inner(*args: Any, **kwargs: Any) -> Any:
            _authenticate()
            if permissions and not set(permissions) & permissions_of(g.api_user):
                raise Forbidden()
            return fn(*args, **kwargs)

        inner.__mes_access__ = ("token", frozenset(permissions))  # type: ignore[attr-defined]
        return inner  # type: ignore[return-value]

    return wrap

class PageQuerySchema(ma.Schema):
    page = Count(load_default=1, max=MAX_PAGE)
    page_size = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=500))


class ErrorSchema(ma.Schema):
    code = ma.fields.String()
    message = ma.fields.String()
    errors = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()))
