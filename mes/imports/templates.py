"""The templates to download: a header row and realistic example rows (using the plant's own
codes, so the untouched template checks clean) as CSV or as an .xlsx with a column guide."""
from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from typing import Any

from flask_babel import gettext as _, lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select
from sqlalchemy.orm import Session

from mes.core.clock import plant_today
from mes.core.db import session
from mes.imports.columns import COLUMNS, Kind
from mes.imports.reading import column_letter
from mes.machines.models import MachineStatus, WorkCenter
from mes.routing import services as routing_services
from mes.routing.models import Product, ProductFamily


def template_rows(s: Session, kind: Kind, chinese: bool) -> tuple[list[str], list[list[Any]]]:
    """The header row and a few realistic example rows, using the plant's own codes where it has
    them so that the untouched template checks clean."""
    columns = COLUMNS[kind]
    headers = [c.chinese if chinese else c.key for c in columns]
    today = plant_today()
    if kind == Kind.ROUTINGS:
        centers = [wc for wc in s.scalars(select(WorkCenter).order_by(WorkCenter.code))
                   if any(m.status != MachineStatus.RETIRED for m in wc.machines)]
        family = s.scalar(select(ProductFamily.code).order_by(ProductFamily.code).limit(1)) or "FA"
        first = centers[0] if centers else None
        second = centers[1] if len(centers) > 1 else first
        wc1 = first.code if first else "SAW"
        wc2 = second.code if second else "MILL"
        usable = [m.code for m in first.machines if m.status != MachineStatus.RETIRED] if first else ["L02", "L03"]
        machines = "; ".join(f"{code}:{setup}:{run}" for code, setup, run in zip(usable[:2], (30, 15), ("4", "2.5"), strict=False))
        code = "SH-2040"
        existing = s.scalar(select(Product.code).where(Product.code == code))
        rows = [
            {"product": code, "product_name": "传动轴 Ø40" if chinese else "Drive shaft Ø40", "family": family, "seq": 10,
             "operation": "下料" if chinese else "Saw blank", "work_center": wc1, "machines": "", "setup_min": 10,
             "run_min": 1.5, "transfer_batch": "", "inspection": "否" if chinese else "no", "predecessors": "",
             "drawing": "SH-2040-01", "program": "", "instructions": ""},
            {"product": code, "product_name": "", "family": "", "seq": 20, "operation": "车外圆" if chinese else "Turn OD",
             "work_center": wc1, "machines": machines, "setup_min": "", "run_min": "", "transfer_batch": 10,
             "inspection": "否" if chinese else "no", "predecessors": 10, "drawing": "SH-2040-01", "program": "O1020",
             "instructions": ""},
            {"product": code, "product_name": "", "family": "", "seq": 30, "operation": "铣键槽" if chinese else "Mill keyway",
             "work_center": wc2, "machines": "", "setup_min": 20, "run_min": 3.5, "transfer_batch": "",
             "inspection": "是" if chinese else "yes", "predecessors": 20, "drawing": "SH-2040-01", "program": "O3005",
             "instructions": "铣后去毛刺" if chinese else "Deburr after milling"},
        ]
        if existing:
            rows[0]["product_name"] = rows[0]["family"] = ""
    else:
        product = None
        for p in s.scalars(select(Product).where(Product.active.is_(True)).order_by(Product.code)):
            if routing_services.routing_in_force(s, p.id, today) is not None:
                product = p.code
                break
        product = product or s.scalar(select(Product.code).where(Product.active.is_(True)).order_by(Product.code).limit(1)) or "P-100"
        rows = [
            {"number": "", "product": product, "quantity": 50, "due_date": today + dt.timedelta(days=14),
             "release_date": today + dt.timedelta(days=2), "priority": "普通" if chinese else "normal",
             "customer": "华东泵业" if chinese else "East China Pumps", "note": ""},
            {"number": f"IMP-{today:%y%m%d}-01", "product": product, "quantity": 120,
             "due_date": today + dt.timedelta(days=21), "release_date": "", "priority": "高" if chinese else "high",
             "customer": "宁波阀门" if chinese else "Ningbo Valves", "note": "用库存料" if chinese else "Material from stock"},
        ]
    return headers, [[r[c.key] for c in columns] for r in rows]


def neutralize(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def write_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 with a BOM, so that Excel shows Chinese text correctly."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralize(h) for h in headers])
    for row in rows:
        writer.writerow([neutralize(v.isoformat() if isinstance(v, dt.date) else v) for v in row])
    return out.getvalue().encode("utf-8-sig")


def write_xlsx(kind: Kind, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """The example sheet first (the one imported), and a sheet that explains the columns."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = str(kind.label)[:31]
    sheet.append([neutralize(h) for h in headers])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([neutralize(v) if v != "" else None for v in row])
    for column in sheet.iter_cols(min_row=2):
        for cell in column:
            if isinstance(cell.value, dt.date):
                cell.number_format = "yyyy-mm-dd"
    for i, header in enumerate(headers):
        sheet.column_dimensions[column_letter(i)].width = max(12, len(str(header)) + 4)
    sheet.freeze_panes = "A2"
    help_sheet = workbook.create_sheet(str(_l("Columns"))[:31])
    help_sheet.append([_("Column"), _("Also accepted"), _("Required"), _("Meaning")])
    for cell in help_sheet[1]:
        cell.font = Font(bold=True)
    for col in COLUMNS[kind]:
        help_sheet.append([col.key, ", ".join(col.aliases), _("yes") if col.required else "", str(col.help)])
    for letter, width in zip("ABCD", (16, 36, 10, 90), strict=True):
        help_sheet.column_dimensions[letter].width = width
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def template_file(kind: Kind, fmt: str, chinese: bool) -> bytes:
    headers, rows = template_rows(session(), kind, chinese)
    return write_csv(headers, rows) if fmt == "csv" else write_xlsx(kind, headers, rows)
