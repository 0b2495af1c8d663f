"""The daily output sheet as an A4 PDF (one to three pages) in the reader's language. It only
draws the figures of :mod:`mes.reports.daily`. Chinese and English both use the CID font
STSong-Light, which every PDF reader has, so no font file ships with the app and the text can be
extracted (copied, searched, read by pdftotext)."""
from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Flowable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from mes.core.i18n import format_moment
from mes.reports.daily import DailySheet, Headline

#: Every PDF reader has this font: nothing to ship, and the text can be extracted.
CID_FONT = "STSong-Light"
#: The name a TrueType font file set as ``PDF_FONT`` (``MES_PDF_FONT``) is embedded under.
EMBEDDED_FONT = "MesEmbedded"
#: Long lists are cut so the sheet stays within three pages; the CSV and Excel files have them all.
MAX_ORDERS = 15
MAX_REASONS = 8
ARROWS = {"up": "↑", "down": "↓", "same": "→", "": ""}
GOOD, BAD, GRID = colors.HexColor("#1b7f3b"), colors.HexColor("#b3261e"), colors.HexColor("#9aa0a6")


def font_name() -> str:
    """The embedded TrueType font when one is configured (e.g. Debian's fonts-wqy-microhei,
    ``/usr/share/fonts/truetype/wqy/wqy-microhei.ttc``: glyphs look the same in every viewer),
    else the CID font STSong-Light (no file needed; viewers substitute a Song face)."""
    return EMBEDDED_FONT if current_app.config.get("PDF_FONT") else CID_FONT


def register_font() -> str:
    """Register the font :func:`font_name` names (once per process) and return its name."""
    name = font_name()
    if name not in pdfmetrics.getRegisteredFontNames():
        if name == EMBEDDED_FONT:
            # reportlab reads TrueType (and TrueType collections, first face); not CFF fonts like Noto CJK.
            pdfmetrics.registerFont(TTFont(EMBEDDED_FONT, current_app.config["PDF_FONT"], subfontIndex=0))
        else:
            pdfmetrics.registerFont(UnicodeCIDFont(CID_FONT))
    return name


def pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def minutes(value: float) -> str:
    return f"{value:.0f}"


def styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=font_name(), fontSize=9, leading=12, wordWrap="CJK")
    return {
        "base": base,
        "title": ParagraphStyle("title", parent=base, fontSize=16, leading=20, spaceAfter=2 * mm),
        "h2": ParagraphStyle("h2", parent=base, fontSize=11, leading=14, spaceBefore=2.5 * mm, spaceAfter=1 * mm,
                             keepWithNext=1),
        "note": ParagraphStyle("note", parent=base, fontSize=8, leading=10, textColor=colors.HexColor("#555555")),
        "empty": ParagraphStyle("empty", parent=base, fontSize=13, leading=18, spaceBefore=6 * mm, spaceAfter=6 * mm),
    }


def grid(header: Sequence[str], rows: Sequence[Sequence[Any]], widths: Sequence[float] | None = None,
         numeric_from: int = 1, size: float = 7.5) -> Table:
    table = Table([list(header), *[[str(c) for c in row] for row in rows]], colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), font_name(), size),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eaed")),
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, GRID),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.HexColor("#dadce0")),
        ("ALIGN", (numeric_from, 0), (-1, -1), "RIGHT"),
        ("TOPPADDING", (0, 0), (-1, -1), 1),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
    ]))
    return table


def _headline_rows(items: Sequence[Headline]) -> list[list[str]]:
    names = {"output": _("Output (good pieces)"), "oee": _("OEE"), "on_time": _("On-time delivery"),
             "scrap_rate": _("Scrap rate")}
    rows = []
    for h in items:
        fmt = (lambda v: "-" if v is None else f"{v:.0f}") if h.key == "output" else pct
        verdict = {True: _("better"), False: _("worse"), None: ""}[h.better]
        rows.append([names[h.key], fmt(h.value), fmt(h.average), f"{ARROWS[h.direction]} {verdict}".strip()])
    return rows


