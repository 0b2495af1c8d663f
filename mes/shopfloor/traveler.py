"""The job traveler: a printed sheet that goes with the parts, one row per operation with a QR
code that opens the operation's card on a tablet. Chinese text uses the CID font STSong-Light,
which every PDF reader has, so no font file ships with the app."""
from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

FONT = "STSong-Light"
QR_SIZE = 24 * mm
ROW = 30 * mm
LINE = 5 * mm


@dataclass(frozen=True)
class TravelerStep:
    seq: int
    name: str
    work_center: str
    machines: str
    url: str
    instructions: str = ""


@dataclass(frozen=True)
class Traveler:
    number: str
    product: str
    quantity: int
    due: str
    customer: str
    steps: Sequence[TravelerStep]


def _font() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def _qr(pdf: canvas.Canvas, text: str, x: float, y: float) -> None:
    widget = QrCodeWidget(text)
    left, bottom, right, top = widget.getBounds()
    drawing = Drawing(QR_SIZE, QR_SIZE, transform=[QR_SIZE / (right - left), 0, 0, QR_SIZE / (top - bottom), 0, 0])
    drawing.add(widget)
    renderPDF.draw(drawing, pdf, x, y)


def _wrap(text: str, size: float, width: float) -> list[str]:
    """Lines of ``text`` no wider than ``width``; breaks between any two characters, since Chinese
    has no spaces to break at."""
    lines: list[str] = []
    for paragraph in text.splitlines():
        line = ""
        for char in paragraph:
            if line and pdfmetrics.stringWidth(line + char, FONT, size) > width:
                lines.append(line)
                line = ""
            line += char
        if line.strip():
            lines.append(line)
    return lines


def render(traveler: Traveler, labels: Mapping[str, str]) -> bytes:
    """The traveler as PDF bytes; ``labels`` are the headings in the reader's language."""
    _font()
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    pdf.setTitle(f"{labels['title']} {traveler.number}")
    width, height = A4

    def header() -> float:
        pdf.setFont(FONT, 18)
        pdf.drawString(15 * mm, height - 20 * mm, f"{labels['title']}   {traveler.number}")
        pdf.setFont(FONT, 11)
        pdf.drawString(15 * mm, height - 28 * mm, f"{labels['product']}: {traveler.product}")
        pdf.drawString(15 * mm, height - 34 * mm, f"{labels['quantity']}: {traveler.quantity}    "
                                                  f"{labels['due']}: {traveler.due}    {labels['customer']}: {traveler.customer}")
        _qr(pdf, traveler.number, width - 15 * mm - QR_SIZE, height - 15 * mm - QR_SIZE)
        return height - 45 * mm

    y = header()
    text_width = width - 45 * mm - QR_SIZE
    for step in traveler.steps:
        notes = _wrap(step.instructions, 10, text_width)
        row = ROW + LINE * len(notes)
        if y - row < 15 * mm:
            pdf.showPage()
            y = header()
        pdf.rect(15 * mm, y - row, width - 30 * mm, row)
        pdf.setFont(FONT, 14)
        pdf.drawString(20 * mm, y - 9 * mm, f"{step.seq}  {step.name}")
        pdf.setFont(FONT, 10)
        pdf.drawString(20 * mm, y - 16 * mm, f"{labels['work_center']}: {step.work_center}   {labels['machines']}: {step.machines}")
        for n, note in enumerate(notes):
            pdf.drawString(20 * mm, y - 16 * mm - LINE * (n + 1), note)
        pdf.drawString(20 * mm, y - row + 7 * mm,
                       f"{labels['good']}: ________   {labels['scrap']}: ________   {labels['signature']}: ____________")
        _qr(pdf, step.url, width - 17 * mm - QR_SIZE, y - row + 3 * mm)
        y -= row + 3 * mm
    pdf.showPage()
    pdf.save()
    return out.getvalue()
