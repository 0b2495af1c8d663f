"""The owner's report use cases: the daily sheet for a date (and shift) as PDF, CSV or Excel, and the
proof-of-value report."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from mes.core.db import session
from mes.core.clock import plant_today
from mes.reports import daily, exports, sheet_pdf, value, value_pdf

FORMATS = {"pdf": "application/pdf", "csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
LOCALES = ("zh_CN", "en")


@dataclass(frozen=True)
class SheetFile:
    filename: str
    mimetype: str
    body: bytes


def sheet(day: dt.date, shift: str | None, locale: str, with_labour: bool) -> daily.DailySheet:
    s = session()
    return daily.daily_sheet(s, daily.window(s, day, shift), locale, with_labour,
                             plant=current_app.config.get("PLANT_NAME") or "")


def render(figures: daily.DailySheet, fmt: str, locale: str) -> bytes:
    if fmt == "pdf":
        return sheet_pdf.render(figures, locale)
    parts = exports.sections(figures, locale)
    if fmt == "csv":
        return exports.write_csv(parts)
    with force_locale(locale):
        title = _("Daily output sheet %(when)s", when=figures.window.day.isoformat())
    return exports.write_xlsx(parts, title)


def filename(day: dt.date, shift: str | None, fmt: str) -> str:
    part = "" if not shift else "-" + "".join(ch for ch in shift if ch.isalnum())
    return f"daily-{day.isoformat()}{part}.{fmt}"


def daily_file(day: dt.date, shift: str | None, locale: str, with_labour: bool, fmt: str) -> SheetFile:
    """The daily sheet of ``day`` (a past or today's plant date: see :func:`daily.parse_day`)."""
    figures = sheet(day, shift, locale, with_labour)
    return SheetFile(filename(day, figures.window.shift, fmt), FORMATS[fmt], render(figures, fmt, locale))


def value_file(locale: str) -> SheetFile:
    """The proof-of-value report as PDF."""
    report = value.value_report(session())
    body = value_pdf.render(report, locale, plant=current_app.config.get("PLANT_NAME") or "")
    return SheetFile(f"value-{plant_today().isoformat()}.pdf", FORMATS["pdf"], body)
