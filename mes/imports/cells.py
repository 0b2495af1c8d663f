"""Cell values as the checks want them: whole numbers, minutes, dates, yes/no, priorities,
predecessor lists and machine lists, each refused with a localized message the planner can act on."""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from openpyxl.utils.datetime import from_excel

from mes.orders.models import Priority
from mes.operations.rules import parse_minutes


class CellError(ValueError):
    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = message


def text_of(value: Any) -> str:
    """A cell as text: codes typed as numbers in Excel (1001.0) read as "1001"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat(sep=" ")
    return str(value).strip()


def _norm(value: Any) -> str:
    return unicodedata.normalize("NFKC", text_of(value)).strip()


_THOUSANDS = re.compile(r"^\d{1,3}(,\d{3})+$")


def parse_int(value: Any) -> int | None:
    """A whole number; ``10.0`` is one, ``10.5`` is not."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise CellError(_l("Enter a whole number."))
    if isinstance(value, int):
        return value
    raw = _norm(value)
    if _THOUSANDS.match(raw):
        raw = raw.replace(",", "")
    try:
        number = Decimal(raw)
    except InvalidOperation:
        raise CellError(_l("Enter a whole number.")) from None
    if not number.is_finite() or number != number.to_integral_value():
        raise CellError(_l("Enter a whole number."))
    return int(number)


def parse_minutes_cell(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise CellError(_l("Enter a number of minutes."))
    try:
        return parse_minutes(value if isinstance(value, (int, float, Decimal)) else _norm(value))
    except ValueError:
        raise CellError(_l("Enter a number of minutes.")) from None


_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")


def parse_date(value: Any) -> dt.date | None:
    """A date cell, or text as YYYY-MM-DD, YYYY/MM/DD (or 2024年5月1日)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 1 <= value < 2958466:
        return from_excel(value).date()  # a date cell that lost its format: Excel's day number
    match = _DATE.match(_norm(value))
    if match:
        try:
            return dt.date(*(int(g) for g in match.groups()))
        except ValueError:
            pass
    raise CellError(_l("Enter a date as YYYY-MM-DD."))


_TRUE = {"yes", "y", "true", "1", "是", "√", "✓", "x", "需要"}
_FALSE = {"no", "n", "false", "0", "否", "×", "不需要", "-"}


def parse_bool(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    raw = _norm(value).lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise CellError(_l("Enter yes or no."))


PRIORITY_NAMES = {
    "low": Priority.LOW, "低": Priority.LOW,
    "normal": Priority.NORMAL, "普通": Priority.NORMAL, "中": Priority.NORMAL, "一般": Priority.NORMAL,
    "high": Priority.HIGH, "高": Priority.HIGH,
    "urgent": Priority.URGENT, "紧急": Priority.URGENT, "急": Priority.URGENT,
}


def parse_priority(value: Any) -> Priority:
    if value is None:
        return Priority.NORMAL
    raw = _norm(value).lower()
    if raw in PRIORITY_NAMES:
        return PRIORITY_NAMES[raw]
    for p in Priority:  # the label in the user's language, too
        if raw == p.label.lower():
            return p
    raise CellError(_l("Enter low, normal, high or urgent."))


_NONE = {"0", "-", "none", "无", "—"}


def parse_predecessors(value: Any) -> list[int] | None:
    """Operation numbers (``10,20``); None for the chain (empty), [] for none (``0``)."""
    if value is None:
        return None
    raw = _norm(value)
    if raw.lower() in _NONE:
        return []
    seqs: list[int] = []
    for part in re.split(r"[,;、\s]+", raw):
        if part:
            if not part.isdigit():
                raise CellError(_l("List operation numbers such as 10,20."))
            seqs.append(int(part))
    return seqs


@dataclass(frozen=True)
class MachineEntry:
    code: str
    setup: Decimal | None
    run: Decimal | None


def parse_machines(value: Any) -> list[MachineEntry]:
    """``L02:15:2.5; L03:10:2`` — code, setup minutes, run minutes; missing times are the row's."""
    if value is None:
        return []
    raw = unicodedata.normalize("NFKC", text_of(value))  # full-width ；and ：as well
    out: list[MachineEntry] = []
    for chunk in re.split(r"[;|\n]+", raw):
        # A comma separates machines only before a code (L02:15:2,5 keeps its decimal comma).
        for entry in re.split(r",\s*(?=[^\d\s])", chunk):
            entry = entry.strip()
            if not entry:
                continue
            parts = [p.strip() for p in entry.split(":")]
            if len(parts) > 3 or not parts[0]:
                raise CellError(_l("Write machines as code:setup:run, separated by semicolons (L02:15:2.5; L03:10:2)."))
            times: list[Decimal | None] = []
            for part in parts[1:]:
                if not part:
                    times.append(None)
                    continue
                try:
                    times.append(parse_minutes(part))
                except ValueError:
                    raise CellError(_l("Machine %(code)s: enter times as numbers of minutes.", code=parts[0])) from None
            times += [None] * (2 - len(times))
            out.append(MachineEntry(parts[0], times[0], times[1]))
    return out
