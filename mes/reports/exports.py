"""The daily sheet's figures as CSV and Excel: the same tables as the PDF, uncut and as numbers
(shares as fractions, minutes as numbers), every text cell neutralised against formula injection."""
from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from mes.core.cells import neutralize
from mes.reports.daily import DailySheet


@dataclass
class Section:
    title: str
    header: list[str]
    rows: list[list[Any]]


def _r(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def sections(sheet: DailySheet, locale: str) -> list[Section]:
    """The sheet's tables, labels in ``locale``."""
    with force_locale(locale):
        heads = {"output": _("Output (good pieces)"), "oee": _("OEE"), "on_time": _("On-time delivery"),
                 "scrap_rate": _("Scrap rate")}
        out = [
            Section(_("Headline: this day against the average of the 7 days before"),
                    [_("Figure"), _("This day"), _("7-day average"), _("Trend")],
                    [[heads[h.key], _r(h.value), _r(h.average), h.direction] for h in sheet.headline]),
        ]
        columns = [_("Good"), _("Scrap"), _("Planned")]
        for title, first, lines in ((_("Output per work center"), _("Work center"), sheet.by_work_center),
                                    (_("Output per machine"), _("Machine"), sheet.by_machine),
                                    (_("Output per product family"), _("Product family"), sheet.by_family)):
            out.append(Section(title, [first, _("Name"), *columns],
                               [[o.key, o.name, o.good, o.scrap, o.planned] for o in lines]))
        out.append(Section(_("OEE per machine"),
                           [_("Machine"), _("Work center"), _("Planned minutes"), _("Run minutes"), _("Ideal minutes"),
                            _("Good"), _("Total"), _("Availability"), _("Performance"), _("Quality rate"), _("OEE")],
                           [[m.machine, m.work_center, _r(m.figures.planned_minutes, 2), _r(m.figures.run_minutes, 2),
                             _r(m.figures.ideal_minutes, 2), m.figures.good, m.figures.total, _r(m.oee.availability),
                             _r(m.oee.performance), _r(m.oee.quality), _r(m.oee.oee)] for m in sheet.oee_by_machine]))
        out.append(Section(_("OEE trend per work center"), [_("Work center"), *[d.day.isoformat() for d in sheet.trend]],
                           [[t.work_center, *[_r(p) for p in t.points]] for t in sheet.oee_trend]))
        out.append(Section(_("Downtime by reason"), [_("Reason"), _("Minutes"), _("Stops"), _("Cumulative")],
                           [[r.reason, _r(r.minutes, 1), r.stops, _r(r.cumulative_share)] for r in sheet.downtime_by_reason]))
        out.append(Section(_("Longest stops"), [_("Machine"), _("Reason"), _("Start"), _("Minutes")],
                           [[s.machine, s.reason, s.start.isoformat(), _r(s.minutes, 1)] for s in sheet.longest_stops]))
        out.append(Section(_("Scrap: top reasons"), [_("Reason"), _("Pieces")],
                           [[r.reason, r.pieces] for r in sheet.scrap_reasons]))
        out.append(Section(_("Nonconformances"), [_("Defect"), _("Reports"), _("Pieces"), _("Still open")],
                           [[n.defect, n.reports, n.pieces, n.still_open] for n in sheet.nonconformances]))
        out.append(Section(_("Completed orders"), [_("Work order"), _("Product"), _("Due"), _("Completed"), _("On time")],
                           [[o.number, o.product, o.due.isoformat(), o.completed.isoformat() if o.completed else "",
                             _("yes") if o.on_time else _("late")] for o in sheet.completed]))
        out.append(Section(_("Open orders late or at risk in the published plan: %(n)s", n=len(sheet.late_or_at_risk)),
                           [_("Work order"), _("Product"), _("Due"), _("Planned end"), _("State")],
                           [[o.number, o.product, o.due.isoformat(), o.planned_end.isoformat() if o.planned_end else "",
                             _("late") if o.late else _("at risk")] for o in sheet.late_or_at_risk]))
        w = sheet.wip
        out.append(Section(_("Work in progress now"), [_("Orders"), _("Running"), _("Paused"), _("Pieces")],
                           [[w.orders_in_progress, w.operations_running, w.operations_paused, w.pieces]]))
        if sheet.labour is not None:
            out.append(Section(_("Labour"), [_("Worker"), _("Hours"), _("Good pieces"), _("Pieces per hour")],
                               [[line.name, float(line.hours), line.good,
                                 float(line.per_hour) if line.per_hour is not None else None] for line in sheet.labour]))
    return out


def _cell(value: Any) -> Any:
    return "" if value is None else neutralize(value)


def write_csv(parts: Sequence[Section]) -> bytes:
    """One file, a titled block per table; UTF-8 with a BOM so Excel shows Chinese correctly."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for n, part in enumerate(parts):
        if n:
            writer.writerow([])
        writer.writerow([_cell(part.title)])
        writer.writerow([_cell(h) for h in part.header])
        for row in part.rows:
            writer.writerow([_cell(v) for v in row])
    return out.getvalue().encode("utf-8-sig")


def write_xlsx(parts: Sequence[Section], title: str) -> bytes:
    """One workbook, the tables one under another on one worksheet (titles in bold)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "".join(ch for ch in title if ch not in "[]:*?/\\")[:31] or "sheet"
    for n, part in enumerate(parts):
        if n:
            sheet.append([])
        sheet.append([neutralize(part.title)])
        sheet.cell(sheet.max_row, 1).font = Font(bold=True)
        sheet.append([neutralize(h) for h in part.header])
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
        for row in part.rows:
            sheet.append([neutralize(v) for v in row])
    sheet.column_dimensions["A"].width = 28
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
