"""Work order numbers: one configurable scheme (``MES_ORDER_NUMBER_FORMAT``) for orders made in
the app, by the API, by imports without a number, and by the demo."""
from __future__ import annotations

import datetime as dt
import re
import string

DEFAULT_FORMAT = "WO-{yymm}-{seq:04d}"
FIELDS = {"yyyy", "yy", "mm", "yymm", "seq"}
_SENTINEL = "\x00SEQ\x00"


def check_format(fmt: str) -> str:
    """``fmt`` when it names only known fields and has exactly one ``{seq}``; ValueError otherwise."""
    fields = [name for _, name, _, _ in string.Formatter().parse(fmt) if name is not None]
    if fields.count("seq") != 1 or not set(fields) <= FIELDS:
        raise ValueError(f"MES_ORDER_NUMBER_FORMAT must contain one {{seq}} and only {sorted(FIELDS)}: {fmt!r}")
    format_number(fmt, dt.date(2000, 1, 1), 1)
    return fmt


def _dates(day: dt.date) -> dict[str, str]:
    return {"yyyy": f"{day:%Y}", "yy": f"{day:%y}", "mm": f"{day:%m}", "yymm": f"{day:%y%m}"}


def format_number(fmt: str, day: dt.date, seq: int) -> str:
    return fmt.format(seq=seq, **_dates(day))


def pattern(fmt: str, day: dt.date) -> tuple[str, re.Pattern[str]]:
    """The fixed text before the sequence number on ``day`` (for a LIKE prefix) and a regex that
    reads the sequence number back out of a matching order number."""
    spec = fmt.replace("{seq", "{seq_", 1)
    seq_part = re.search(r"\{seq_[^}]*\}", spec)
    assert seq_part is not None
    before = spec[: seq_part.start()].format(**_dates(day))
    after = spec[seq_part.end():].format(**_dates(day))
    return before, re.compile(re.escape(before) + r"(\d+)" + re.escape(after) + r"\Z")


def next_seq(existing: list[str], fmt: str, day: dt.date) -> int:
    """One more than the highest sequence number among ``existing`` numbers of the same period."""
    _, regex = pattern(fmt, day)
    seqs = [int(m.group(1)) for m in (regex.match(n) for n in existing) if m]
    return max(seqs, default=0) + 1
