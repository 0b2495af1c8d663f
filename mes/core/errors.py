"""Errors users can cause: domain exceptions carrying a localizable message and an HTTP status.

One handler turns them into a 4xx: JSON for the API, an in-place message for htmx, a page otherwise.
Programming errors are not caught here.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import LazyString, lazy_gettext as _l

from mes.core.i18n import format_moment


class DomainError(Exception):
    """A user-caused error. ``message`` is a (lazy) translatable string with ``%(name)s`` fields."""

    status = 422
    code = "invalid"
    default_message: Any = _l("The request could not be processed.")

    def __init__(
        self,
        message: str | LazyString | None = None,
        *,
        fields: dict[str, list[str]] | None = None,
        code: str | None = None,
        **params: Any,
    ) -> None:
        self.message = message if message is not None else self.default_message
        self.params = params
        self.fields = fields or {}
        if code:
            self.code = code
        super().__init__(str(self.message) % params if params else str(self.message))

    def text(self) -> str:
        text = str(self.message)
        return text % self.params if self.params else text

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.text()}
        if self.fields:
            body["errors"] = {k: [str(m) for m in v] for k, v in self.fields.items()}
        return body


class ValidationError(DomainError):
    status = 422
    code = "validation_error"
    default_message = _l("Please correct the highlighted fields.")


class BadRequest(DomainError):
    status = 400
    code = "bad_request"
    default_message = _l("The request is malformed.")


class NotFound(DomainError):
    status = 404
    code = "not_found"
    default_message = _l("Not found.")


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    default_message = _l("You are not allowed to do this.")


class Conflict(DomainError):
    status = 409
    code = "conflict"
    default_message = _l("This conflicts with the current state.")


class StaleEdit(Conflict):
    """Someone saved the record since the form was drawn (optimistic locking)."""

    code = "stale"

    def __init__(self, changed_by: str, changed_at: dt.datetime | None) -> None:
        when = format_moment(changed_at) if changed_at else "?"
        super().__init__(
            _l("This record was changed by %(who)s at %(when)s. Reload it and apply your change again."),
            who=changed_by,
            when=when,
        )
        self.changed_by = changed_by
        self.changed_at = changed_at

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
        body["changed_by"] = self.changed_by
        body["changed_at"] = self.changed_at.isoformat() if self.changed_at else None
        return body


class InvalidTransition(Conflict):
    code = "invalid_transition"
    default_message = _l("This action is not possible in the record's current state.")
