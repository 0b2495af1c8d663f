"""The inspection report of a work order as PDF: every recorded value against its limits with
its verdict, who measured it and when, and the order's nonconformances. Chinese text uses the
job traveler's CID font (STSong-Light, which every PDF reader has)."""
from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from mes.shopfloor.traveler import FONT, _font

ROWS_PER_TABLE = 30


@dataclass(frozen=True)
class ResultLine:
    operation: str
    characteristic: str
    occasion: str
    value: str
    limits: str
    verdict: str
    passed: bool
    who: str
    when: str


@dataclass(frozen=True)
class NcrLine:
    number: str
    operation: str
    quantity: int
    defect: str
    status: str
    disposition: str


@dataclass(frozen=True)
class InspectionReport:
    number: str
    product: str
    quantity: int
    status: str
    printed: str
    results: Sequence[ResultLine]
    ncrs: Sequence[NcrLine]


def render(report: InspectionReport, labels: Mapping[str, str]) -> bytes:
    """The report as PDF bytes; ``labels`` are the headings in the reader's language."""
    _font()
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm, topMargin=12 * mm,
                            bottomMargin=12 * mm, title=f"{labels['title']} {report.number}")
    title = ParagraphStyle("title", fontName=FONT, fontSize=16, leading=20, wordWrap="CJK")
    text = ParagraphStyle("text", fontName=FONT, fontSize=9, leading=11, wordWrap="CJK")
    head = ParagraphStyle("head", parent=text, fontSize=12, leading=15, spaceBefore=6, spaceAfter=4)

    def p(value: str, style: ParagraphStyle = text) -> Paragraph:
        return Paragraph(escape(value), style)

    def fit(value: str) -> str | Paragraph:
        return p(value) if len(value) > 18 else value

    story: list = [
        p(f"{labels['title']}  {report.number}", title),
        p(f"{labels['product']}: {report.product}    {labels['quantity']}: {report.quantity}    "
          f"{labels['status']}: {report.status}    {labels['printed']}: {report.printed}"),
        Spacer(1, 4 * mm),
        p(labels["results"], head),
    ]
    if report.results:
        header = [p(labels[k]) for k in ("operation", "characteristic", "occasion", "value", "limits", "verdict", "who",
                                         "when")]
        # Tables of about a page each: one long table is split page by page, which takes time
        # growing with the square of its length. Paragraphs (which wrap) only where text runs long.
        for chunk_start in range(0, len(report.results), ROWS_PER_TABLE):
            chunk = report.results[chunk_start:chunk_start + ROWS_PER_TABLE]
            rows: list[list] = [header]
            rows += [[fit(r.operation), fit(r.characteristic), r.occasion, r.value, r.limits, r.verdict, r.who, r.when]
                     for r in chunk]
            table = Table(rows, repeatRows=1, colWidths=[42 * mm, 42 * mm, 28 * mm, 26 * mm, 40 * mm, 22 * mm, 34 * mm,
                                                          36 * mm])
            style = [("GRID", (0, 0), (-1, -1), 0.4, colors.grey), ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                     ("VALIGN", (0, 0), (-1, -1), "TOP"), ("FONTNAME", (0, 0), (-1, -1), FONT),
                     ("FONTSIZE", (0, 0), (-1, -1), 9)]
            style += [("BACKGROUND", (5, i), (5, i), colors.Color(1, 0.85, 0.85))
                      for i, r in enumerate(chunk, start=1) if not r.passed]
            table.setStyle(TableStyle(style))
            story.append(table)
    else:
        story.append(p(labels["no_results"]))
    story += [Spacer(1, 4 * mm), p(labels["ncrs"], head)]
    if report.ncrs:
        rows = [[p(labels[k]) for k in ("ncr", "operation", "quantity", "defect", "status", "disposition")]]
        rows += [[p(x) for x in (n.number, n.operation, str(n.quantity), n.defect, n.status, n.disposition)]
                 for n in report.ncrs]
        table = Table(rows, repeatRows=1, colWidths=[20 * mm, 50 * mm, 20 * mm, 70 * mm, 30 * mm, 80 * mm])
        table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                                   ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        story.append(table)
    else:
        story.append(p(labels["no_ncrs"]))
    doc.build(story)
    return out.getvalue()
