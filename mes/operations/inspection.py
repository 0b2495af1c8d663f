"""An operation's inspection plan, shared by routings (where it is kept) and work orders (which
get a copy at release): the input of one characteristic and its rules. Pure: returns field
errors as lazy messages, never touches the database."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l

from mes.operations.models import CharacteristicKind, Frequency

#: Larger than any dimension or value a small shop measures: a typing error.
MAX_MEASURE = Decimal(999999999)
MAX_EVERY_N = 1_000_000


@dataclass
class CharacteristicInput:
    name: str
    kind: CharacteristicKind = CharacteristicKind.MEASURED
    nominal: Decimal | None = None
    lower_limit: Decimal | None = None
    upper_limit: Decimal | None = None
    unit: str | None = None
    gauge: str | None = None
    defects: str | None = None
    frequency: Frequency = Frequency.FIRST
    every_n: int | None = None


def parse_decimal(raw: Any) -> Decimal | None:
    """A number typed on a form or sent by the API (comma as decimal point too); None if empty.
    Raises ValueError for anything else."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    try:
        value = Decimal(str(raw).strip().replace("，", ".").replace(",", "."))
    except InvalidOperation as exc:
        raise ValueError(str(raw)) from exc
    if not value.is_finite():
        raise ValueError(str(raw))
    return value


def parse_characteristic(form: Mapping[str, Any]) -> tuple[CharacteristicInput, dict[str, list]]:
    """A characteristic from a form, with the errors of fields that are not even numbers."""
    errors: dict[str, list] = {}

    def number(name: str) -> Decimal | None:
        try:
            return parse_decimal(form.get(name))
        except ValueError:
            errors.setdefault(name, []).append(_l("Enter a number."))
            return None

    try:
        kind = CharacteristicKind(form.get("kind") or CharacteristicKind.MEASURED)
    except ValueError:
        errors["kind"] = [_l("Choose a kind.")]
        kind = CharacteristicKind.MEASURED
    try:
        frequency = Frequency(form.get("frequency") or Frequency.FIRST)
    except ValueError:
        errors["frequency"] = [_l("Choose when to inspect.")]
        frequency = Frequency.FIRST
    every_n = None
    raw_n = (form.get("every_n") or "").strip() if isinstance(form.get("every_n") or "", str) else form.get("every_n")
    if raw_n:
        try:
            every_n = int(raw_n)
        except (TypeError, ValueError):
            errors["every_n"] = [_l("Enter a whole number.")]
    data = CharacteristicInput(
        name=(form.get("name") or "").strip(), kind=kind, nominal=number("nominal"), lower_limit=number("lower_limit"),
        upper_limit=number("upper_limit"), unit=(form.get("unit") or "").strip() or None,
        gauge=(form.get("gauge") or "").strip() or None, defects=(form.get("defects") or "").strip() or None,
        frequency=frequency, every_n=every_n,
    )
    return data, errors


def validate_characteristic(data: CharacteristicInput) -> dict[str, list]:
    """Field errors of a characteristic: a name, limits that make sense, a frequency with its N."""
    errors: dict[str, list] = {}
    if not data.name.strip():
        errors["name"] = [_l("Required.")]
    elif len(data.name) > 120:
        errors["name"] = [_l("At most %(n)s characters.", n=120)]
    for name in ("nominal", "lower_limit", "upper_limit"):
        value = getattr(data, name)
        if value is not None and abs(value) > MAX_MEASURE:
            errors[name] = [_l("Too large.")]
    if data.kind == CharacteristicKind.MEASURED:
        if data.lower_limit is None and data.upper_limit is None:
            errors["upper_limit"] = [_l("Give a lower or an upper limit (or both).")]
        if data.lower_limit is not None and data.upper_limit is not None and data.lower_limit > data.upper_limit:
            errors["lower_limit"] = [_l("The lower limit is above the upper limit.")]
        if data.nominal is not None and not errors and (
                (data.lower_limit is not None and data.nominal < data.lower_limit)
                or (data.upper_limit is not None and data.nominal > data.upper_limit)):
            errors["nominal"] = [_l("The nominal value lies outside the limits.")]
    if data.frequency == Frequency.EVERY_N and (data.every_n is None or not 1 <= data.every_n <= MAX_EVERY_N):
        errors["every_n"] = [_l("Between %(min)s and %(max)s.", min=1, max=MAX_EVERY_N)]
    for name, limit in (("unit", 16), ("gauge", 64)):
        value = getattr(data, name)
        if value and len(value) > limit:
            errors[name] = [_l("At most %(n)s characters.", n=limit)]
    if data.defects and len(data.defects) > 2000:
        errors["defects"] = [_l("At most %(n)s characters.", n=2000)]
    return errors


def apply_characteristic(row: Any, data: CharacteristicInput) -> None:
    """Write validated input onto a routing's (or order's) characteristic row."""
    row.name = data.name.strip()
    row.kind = data.kind
    measured = data.kind == CharacteristicKind.MEASURED
    row.nominal = data.nominal if measured else None
    row.lower_limit = data.lower_limit if measured else None
    row.upper_limit = data.upper_limit if measured else None
    row.unit = data.unit if measured else None
    row.gauge = data.gauge
    row.defects = data.defects
    row.frequency = data.frequency
    row.every_n = data.every_n if data.frequency == Frequency.EVERY_N else None
