"""The proof-of-value report as an A4 PDF in Chinese or English: the monthly trends since go-live
and the shop's digital footprint (figures from :mod:`mes.reports.value`)."""
from __future__ import annotations

import io
from typing import Any

from flask_babel import force_locale, gettext as _
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer

from mes.reports.sheet_pdf import font_name, grid, pct, register_font, styles
from mes.reports.value import ValueReport


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def rows(report: ValueReport) -> list[list[str]]:
    return [[m.month.strftime("%Y-%m"), pct(m.oee), pct(m.on_time), _num(m.lead_time_days), pct(m.scrap_rate),
             str(m.setup_hours), _num(m.setup_minutes_per_changeover, 0), pct(m.terminal_share), pct(m.optimizer_share)]
            for m in report.months]


def header() -> list[str]:
    return [_("Month"), _("OEE"), _("On-time delivery"), _("Lead time (days)"), _("Scrap rate"), _("Setup hours"),
            _("Minutes per setup"), _("Reported on terminals"), _("Planned by the optimizer")]


def _chart(report: ValueReport, width: float) -> Drawing:
    height = 50 * mm
    drawing = Drawing(width, height)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 10 * mm, 8 * mm, width - 14 * mm, height - 14 * mm
    chart.data = [[round((m.oee or 0) * 100, 1) for m in report.months],
                  [round((m.on_time or 0) * 100, 1) for m in report.months]]
    chart.categoryAxis.categoryNames = [m.month.strftime("%Y-%m") for m in report.months]
    for axis in (chart.categoryAxis.labels, chart.valueAxis.labels):
        axis.fontName, axis.fontSize = font_name(), 7
    chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = 0, 100, 25
    chart.bars[0].fillColor, chart.bars[1].fillColor = colors.HexColor("#1a73e8"), colors.HexColor("#188038")
    drawing.add(chart)
    drawing.add(String(0, height - 4 * mm, _("OEE (blue) and on-time delivery (green) per month, %"), fontName=font_name(), fontSize=8))
    return drawing


def render(report: ValueReport, locale: str, plant: str = "") -> bytes:
    register_font()
    out = io.BytesIO()
    with force_locale(locale):
        st = styles()
        title = _("Proof of value since go-live")
        story: list[Flowable] = [Paragraph(title, st["title"])]
        if report.go_live is None:
            story.append(Paragraph(_("Nothing has been reported yet: the figures start with the first production report."),
                                   st["empty"]))
        else:
            story.append(Paragraph(f"{plant}  |  " + _("live since %(day)s", day=report.go_live.isoformat()), st["note"]))
            story.append(Paragraph(_("Digital footprint"), st["h2"]))
            story.append(Paragraph(_("Machines connected by MQTT: %(connected)s of %(total)s (the others are reported by hand "
                                     "on the terminals).", connected=report.machines_connected, total=report.machines_total),
                                   st["base"]))
            last = report.last
            if last is not None:
                story.append(Paragraph(_("This month: %(terminal)s of production reports made on terminals instead of paper, "
                                         "%(optimizer)s of released orders planned by the optimizer.",
                                         terminal=pct(last.terminal_share), optimizer=pct(last.optimizer_share)), st["base"]))
            story.append(Paragraph(_("Month by month"), st["h2"]))
            width = A4[0] - 30 * mm
            story.append(_chart(report, width))
            story.append(Spacer(1, 2 * mm))
            table = grid(header(), rows(report), [16 * mm] + [20.5 * mm] * 8)
            head = ParagraphStyle("head", parent=st["base"], fontSize=7.5, leading=9)
            table._cellvalues[0] = [Paragraph(text, head) for text in header()]
            story.append(table)
            story.append(Paragraph(_("Lead time: days from release to completion of the orders completed that month. "
                                     "Minutes per setup: setup time booked per operation set up."), st["note"]))
        doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=12 * mm,
                                bottomMargin=12 * mm, title=title, author=plant)
        page_label = _("page %(n)s")

        def footer(canvas: Any, document: Any) -> None:
            canvas.setFont(font_name(), 7)
            canvas.drawRightString(A4[0] - 15 * mm, 7 * mm, page_label.replace("%(n)s", str(document.page)))

        doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
