"""Importing the plant itself: shift calendars, work centers, machines and product families, matched
by code (create or update, with a preview of what changes), every error by row and column, all or
nothing; and a new plant that imports the example templates in order reaches a published plan."""
from __future__ import annotations

import io

import openpyxl
import pytest
from sqlalchemy import func, select

from mes.core.db import session
from mes.imports import services, templates
from mes.imports.columns import Kind
from mes.machines.models import CalendarException, Machine, WorkCalendar, WorkCenter
from mes.routing.models import ProductFamily

from tests.imports.test_import import csv_bytes

PLANT_ORDER = (Kind.CALENDARS, Kind.WORK_CENTERS, Kind.MACHINES, Kind.FAMILIES, Kind.PRODUCTS)


def _count(model) -> int:  # type: ignore[no-untyped-def]
    session().rollback()
    return session().scalar(select(func.count()).select_from(model))


def _template(kind: Kind, fmt: str = "xlsx", chinese: bool = False) -> bytes:
    session().rollback()
    return templates.template_file(kind, fmt, chinese)


@pytest.mark.parametrize("chinese", [False, True])
def test_example_plant_imports_cleanly_and_reaches_a_published_plan(app, users, chinese):
    from mes.scheduling import services as scheduling
    from mes.scheduling.models import ScheduledOperation, ScheduleStatus, ScheduleVersion

    for kind in (*PLANT_ORDER, Kind.ROUTINGS, Kind.WORK_ORDERS):
        data = _template(kind, "xlsx", chinese)
        preview = services.preview(kind, f"{kind.value}.xlsx", data, release=True)
        assert preview.valid, (kind, preview.errors)
        result = services.run(kind, f"{kind.value}.xlsx", data, release=True)
        assert result.valid and result.committed, (kind, result.errors)
    assert _count(Machine) == 4 and _count(WorkCenter) == 3 and _count(ProductFamily) == 2
    assert {e.working for e in session().scalars(select(CalendarException))} == {True, False}
    schedule_id = scheduling.start_run(time_limit=5, workers=1, wait=True)
    session().rollback()
    version = session().get(ScheduleVersion, schedule_id)
    assert version.status == ScheduleStatus.DRAFT, version.message
    scheduling.publish(schedule_id, version.version)
    session().rollback()
    assert session().get(ScheduleVersion, schedule_id).status == ScheduleStatus.PUBLISHED
    assert session().scalar(select(func.count()).select_from(ScheduledOperation)
                            .where(ScheduledOperation.schedule_id == schedule_id)) >= 3


def test_machine_rows_are_checked_by_row_and_column_and_nothing_is_saved(app, plant):
    rows = [["设备编码", "名称", "工作中心", "出厂年份", "速度系数", "状态"],
            ["M-9", "New mill", "MILL", "2015", "1", "可用"],
            ["M-10", "Ghost", "NOPE", "2015", "1", ""],
            ["M-11", "", "MILL", "1800", "abc", "broken"],
            ["M-9", "Twice", "MILL", "", "", ""]]
    result = services.run(Kind.MACHINES, "machines.csv", csv_bytes(rows))
    found = {(e.row, e.column) for e in result.errors}
    assert not result.committed
    assert (3, "工作中心") in found and (4, "状态") in found and (5, "设备编码") in found
    assert any("Unknown work center NOPE" in e.message for e in result.errors)
    assert _count(Machine) == 3
    rows = [["设备编码", "名称", "工作中心", "出厂年份", "速度系数"], ["M-11", "", "MILL", "1800", "abc"]]
    result = services.preview(Kind.MACHINES, "machines.csv", csv_bytes(rows))
    assert {(e.row, e.column) for e in result.errors} == {(2, "名称"), (2, "出厂年份"), (2, "速度系数")}


def test_update_by_code_previews_the_changes(app, plant):
    rows = [["code", "name", "work_center", "speed_factor"], ["L-OLD", "Old lathe (rebuilt)", "TURN", "1.1"],
            ["L-NEW", "New lathe", "TURN", "1"]]
    preview = services.preview(Kind.MACHINES, "m.csv", csv_bytes(rows))
    assert preview.valid, preview.errors
    lines = {line["code"]: line for line in preview.created}
    assert lines["L-OLD"]["action"] == "update" and "name: Old lathe → Old lathe (rebuilt)" in lines["L-OLD"]["changes"]
    assert "speed_factor: 1 → 1.1" in lines["L-OLD"]["changes"]
    assert lines["L-NEW"]["changes"] == []  # columns the file leaves out keep their values
    assert session().get(Machine, plant.old).name == "Old lathe"  # the preview saved nothing
    assert services.run(Kind.MACHINES, "m.csv", csv_bytes(rows)).committed
    session().rollback()
    assert session().get(Machine, plant.old).name == "Old lathe (rebuilt)"


