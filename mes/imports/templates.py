"""The templates to download: a header row and realistic example rows (using the plant's own
codes, so the untouched template checks clean) as CSV or as an .xlsx with a column guide."""
from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select
from sqlalchemy.orm import Session

from mes.core.cells import neutralize
from mes.core.clock import plant_today
from mes.core.db import session
from mes.core.models import User
from mes.imports.columns import COLUMNS, Kind
from mes.imports.reading import column_letter
from mes.machines.models import Machine, MachineStatus, WorkCalendar, WorkCenter
from mes.machines.services import format_spans
from mes.routing import services as routing_services
from mes.routing.models import Product, ProductFamily


def template_rows(s: Session, kind: Kind, chinese: bool) -> tuple[list[str], list[list[Any]]]:
    """The header row and a few realistic example rows, using the plant's own codes where it has
    them so that the untouched template checks clean."""
    columns = COLUMNS[kind]
    headers = [c.chinese if chinese else c.key for c in columns]
    today = plant_today()
    if kind in PLANT_EXAMPLES:
        rows = PLANT_EXAMPLES[kind](today, chinese)
    elif kind == Kind.ROUTINGS:
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


def _calendar_rows(today: dt.date, chinese: bool) -> list[dict[str, Any]]:
    new_year = dt.date(today.year + 1, 1, 1)
    make_up = new_year + dt.timedelta(days=(5 - new_year.weekday()) % 7 or 7)  # the first Saturday after it
    day_shift = "08:00-12:00, 13:00-17:00"
    rows = [{"calendar": "DAY", "name": "白班 周一至周五" if chinese else "Day shift Mon-Fri", "weekday": d,
             "shifts": day_shift, "date": "", "working": "", "note": ""} for d in range(1, 6)]
    rows += [{"calendar": "2SHIFT", "name": "两班 周一至周六" if chinese else "Two shifts Mon-Sat" if d == 1 else "",
              "weekday": d, "shifts": "06:00-14:00, 14:00-22:00", "date": "", "working": "", "note": ""} for d in range(1, 7)]
    rows += [
        {"calendar": "DAY", "name": "", "weekday": "", "shifts": "", "date": new_year, "working": "否" if chinese else "no",
         "note": "元旦" if chinese else "New Year's Day"},
        {"calendar": "DAY", "name": "", "weekday": "", "shifts": "", "date": make_up, "working": "是" if chinese else "yes",
         "note": "调休上班" if chinese else "make-up working day"},
    ]
    return rows


def _work_center_rows(today: dt.date, chinese: bool) -> list[dict[str, Any]]:
    return [
        {"code": "SAW", "name": "锯床" if chinese else "Sawing", "calendar": "DAY", "changeover_min": 10},
        {"code": "TURN", "name": "车削" if chinese else "Turning", "calendar": "2SHIFT", "changeover_min": 30},
        {"code": "MILL", "name": "铣削" if chinese else "Milling", "calendar": "DAY", "changeover_min": 20},
    ]


def _machine_rows(today: dt.date, chinese: bool) -> list[dict[str, Any]]:
    yes, no = ("是", "否") if chinese else ("yes", "no")
    available = "可用" if chinese else "available"
    return [
        {"code": "SAW-01", "name": "带锯" if chinese else "Band saw", "work_center": "SAW", "make": "Kasto", "model": "SBA",
         "year": 2012, "data_connection": no, "speed_factor": 1, "calendar": "", "status": available},
        {"code": "L02", "name": "数控车床 2" if chinese else "CNC lathe 2", "work_center": "TURN", "make": "Haas",
         "model": "ST-20", "year": 2018, "data_connection": yes, "speed_factor": 1, "calendar": "", "status": available},
        {"code": "L03", "name": "数控车床 3" if chinese else "CNC lathe 3", "work_center": "TURN", "make": "Mazak",
         "model": "QT-200", "year": 2008, "data_connection": no, "speed_factor": 0.8, "calendar": "", "status": available},
        {"code": "M01", "name": "立式加工中心" if chinese else "Vertical mill", "work_center": "MILL", "make": "DMG Mori",
         "model": "CMX 600V", "year": 2020, "data_connection": yes, "speed_factor": 1.2, "calendar": "", "status": available},
    ]


def _family_rows(today: dt.date, chinese: bool) -> list[dict[str, Any]]:
    return [{"code": "SH", "name": "轴类" if chinese else "Shafts"}, {"code": "FL", "name": "法兰" if chinese else "Flanges"}]


