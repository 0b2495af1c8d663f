"""The archive of daily sheets: drawn after the day's last shift, once even when several
processes try at the same moment, listed and downloaded by owners and planners."""
from __future__ import annotations

import datetime as dt
import threading
import time

from sqlalchemy import func, select

from mes.core.db import get_db, session, transaction, utcnow
from mes.reports import archive
from mes.reports.models import ArchivedSheet
from tests.reports.test_sheet_pdf import text_of


def _rows() -> list[tuple[dt.date, str, str]]:
    with get_db().read_session() as s:
        return sorted(s.execute(select(ArchivedSheet.day, ArchivedSheet.locale, ArchivedSheet.status)).all())


def test_drawn_after_the_last_shift_and_only_once(known_day, app):  # type: ignore[no-untyped-def]
    day, before = known_day.day, known_day.day - dt.timedelta(days=1)
    assert archive.due_at(session(), day) == known_day.at(22, 30)  # last shift ends 22:00, 30 min grace
    # At 22:00 the day is still running: only the day before (the first with a report) is due.
    assert sorted(archive.run_once(app, now=known_day.at(22))) == [(before, "en"), (before, "zh_CN")]
    assert sorted(archive.run_once(app, now=known_day.at(22, 31))) == [(day, "en"), (day, "zh_CN")]
    assert archive.run_once(app, now=known_day.at(23)) == []
    assert _rows() == [(before, "en", "done"), (before, "zh_CN", "done"), (day, "en", "done"), (day, "zh_CN", "done")]
    with get_db().read_session() as s:
        sheet_id = s.scalar(select(ArchivedSheet.id).where(ArchivedSheet.day == day, ArchivedSheet.locale == "en"))
        _name, pdf = archive.stored_pdf(s, sheet_id)
    text = text_of(pdf)
    assert "Good 85, scrap 6, planned 150 pieces." in text and "Worker Two 2.00 30 15.0" in text


def test_concurrent_claims_draw_one_sheet(known_day, app):  # type: ignore[no-untyped-def]
    results: list[bool] = []
    start = threading.Barrier(4)

    def attempt(n: int) -> None:
        with app.app_context():
            start.wait()
            results.append(archive.generate(known_day.day, "zh_CN", app, who=f"process-{n}"))

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == [False, False, False, True]
    with get_db().read_session() as s:
        assert s.scalar(select(func.count()).select_from(ArchivedSheet)) == 1


def test_a_dead_claim_is_taken_over(known_day, app):  # type: ignore[no-untyped-def]
    with transaction() as s:
        s.add(ArchivedSheet(day=known_day.day, locale="en", status="running", claimed_by="dead:1",
                            claimed_at=utcnow() - dt.timedelta(minutes=2)))
    assert archive.claim(known_day.day, "en", "me") is None  # still fresh: its process may be drawing
    assert archive.claim(known_day.day, "en", "me", now=utcnow() + archive.STALE_AFTER) is not None
    assert archive.generate(known_day.day, "en", app) is False  # now claimed by "me"


def test_background_worker_fills_the_archive(known_day, app):  # type: ignore[no-untyped-def]
    worker = archive.start_background(app, interval=0.2)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and sum(1 for r in _rows() if r[2] == "done") < 2:
            time.sleep(0.2)
    finally:
        worker.stop()
        worker.join(30)
    done = {(d, loc) for d, loc, st in _rows() if st == "done"}
    assert (known_day.day - dt.timedelta(days=1), "en") in done


def test_archive_page_and_download(known_day, app, as_role):  # type: ignore[no-untyped-def]
    archive.run_once(app, now=known_day.at(22, 31))
    owner = as_role("owner")
    owner.post("/locale", data={"locale": "en"})
    page = owner.get("/reports/daily").get_data(as_text=True)
    with get_db().read_session() as s:
        sheet_id = s.scalar(select(ArchivedSheet.id).where(ArchivedSheet.day == known_day.day, ArchivedSheet.locale == "zh_CN"))
    assert f"/reports/archive/{sheet_id}.pdf" in page
    r = owner.get(f"/reports/archive/{sheet_id}.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert "良品 85，报废 6，计划 150 件。" in text_of(r.data)
    quality = as_role("quality")
    assert quality.get(f"/reports/archive/{sheet_id}.pdf").status_code == 403
    assert f"/reports/archive/{sheet_id}.pdf" not in quality.get("/reports/daily").get_data(as_text=True)
    assert owner.get("/reports/archive/99999.pdf").status_code == 404
