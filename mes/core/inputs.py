"""What a request may carry, checked once for every route: no NUL characters (PostgreSQL cannot
store them), JSON bodies without lone surrogates or absurd nesting; and the helpers views use to
read integers, search text and dates from a request within bounds the database can hold."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask import Flask, abort, request
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from mes.core.converters import MAX_ID
from mes.core.errors import ValidationError

# Counts, sequence numbers and minutes are INTEGER columns (32 bits on PostgreSQL).
MAX_INT = 2**31 - 1
MAX_PAGE = 100_000
MAX_JSON_DEPTH = 32
MAX_SEARCH_LENGTH = 200
# Dates a plant plans with; outside them a date is a typing error (and year 1 or 9999 overflows
# time-zone arithmetic).
DATE_MIN = dt.date(2000, 1, 1)
DATE_MAX = dt.date(2099, 12, 31)


def _bad_text(value: str) -> bool:
    if "\x00" in value:
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate ("\ud800" in JSON)
        return True
    return False


def check_json(raw: bytes) -> None:
    """Refuse (400) a JSON body nested deeper than MAX_JSON_DEPTH or with unstorable text; a body
    that is not JSON at all is left to the view's parser, which answers it."""
    try:
        data = json.loads(raw)
    except RecursionError:
        abort(400)
    except ValueError:
        return
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            abort(400)
        if isinstance(value, str):
            if _bad_text(value):
                abort(400)
        elif isinstance(value, dict):
            for key, item in value.items():
                if _bad_text(key):
                    abort(400)
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)


def _check_values(values: MultiDict) -> None:
    for key, value in values.items(multi=True):
        if "\x00" in key or "\x00" in value:
            abort(400)


def guard_request() -> None:
    """``before_request``: the checks above, for every route."""
    if "\x00" in request.path:
        abort(400)
    _check_values(request.args)
    if request.mimetype == "application/x-www-form-urlencoded":
        _check_values(request.form)
    elif request.is_json:
        check_json(request.get_data(cache=True))
    # multipart uploads are parsed (after authentication) by the views that accept them


def init_app(app: Flask) -> None:
    app.before_request(guard_request)


# --- reading values in views ---------------------------------------------------------------------


def to_int(raw: str | None, default: int | None = None, *, min: int = 1, max: int = MAX_ID) -> int | None:
    """``raw`` as an integer within [min, max], else ``default`` (a filter that cannot match)."""
    raw = (raw or "").strip()
    if not raw or len(raw) > 20:
        return default
    try:
        value = int(raw)
    except ValueError:
        return default
    return value if min <= value <= max else default


def ids_of(values: list[str]) -> list[int]:
    """The valid ids among repeated parameters (``machine_ids=3&machine_ids=5``)."""
    return [value for raw in values if (value := to_int(raw)) is not None]


def query_int(name: str, default: int | None = None, *, min: int = 1, max: int = MAX_ID) -> int | None:
    return to_int(request.args.get(name), default, min=min, max=max)


def form_int(name: str, default: int | None = None, *, min: int = 1, max: int = MAX_ID) -> int | None:
    return to_int(request.form.get(name), default, min=min, max=max)


def required_version(raw: str | None = None) -> int:
    """The record version a web form was drawn with (``version``): every edit of a versioned
    record (work orders, routings, schedule versions) must send it, or it could overwrite a
    change it never saw (mes.core.audit.check_version skips the check without one)."""
    value = to_int(request.form.get("version") if raw is None else raw, max=MAX_INT)
    if value is None:
        raise ValidationError(fields={"version": [_l("This form is out of date. Reload the page and try again.")]})
    return value


def query_text(name: str, max_length: int = MAX_SEARCH_LENGTH) -> str | None:
    """A search text, cut to ``max_length`` (longer searches make LIKE patterns too complex)."""
    value = (request.args.get(name) or "").strip()[:max_length].strip()
    return value or None


def date_in_range(value: dt.date | None) -> bool:
    return value is None or DATE_MIN <= (value.date() if isinstance(value, dt.datetime) else value) <= DATE_MAX