def _oee_chart(sheet: DailySheet, width: float) -> Drawing:
    """OEE per machine as bars (percent)."""
    lines = sheet.oee_by_machine
    height = 45 * mm
    drawing = Drawing(width, height)
    chart = VerticalBarChart()
    chart.x, chart.y = 10 * mm, 10 * mm
    chart.width, chart.height = width - 14 * mm, height - 16 * mm
    chart.data = [[round((line.oee.oee or 0) * 100, 1) for line in lines]]
    chart.categoryAxis.categoryNames = [line.machine for line in lines]
    chart.categoryAxis.labels.fontName = font_name()
    chart.categoryAxis.labels.fontSize = 6 if len(lines) > 20 else 7
    chart.categoryAxis.labels.angle = 90 if len(lines) > 12 else 0
    chart.categoryAxis.labels.boxAnchor = "e" if len(lines) > 12 else "n"
    chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = 0, 100, 25
    chart.valueAxis.labels.fontName = font_name()
    chart.valueAxis.labels.fontSize = 7
    chart.bars[0].fillColor = colors.HexColor("#1a73e8")
    chart.bars[0].strokeColor = None
    drawing.add(chart)
    drawing.add(String(0, height - 4 * mm, _("OEE per machine (%)"), fontName=font_name(), fontSize=8))
    return drawing


def _title(sheet: DailySheet) -> str:
    when = sheet.window.day.isoformat()
    if sheet.window.shift:
        when += " " + _("shift %(name)s", name=sheet.window.shift)
    return _("Daily output sheet %(when)s", when=when)


