"""Dispatch lists from the published plan: per machine or per work center, in the planned order,
with planned start and end, setup, quantity and the documents the worker needs; as a printable
PDF too (reportlab; Chinese through the CID font STSong-Light, which every PDF reader has)."""
from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy import select
from sqlalchemy.orm import Session

from mes.machines.models import Machine
from mes.orders.models import Operation, OperationStatus, WorkOrder
from mes.routing.models import Product
from mes.scheduling.models import ScheduledOperation, ScheduleStatus, ScheduleVersion

FONT = "STSong-Light"


@dataclass
class DispatchLine:
    seq: int  # place in the machine's queue, from 1
    machine: str
    order_id: int
    order: str
    product: str
    operation_seq: int
    operation: str
    setup_start: dt.datetime
    start: dt.datetime
    end: dt.datetime
    quantity: int
    good: int
    drawing: str | None
    program_no: str | None
    status: OperationStatus

    @property
    def setup_minutes(self) -> int:
        return int((self.start - self.setup_start).total_seconds() // 60)


def dispatch_lines(s: Session, machine_id: int | None = None, work_center_id: int | None = None) -> list[DispatchLine]:
    """The published plan's open operations on one machine (or all machines of a work center),
    machine by machine in planned order."""
    query = (
        select(ScheduledOperation, Operation, WorkOrder, Product, Machine)
        .join(ScheduleVersion, ScheduleVersion.id == ScheduledOperation.schedule_id)
        .join(Operation, Operation.id == ScheduledOperation.operation_id)
        .join(WorkOrder, WorkOrder.id == Operation.work_order_id)
        .join(Product, Product.id == WorkOrder.product_id)
        .join(Machine, Machine.id == ScheduledOperation.machine_id)
        .where(ScheduleVersion.status == ScheduleStatus.PUBLISHED,
               Operation.status.in_([OperationStatus.PENDING, OperationStatus.IN_PROGRESS, OperationStatus.PAUSED]))
        .order_by(Machine.code, ScheduledOperation.start_at, ScheduledOperation.id)
    )
    if machine_id is not None:
        query = query.where(ScheduledOperation.machine_id == machine_id)
    if work_center_id is not None:
        query = query.where(Machine.work_center_id == work_center_id)
    lines: list[DispatchLine] = []
    place: dict[int, int] = {}
    for so, op, order, product, machine in s.execute(query):
        place[machine.id] = place.get(machine.id, 0) + 1
        lines.append(DispatchLine(place[machine.id], machine.code, order.id, order.number, product.code, op.seq, op.name,
                                  so.setup_start_at, so.start_at, so.end_at, order.quantity, op.qty_good, op.drawing,
                                  op.program_no, op.status))
    return lines


def dispatch_pdf(title: str, subtitle: str, headers: Sequence[str], lines: Sequence[DispatchLine],
                 moment: Callable[[dt.datetime], str]) -> bytes:
    """A landscape A4 list, one row per operation, header row repeated on every page."""
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    style = ParagraphStyle("cell", fontName=FONT, fontSize=8.5, leading=10.5)
    head = ParagraphStyle("head", fontName=FONT, fontSize=15, leading=19)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm,
                            topMargin=12 * mm, bottomMargin=12 * mm, title=title)

    def cell(text: object) -> Paragraph:
        return Paragraph(str(text).replace("&", "&amp;").replace("<", "&lt;"), style)

    rows = [[cell(h) for h in headers]]
    for line in lines:
        docs = " · ".join(x for x in (line.drawing, line.program_no) if x)
        rows.append([cell(line.machine), cell(line.seq), cell(line.order), cell(line.product),
                     cell(f"{line.operation_seq} {line.operation}"), cell(moment(line.start)), cell(moment(line.end)),
                     cell(line.setup_minutes), cell(f"{line.good} / {line.quantity}"), cell(docs)])
    widths = [22 * mm, 10 * mm, 30 * mm, 28 * mm, 45 * mm, 30 * mm, 30 * mm, 16 * mm, 20 * mm, 40 * mm]
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.92, 0.94, 0.97)),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    doc.build([Paragraph(title.replace("&", "&amp;").replace("<", "&lt;"), head), Paragraph(subtitle, style),
               Spacer(1, 4 * mm), table])
    return buffer.getvalue()
