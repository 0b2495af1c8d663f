"""Marshmallow fields the API's schemas share, so every JSON input has the same bounds: ids and
counts the database can hold, dates a plant plans with, and (see Text) bounded clean text."""
from __future__ import annotations

import unicodedata
from typing import Any

import marshmallow as ma

from mes.core.converters import MAX_ID
from mes.core.inputs import DATE_MAX, DATE_MIN, MAX_INT


class Id(ma.fields.Integer):
    """A record id (1 .. 2^63-1)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("validate", ma.validate.Range(min=1, max=MAX_ID))
        super().__init__(**kwargs)


class Count(ma.fields.Integer):
    """Pieces, sequence numbers, versions: an INTEGER column (default 1 .. 2^31-1)."""

    def __init__(self, *, min: int = 1, max: int = MAX_INT, **kwargs: Any) -> None:
        kwargs.setdefault("validate", ma.validate.Range(min=min, max=max))
        super().__init__(**kwargs)


class PlantDate(ma.fields.Date):
    """A date between DATE_MIN and DATE_MAX (year 1 or 9999 overflows time-zone arithmetic)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("validate", ma.validate.Range(min=DATE_MIN, max=DATE_MAX))
        super().__init__(**kwargs)


def _no_control_characters(value: str) -> None:
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\r\t" for ch in value):
        raise ma.ValidationError("Control characters are not allowed (only line breaks and tabs).")


class Text(ma.fields.String):
    """A text input of at most ``max_length`` characters without control characters (NUL and
    the like; line breaks and tabs are text). Every API text field that is loaded uses it."""

    def __init__(self, max_length: int, *, min_length: int | None = None, **kwargs: Any) -> None:
        validators = [ma.validate.Length(min=min_length, max=max_length), _no_control_characters]
        extra = kwargs.pop("validate", None)
        if extra is not None:
            validators += list(extra) if isinstance(extra, (list, tuple)) else [extra]
        super().__init__(validate=validators, **kwargs)
