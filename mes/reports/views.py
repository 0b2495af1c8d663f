"""The owner's pages: the start page with the plant's figures, and the daily output sheet as PDF,
CSV or Excel."""
from __future__ import annotations

import datetime as dt
import io

from flask import Blueprint, Response, redirect, request, send_file, url_for
from flask_babel import get_locale, gettext as _, lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from mes.core.auth import Permission, can, login_required, requires
from mes.core.clock import plant_today
from mes.core.errors import Forbidden
from mes.core.inputs import query_text
from mes.core.services import home_endpoint
from mes.core.web import render
from mes.core.db import session
from mes.core.errors import NotFound
from mes.reports import archive, charts, services, value
from mes.reports.dashboard import dashboard as dashboard_figures
from mes.reports.daily import parse_day
from mes.reports.overview import overview as plant_overview, setup_steps

bp = Blueprint("reports", __name__)


@bp.route("/")
@login_required
def overview() -> Response:
    """The plant's figures; while the plant is being set up, for those who set it up, the steps to
    the first published plan and which are done."""
    steps = setup_steps() if can(Permission.SCHEDULE) or can(Permission.ADMIN) else []
    setting_up = bool(steps) and not all(step.done for step in steps)
    if not setting_up and current_user.roles and home_endpoint(current_user) != "reports.overview":
        return redirect(url_for(home_endpoint(current_user)))
    return render("reports/overview.html", overview=plant_overview(), steps=steps if setting_up else [])


def _locale() -> str:
    wanted = request.args.get("lang")
    if wanted in services.LOCALES:
        return wanted
    current = str(get_locale() or "en")
    return "zh_CN" if current.startswith("zh") else "en"


def _day() -> dt.date:
    raw = query_text("date", 20)
    return parse_day(raw) if raw is not None else plant_today() - dt.timedelta(days=1)


@bp.route("/reports/daily")
@requires(Permission.VIEW_PLANT)
def daily() -> Response:
    """Choose a day (and shift) and download its sheet."""
    sheets = archive.listing(session()) if can(Permission.REPORTS) else []
    return render("reports/daily.html", day=plant_today() - dt.timedelta(days=1), today=plant_today(),
                  locales=services.LOCALES, labour=can(Permission.REPORTS), sheets=sheets)


@bp.route("/reports/daily.<any(pdf, csv, xlsx):fmt>")
@requires(Permission.VIEW_PLANT)
def daily_file(fmt: str) -> Response:
    """The daily sheet of ``?date=`` (yesterday when left out); ``labour=1`` adds the hours and output
    per worker, for owners and planners only."""
    with_labour = request.args.get("labour") == "1"
    if with_labour and not can(Permission.REPORTS):
        raise Forbidden(_l("Only owners and planners may see labour figures."))
    found = services.daily_file(_day(), query_text("shift", 20), _locale(), with_labour, fmt)
    return send_file(io.BytesIO(found.body), mimetype=found.mimetype, as_attachment=fmt != "pdf",
                     download_name=found.filename)


@bp.route("/reports/archive/<int:sheet_id>.pdf")
@requires(Permission.REPORTS)
def archived_sheet(sheet_id: int) -> Response:
    """A sheet from the archive, as it was drawn after its day (with labour figures: owners and
    planners only)."""
    found = archive.stored_pdf(session(), sheet_id)
    if found is None:
        raise NotFound()
    name, body = found
    return send_file(io.BytesIO(body), mimetype="application/pdf", as_attachment=True, download_name=name)


@bp.route("/reports/dashboard")
@requires(Permission.REPORTS)
def dashboard() -> Response:
    """Today so far and the last week, for a phone; the page polls itself every minute."""
    figures = dashboard_figures(session())
    labels = [d.day.strftime("%m-%d") for d in figures.days]
    output_chart = Markup(charts.bars(labels, [float(d.good) for d in figures.days], _("Good pieces per day")))
    oee_chart = Markup(charts.line(labels, [None if v is None else v * 100 for v in figures.oee_days], _("OEE per day")))
    scrap_chart = Markup(charts.line(labels, [None if d.scrap_rate is None else d.scrap_rate * 100 for d in figures.days],
                                     _("Scrap rate per day")))
    # Since go-live: on the full page only (the minute's poll redraws today's figures).
    since = None if request.headers.get("X-MES-Poll") else value.value_report(session())
    return render("reports/dashboard.html", "reports/_dashboard.html", figures=figures, output_chart=output_chart,
                  oee_chart=oee_chart, scrap_chart=scrap_chart, locale=_locale(), since=since)


@bp.route("/reports/value.pdf")
@requires(Permission.REPORTS)
def value_file() -> Response:
    """The proof-of-value report: monthly trends since go-live and the digital footprint."""
    found = services.value_file(_locale())
    return send_file(io.BytesIO(found.body), mimetype=found.mimetype, as_attachment=True, download_name=found.filename)