def _story(sheet: DailySheet, locale: str) -> list[Flowable]:
    st = styles()
    width = A4[0] - 30 * mm
    story: list[Flowable] = [Paragraph(_title(sheet), st["title"])]
    plan = _("published plan %(id)s", id=sheet.plan_version) if sheet.plan_version else _("no published plan")
    story.append(Paragraph(
        f"{sheet.plant}  |  " + _("made %(moment)s", moment=format_moment(sheet.generated_at)) + f"  |  {plan}", st["note"]))

    if sheet.empty:
        story.append(Paragraph(_("No production, downtime or completed orders were reported on this day."), st["empty"]))
    else:
        story.append(Paragraph(_("Headline: this day against the average of the 7 days before"), st["h2"]))
        story.append(grid([_("Figure"), _("This day"), _("7-day average"), _("Trend")], _headline_rows(sheet.headline),
                            [60 * mm, 35 * mm, 35 * mm, 40 * mm]))
        t = sheet.totals
        story.append(Paragraph(_("Output against the plan"), st["h2"]))
        story.append(Paragraph(_("Good %(good)s, scrap %(scrap)s, planned %(planned)s pieces.",
                                 good=t.good, scrap=t.scrap, planned=t.planned), st["base"]))
        # One table per work center: today's output against the plan, then its OEE day by day.
        trend = {x.work_center: x.points for x in sheet.oee_trend}
        days = [d.day.strftime("%m-%d") for d in sheet.trend]
        header = [_("Work center"), _("Good"), _("Scrap"), _("Planned"), _("Of plan")]
        rows = [[o.key, o.good, o.scrap, o.planned, pct(o.attainment), *[pct(p) for p in trend.get(o.key, [None] * len(days))]]
                for o in sheet.by_work_center]
        shown = {o.key for o in sheet.by_work_center}
        rows += [[code, 0, 0, 0, "-", *[pct(p) for p in points]] for code, points in trend.items() if code not in shown]
        if trend:
            story.append(Paragraph(_("On the right: each work center's OEE on the last 8 days."), st["note"]))
        story.append(grid([*header, *(days if trend else [])], rows, size=7))
        story.append(Spacer(1, 2 * mm))
        header[0] = _("Product family")
        story.append(grid(header, [[o.key, o.good, o.scrap, o.planned, pct(o.attainment)] for o in sheet.by_family],
                          [45 * mm, 25 * mm, 25 * mm, 25 * mm, 25 * mm]))

        story.append(Paragraph(_("OEE per machine"), st["h2"]))
        story.append(Paragraph(_("Plant OEE %(oee)s (availability %(a)s, performance %(p)s, quality %(q)s).",
                                 oee=pct(sheet.oee_total.oee), a=pct(sheet.oee_total.availability),
                                 p=pct(sheet.oee_total.performance), q=pct(sheet.oee_total.quality)), st["base"]))
        if sheet.oee_by_machine:
            story.append(_oee_chart(sheet, width))
        out = {o.key: o for o in sheet.by_machine}
        rows = []
        for line in sheet.oee_by_machine:
            made = out.get(line.machine)
            rows.append([line.machine, line.work_center, made.good if made else 0, made.scrap if made else 0,
                         made.planned if made else 0, pct(line.oee.availability), pct(line.oee.performance),
                         pct(line.oee.quality), pct(line.oee.oee)])
        listed = {line.machine for line in sheet.oee_by_machine}
        rows += [[o.key, "", o.good, o.scrap, o.planned, "-", "-", "-", "-"] for o in sheet.by_machine if o.key not in listed]
        story.append(grid([_("Machine"), _("Work center"), _("Good"), _("Scrap"), _("Planned"), _("Availability"),
                             _("Performance"), _("Quality rate"), _("OEE")], rows, numeric_from=2))

        story.append(Paragraph(_("Downtime: %(minutes)s min", minutes=minutes(sheet.downtime_minutes)), st["h2"]))
        if sheet.downtime_by_reason:
            story.append(grid([_("Reason"), _("Minutes"), _("Stops"), _("Cumulative")],
                                [[r.reason, minutes(r.minutes), r.stops, pct(r.cumulative_share)]
                                 for r in sheet.downtime_by_reason[:MAX_REASONS]], [70 * mm, 30 * mm, 25 * mm, 30 * mm]))
            story.append(Spacer(1, 2 * mm))
            story.append(grid([_("Longest stops"), _("Reason"), _("Start"), _("Minutes")],
                                [[s.machine, s.reason, format_moment(s.start), minutes(s.minutes) + (" …" if s.open else "")]
                                 for s in sheet.longest_stops], [35 * mm, 60 * mm, 40 * mm, 25 * mm], numeric_from=3))

        story.append(Paragraph(_("Scrap: top reasons"), st["h2"]))
        if sheet.scrap_reasons:
            story.append(grid([_("Reason"), _("Pieces")], [[r.reason, r.pieces] for r in sheet.scrap_reasons],
                                [90 * mm, 30 * mm]))
        else:
            story.append(Paragraph(_("No scrap."), st["base"]))
        if sheet.nonconformances:
            story.append(Spacer(1, 2 * mm))
            story.append(grid([_("Nonconformances"), _("Reports"), _("Pieces"), _("Still open")],
                              [[n.defect, n.reports, n.pieces, n.still_open] for n in sheet.nonconformances],
                              [70 * mm, 25 * mm, 25 * mm, 30 * mm]))

    story.append(Paragraph(_("Orders"), st["h2"]))
    story.append(Paragraph(_("Completed: %(n)s, on time %(on_time)s, late %(late)s.", n=len(sheet.completed),
                             on_time=sheet.completed_on_time, late=len(sheet.completed) - sheet.completed_on_time), st["base"]))
    if sheet.completed:
        story.append(grid([_("Work order"), _("Product"), _("Due"), _("Completed"), _("On time")],
                            [[o.number, o.product, o.due.isoformat(), o.completed.isoformat() if o.completed else "",
                              _("yes") if o.on_time else _("late")] for o in sheet.completed[:MAX_ORDERS]], numeric_from=5))
    watch = sheet.late_or_at_risk
    story.append(Spacer(1, 2 * mm))
    story.append(Paragraph(_("Open orders late or at risk in the published plan: %(n)s", n=len(watch)), st["base"]))
    if watch:
        story.append(grid([_("Work order"), _("Product"), _("Due"), _("Planned end"), _("State")],
                            [[o.number, o.product, o.due.isoformat(), o.planned_end.isoformat() if o.planned_end else "-",
                              _("late") if o.late else _("at risk")] for o in watch[:MAX_ORDERS]], numeric_from=5))
        if len(watch) > MAX_ORDERS:
            story.append(Paragraph(_("and %(n)s more", n=len(watch) - MAX_ORDERS), st["note"]))
    w = sheet.wip
    story.append(Paragraph(_("Work in progress now: %(orders)s orders, %(running)s operations running, %(paused)s paused, "
                             "%(pieces)s pieces.", orders=w.orders_in_progress, running=w.operations_running,
                             paused=w.operations_paused, pieces=w.pieces), st["base"]))

    if sheet.labour is not None and not sheet.empty:
        story.append(Paragraph(_("Labour"), st["h2"]))
        story.append(grid([_("Worker"), _("Hours"), _("Good pieces"), _("Pieces per hour")],
                          [[line.name, line.hours, line.good, line.per_hour if line.per_hour is not None else "-"]
                           for line in sheet.labour], [70 * mm, 30 * mm, 30 * mm, 30 * mm]))
    return story


def render(sheet: DailySheet, locale: str) -> bytes:
    """The sheet as PDF bytes, every label in ``locale`` (zh_CN or en)."""
    register_font()
    out = io.BytesIO()
    with force_locale(locale):
        doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=12 * mm,
                                bottomMargin=12 * mm, title=_title(sheet), author=sheet.plant)
        story = _story(sheet, locale)
        page_label = _("page %(n)s")

        def footer(canvas: Any, document: Any) -> None:
            canvas.setFont(font_name(), 7)
            canvas.drawRightString(A4[0] - 15 * mm, 7 * mm, page_label.replace("%(n)s", str(document.page)))

        doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
