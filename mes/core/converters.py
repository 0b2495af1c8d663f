"""URL converters: ``<int:...>`` in every route means a database id, 1 .. 2^63-1. Anything else
(0, a number past what the database stores, thousands of digits) is simply not found (404)."""
from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter, Map, ValidationError

MAX_ID = 2**63 - 1
_MAX_DIGITS = len(str(MAX_ID))


class IdConverter(IntegerConverter):
    """The app's ``int`` converter: ids the database can hold."""

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = 1, max: int | None = MAX_ID,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)

    def to_python(self, value: str) -> Any:
        # Before int(): Python refuses to convert strings of more than 4,300 digits (ValueError, a 500).
        if len(value.lstrip("0")) > _MAX_DIGITS:
            raise ValidationError()
        return super().to_python(value)


def init_app(app: Flask) -> None:
    """Before any blueprint is registered: rules pick their converter when they are added."""
    app.url_map.converters["int"] = IdConverter
