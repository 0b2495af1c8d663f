"""The archive of daily sheets: after the last shift of each plant day (plus a grace period for late
reports) its sheet is generated in both languages and kept in the database.

A one-PC install needs no scheduler: ``mes run`` starts :class:`ArchiveWorker`, a background thread
that looks every minute for sheets that are due. Several processes (two web servers, a separate
``mes report archive`` from cron) may all run it: each sheet is claimed by inserting its row under a
unique (day, language) constraint before it is drawn, so only one process draws it; a claim whose
process died is taken over after :data:`STALE_AFTER`."""
from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mes.core import settings as plant_settings
from mes.core.clock import day_end, day_start, plant_today, plant_tz
from mes.core.db import get_db, transaction, utcnow
from mes.machines.models import CalendarShift, WorkCalendar
from mes.orders.models import ProductionReport, WorkOrder
from mes.reports import daily, sheet_pdf
from mes.reports.models import ArchivedSheet

log = logging.getLogger(__name__)

LOCALES = ("zh_CN", "en")
#: Reports entered right after the shift still make it onto the sheet.
GRACE = dt.timedelta(minutes=30)
#: How far back a process that was not running catches up.
BACKFILL_DAYS = 7
#: A claim older than this belongs to a process that died (or a sheet that failed): take it over.
STALE_AFTER = dt.timedelta(minutes=10)
INTERVAL_SECONDS = 60


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:120]


def due_at(s: Session, day: dt.date) -> dt.datetime:
    """When ``day``'s sheet may be drawn: the end of its last shift (over every active calendar)
    plus :data:`GRACE`; the end of the day when no calendar works that day."""
    last = s.scalar(
        select(func.max(CalendarShift.end_minute))
        .join(WorkCalendar, WorkCalendar.id == CalendarShift.calendar_id)
        .where(CalendarShift.weekday == day.weekday(), WorkCalendar.active)
    )
    end = day_start(day) + dt.timedelta(minutes=last) if last is not None else day_end(day)
    return (end + GRACE).astimezone(dt.UTC)


def _first_day(s: Session) -> dt.date | None:
    """The first day the plant had anything to report on (no sheets before go-live)."""
    first = s.scalar(select(func.min(ProductionReport.reported_at)))
    created = s.scalar(select(func.min(WorkOrder.created_at)))
    moments = [m for m in (first, created) if m is not None]
    return min(moments).astimezone(plant_tz()).date() if moments else None


def due_days(s: Session, now: dt.datetime) -> list[dt.date]:
    """Days of the last week whose sheets are due and not yet all archived."""
    first = _first_day(s)
    if first is None:
        return []
    today = plant_today()
    done = {(d, loc) for d, loc in s.execute(
        select(ArchivedSheet.day, ArchivedSheet.locale)
        .where(ArchivedSheet.day >= today - dt.timedelta(days=BACKFILL_DAYS), ArchivedSheet.status == "done"))}
    days = []
    for back in range(BACKFILL_DAYS, -1, -1):
        day = today - dt.timedelta(days=back)
        if day < first or due_at(s, day) > now:
            continue
        if any((day, loc) not in done for loc in LOCALES):
            days.append(day)
    return days


def claim(day: dt.date, locale: str, who: str, now: dt.datetime | None = None) -> int | None:
    """The archive row's id if this process may draw the sheet now, None if another has it."""
    now = now or utcnow()
    try:
        with transaction() as s:
            row = s.scalars(select(ArchivedSheet).where(ArchivedSheet.day == day, ArchivedSheet.locale == locale)
                            .with_for_update()).first()
            if row is None:
                row = ArchivedSheet(day=day, locale=locale, status="running", claimed_by=who, claimed_at=now)
                s.add(row)
                s.flush()
                return row.id
            if row.status == "done" or row.claimed_at > now - STALE_AFTER:
                return None
            row.status, row.claimed_by, row.claimed_at, row.message = "running", who, now, None
            return row.id
    except IntegrityError:
        return None  # another process inserted the claim first


def draw(s: Session, day: dt.date, locale: str, plant: str) -> bytes:
    """The archived sheet: the whole day, with the labour figures (the archive is for owners and
    planners)."""
    sheet = daily.daily_sheet(s, daily.window(s, day), locale, with_labour=True, plant=plant)
    return sheet_pdf.render(sheet, locale)


def generate(day: dt.date, locale: str, app: Flask, who: str | None = None) -> bool:
    """Draw and keep ``day``'s sheet in ``locale`` unless another process has it; True if drawn."""
    who = who or worker_name()
    sheet_id = claim(day, locale, who)
    if sheet_id is None:
        return False
    try:
        with get_db().read_session() as s:
            body = draw(s, day, locale, app.config.get("PLANT_NAME") or "")
    except Exception as exc:  # a sheet that cannot be drawn must not stop the others
        log.exception("daily sheet %s %s failed", day, locale)
        with transaction() as s:
            row = s.get(ArchivedSheet, sheet_id)
            row.status, row.message = "failed", f"{type(exc).__name__}: {exc}"[:2000]
        return False
    with transaction() as s:
        row = s.get(ArchivedSheet, sheet_id)
        row.status, row.pdf, row.size, row.generated_at = "done", body, len(body), utcnow()
    return True


def run_once(app: Flask, now: dt.datetime | None = None) -> list[tuple[dt.date, str]]:
    """Draw every sheet that is due (call inside an app context); the ones this process drew."""
    plant_settings.refresh(force=True)
    now = now or utcnow()
    with get_db().read_session() as s:
        days = due_days(s, now)
    drawn = []
    for day in days:
        for locale in LOCALES:
            if generate(day, locale, app):
                drawn.append((day, locale))
    return drawn


@dataclass
class ArchiveListing:
    id: int
    day: dt.date
    locale: str
    status: str
    generated_at: dt.datetime | None
    size: int


def listing(s: Session, limit: int = 90) -> list[ArchiveListing]:
    rows = s.execute(
        select(ArchivedSheet.id, ArchivedSheet.day, ArchivedSheet.locale, ArchivedSheet.status,
               ArchivedSheet.generated_at, ArchivedSheet.size)
        .order_by(ArchivedSheet.day.desc(), ArchivedSheet.locale.desc()).limit(limit)
    ).all()
    return [ArchiveListing(*row) for row in rows]


def stored_pdf(s: Session, sheet_id: int) -> tuple[str, bytes] | None:
    row = s.get(ArchivedSheet, sheet_id)
    if row is None or row.status != "done" or row.pdf is None:
        return None
    return f"daily-{row.day.isoformat()}-{row.locale}.pdf", row.pdf


class ArchiveWorker(threading.Thread):
    """Runs :func:`run_once` every :data:`INTERVAL_SECONDS` in the background of a server process."""

    def __init__(self, app: Flask, interval: float = INTERVAL_SECONDS) -> None:
        super().__init__(name="mes-sheet-archive", daemon=True)
        self.app = app
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                with self.app.app_context():
                    run_once(self.app)
            except Exception:  # the database may be away for a moment: try again next round
                log.exception("sheet archive round failed")
            self.stopped.wait(self.interval)

    def stop(self) -> None:
        self.stopped.set()


def start_background(app: Flask, interval: float = INTERVAL_SECONDS) -> ArchiveWorker:
    worker = ArchiveWorker(app, interval)
    worker.start()
    return worker
