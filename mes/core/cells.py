"""Spreadsheet cells a user may open safely: text that Excel or LibreOffice would run as a formula
(``= + - @``, or a tab or carriage return first) gets a leading apostrophe. Every CSV and Excel
export goes through :func:`neutralize`."""
from __future__ import annotations

from typing import Any


def neutralize(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
