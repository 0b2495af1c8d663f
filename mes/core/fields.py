"""Marshmallow fields the API's schemas share, so every JSON input has the same bounds: ids and
counts the database can hold, dates a plant plans with, and (see Text) bounded clean text."""
from __future__ import annotations

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