def test_calendar_rows(app, users):
    rows = [["calendar", "name", "weekday", "shifts", "date", "working", "note"],
            ["C1", "Day", "1", "08:00-12:00, 11:00-17:00", "", "", ""],
            ["C1", "", "周二", "17:00-08:00", "", "", ""],
            ["C1", "", "9", "08:00-12:00", "", "", ""],
            ["C1", "", "", "", "2027-02-06", "maybe", ""]]
    result = services.preview(Kind.CALENDARS, "c.csv", csv_bytes(rows))
    found = {(e.row, e.column) for e in result.errors}
    assert (4, "weekday") in found and (5, "working") in found
    rows = [["calendar", "name", "weekday", "shifts", "date", "working", "note"],
            ["C1", "Day", "1", "08:00-12:00, 11:00-17:00", "", "", ""],
            ["C1", "", "2", "17:00-08:00", "", "", ""]]
    result = services.run(Kind.CALENDARS, "c.csv", csv_bytes(rows))
    found = {(e.row, e.column) for e in result.errors}
    assert found == {(2, "shifts"), (3, "shifts")}, result.errors
    assert _count(WorkCalendar) == 0


def test_import_page_shows_the_order_and_plant_templates(as_role, plant):
    client = as_role("planner")
    page = client.get("/import/").get_data(as_text=True)
    assert "The plant: shift calendars, work centers, machines" in page
    for kind in ("calendars", "work-centers", "machines", "families", "products"):
        r = client.get(f"/import/template/{kind}.xlsx")
        assert r.status_code == 200, kind
        sheet = openpyxl.load_workbook(io.BytesIO(r.data)).active
        assert sheet.max_row >= 2


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_export_edit_and_import_again(as_role, plant, fmt):
    from mes.machines import services as machines

    calendar_id = machines.create_calendar(machines.CalendarInput(code="DAY", name="Day", week={0: "08:00-12:00, 13:00-17:00",
                                                                                                   6: "22:00-06:00+1"}))
    machines.add_calendar_exception(calendar_id, None, __import__("datetime").date(2027, 2, 8), False, "Spring Festival")
    client = as_role("planner")
    exported = {}
    for kind in ("calendars", "work-centers", "machines", "families", "products"):
        r = client.get(f"/import/export/{kind}.{fmt}")
        assert r.status_code == 200, kind
        exported[kind] = r.data
        # unchanged, the export imports back with nothing to change
        result = services.preview(Kind(kind), f"{kind}.{fmt}", r.data)
        assert result.valid, (kind, result.errors)
        assert all(line["action"] == "update" and not line["changes"] for line in result.created), (kind, result.created)
    # edit a machine's name in the exported file, and import it again
    if fmt == "xlsx":
        book = openpyxl.load_workbook(io.BytesIO(exported["machines"]))
        sheet = book.active
        for row in sheet.iter_rows(min_row=2):
            if row[0].value == "M-1":
                row[1].value = "Mill (new spindle)"
        out = io.BytesIO()
        book.save(out)
        edited = out.getvalue()
    else:
        edited = exported["machines"].decode("utf-8-sig").replace("M-1,Mill,", "M-1,Mill (new spindle),").encode()
    preview = services.preview(Kind.MACHINES, f"machines.{fmt}", edited)
    changed = [line for line in preview.created if line["changes"]]
    assert [line["code"] for line in changed] == ["M-1"] and changed[0]["changes"] == ["name: Mill → Mill (new spindle)"]
    assert services.run(Kind.MACHINES, f"machines.{fmt}", edited).committed
    session().rollback()
    assert session().get(Machine, plant.m1).name == "Mill (new spindle)"
    assert _count(Machine) == 3


def test_products_import_creates_and_updates_by_code(app, plant):
    rows = [["产品编码", "产品名称", "产品族", "图号"], ["P-1", "Shaft, long", "FB", "D-1"], ["P-9", "New", "FA", ""],
            ["P-10", "", "NOPE", ""]]
    result = services.run(Kind.PRODUCTS, "p.csv", csv_bytes(rows))
    assert {(e.row, e.column) for e in result.errors} == {(4, "产品族")}
    result = services.run(Kind.PRODUCTS, "p.csv", csv_bytes(rows[:3]))
    assert result.committed, result.errors
    from mes.routing.models import Product

    session().rollback()
    p1 = session().get(Product, plant.p1)
    assert (p1.name, p1.family_id, p1.drawing) == ("Shaft, long", plant.fb, "D-1")
    assert session().scalar(select(Product).where(Product.code == "P-9")).family_id == plant.fa