def _product_rows(today: dt.date, chinese: bool) -> list[dict[str, Any]]:
    return [{"code": "FL-100", "name": "法兰 DN100" if chinese else "Flange DN100", "family": "FL", "drawing": "FL-100-01"}]


def _user_rows(today: dt.date, chinese: bool) -> list[dict[str, Any]]:
    yes = "是" if chinese else "yes"
    return [{"username": "li.ming", "display_name": "李明" if chinese else "Li Ming",
             "roles": "操作工" if chinese else "worker", "employee_no": "E-2001", "badge": "B-2001", "pin": "2468",
             "language": "zh_CN", "active": yes}]


PLANT_EXAMPLES = {Kind.CALENDARS: _calendar_rows, Kind.WORK_CENTERS: _work_center_rows, Kind.MACHINES: _machine_rows,
                  Kind.FAMILIES: _family_rows, Kind.PRODUCTS: _product_rows, Kind.USERS: _user_rows}


def _yes_no(value: bool, chinese: bool) -> str:
    return ("是" if value else "否") if chinese else ("yes" if value else "no")


def export_rows(s: Session, kind: Kind, chinese: bool) -> tuple[list[str], list[list[Any]]]:
    """The plant's records (not retired) in the template's columns: edit them in Excel and import
    the file again; rows are matched by code."""
    columns = COLUMNS[kind]
    headers = [c.chinese if chinese else c.key for c in columns]
    rows: list[dict[str, Any]] = []
    if kind == Kind.CALENDARS:
        for cal in s.scalars(select(WorkCalendar).where(WorkCalendar.active).order_by(WorkCalendar.code)):
            first = True
            for day in range(7):
                spans = [(x.start_minute, x.end_minute) for x in cal.shifts if x.weekday == day]
                if spans:
                    rows.append({"calendar": cal.code, "name": cal.name if first else "", "weekday": day + 1,
                                 "shifts": format_spans(spans), "date": "", "working": "", "note": ""})
                    first = False
            for e in sorted(cal.exceptions, key=lambda e: e.day):
                rows.append({"calendar": cal.code, "name": "", "weekday": "", "shifts": "", "date": e.day,
                             "working": _yes_no(e.working, chinese), "note": e.note or ""})
    elif kind == Kind.WORK_CENTERS:
        for wc in s.scalars(select(WorkCenter).where(WorkCenter.active).order_by(WorkCenter.code)):
            rows.append({"code": wc.code, "name": wc.name, "calendar": wc.calendar.code if wc.calendar else "",
                         "changeover_min": wc.default_changeover_minutes})
    elif kind == Kind.MACHINES:
        for m in s.scalars(select(Machine).where(Machine.status != MachineStatus.RETIRED).order_by(Machine.code)):
            rows.append({"code": m.code, "name": m.name, "work_center": m.work_center.code, "make": m.make or "",
                         "model": m.model or "", "year": m.year_built or "",
                         "data_connection": _yes_no(m.has_data_connection, chinese),
                         "speed_factor": float(m.speed_factor), "calendar": m.calendar.code if m.calendar else "",
                         "status": m.status.value})
    elif kind == Kind.USERS:
        # Badges and PINs are kept only as digests: the export leaves those cells empty, which
        # an import reads as "keep the user's one".
        for u in s.scalars(select(User).order_by(User.username)):
            rows.append({"username": u.username, "display_name": u.display_name,
                         "roles": ", ".join(sorted(r.role for r in u.role_rows)), "employee_no": u.employee_no or "",
                         "badge": "", "pin": "", "language": u.locale or "", "active": _yes_no(u.active, chinese)})
    elif kind == Kind.PRODUCTS:
        for p in s.scalars(select(Product).where(Product.active.is_(True)).order_by(Product.code)):
            rows.append({"code": p.code, "name": p.name, "family": p.family.code, "drawing": p.drawing or ""})
    else:
        for f in s.scalars(select(ProductFamily).where(ProductFamily.active).order_by(ProductFamily.code)):
            rows.append({"code": f.code, "name": f.name})
    return headers, [[r[c.key] for c in columns] for r in rows]


def export_file(kind: Kind, fmt: str, chinese: bool) -> bytes:
    headers, rows = export_rows(session(), kind, chinese)
    return write_csv(headers, rows) if fmt == "csv" else write_xlsx(kind, headers, rows)


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
