"""The daily sheet on the web, from the command line, and as CSV and Excel: the same figures,
labour only for owners and planners, bad dates refused with a clear message, cells safe to open."""
from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from mes.cli import cli
from mes.core.clock import plant_today
from mes.core.db import transaction
from mes.core.models import User
from mes.routing.models import Product
from tests.reports.test_sheet_pdf import text_of


def _csv(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_pdf_download_for_each_language(known_day, as_role):  # type: ignore[no-untyped-def]
    owner = as_role("owner")
    for lang, expected in (("en", "Good 85, scrap 6, planned 150 pieces."), ("zh_CN", "良品 85，报废 6，计划 150 件。")):
        r = owner.get(f"/reports/daily.pdf?date={known_day.day.isoformat()}&lang={lang}&labour=1")
        assert r.status_code == 200 and r.mimetype == "application/pdf"
        text = text_of(r.data)
        assert expected in text and "Worker Two 2.00 30 15.0" in text


def test_labour_only_for_owner_and_planner(known_day, as_role):  # type: ignore[no-untyped-def]
    day = known_day.day.isoformat()
    for role in ("owner", "planner"):
        assert as_role(role).get(f"/reports/daily.csv?date={day}&labour=1").status_code == 200
    quality = as_role("quality")
    for fmt in ("pdf", "csv", "xlsx"):
        assert quality.get(f"/reports/daily.{fmt}?date={day}&labour=1").status_code == 403
    r = quality.get(f"/reports/daily.csv?date={day}&lang=en")
    assert r.status_code == 200
    body = r.data.decode("utf-8-sig")
    assert "Worker Two" not in body and "Labour" not in body
    assert as_role("worker").get(f"/reports/daily.pdf?date={day}").status_code == 403


@pytest.mark.parametrize(("raw", "message"), [
    ("2026-02-30", "Enter the date as YYYY-MM-DD."),
    ("tomorrow", "Enter the date as YYYY-MM-DD."),
    ("FUTURE", "is in the future: there are no figures for it yet."),
])
def test_bad_dates_refused_on_the_web(app, as_role, raw, message):  # type: ignore[no-untyped-def]
    if raw == "FUTURE":
        raw = (plant_today() + dt.timedelta(days=3)).isoformat()
    owner = as_role("owner")
    owner.post("/locale", data={"locale": "en"})
    r = owner.get(f"/reports/daily.pdf?date={raw}")
    assert r.status_code == 422
    assert message in r.get_data(as_text=True)


def test_csv_and_excel_have_the_same_figures(known_day, as_role):  # type: ignore[no-untyped-def]
    owner = as_role("owner")
    day = known_day.day.isoformat()
    rows = _csv(owner.get(f"/reports/daily.csv?date={day}&lang=en&labour=1").data)
    assert ["TURN", "Turning", "65", "3", "100"] in rows
    assert ["MILL", "Milling", "20", "3", "50"] in rows
    assert ["Tool breakage", "90.0", "1", "0.4615"] in rows
    assert ["Worker Two", "2.0", "30", "15.0"] in rows
    r = owner.get(f"/reports/daily.xlsx?date={day}&lang=zh_CN&labour=1")
    assert r.status_code == 200 and r.headers["Content-Disposition"].startswith("attachment")
    values = [tuple(row) for row in load_workbook(io.BytesIO(r.data), read_only=True).active.iter_rows(values_only=True)]
    assert ("TURN", "Turning", 65, 3, 100) in [v[:5] for v in values]
    assert ("断刀", 90.0, 1, 0.4615) in [v[:4] for v in values]
    assert ("Worker", 6.0, 55, 9.2) in [v[:4] for v in values]


def test_exports_are_safe_against_formula_injection(known_day, as_role):  # type: ignore[no-untyped-def]
    with transaction() as s:
        s.scalars(select(User).where(User.username == "worker2")).one().display_name = "=HYPERLINK(\"http://x\",\"y\")"
        s.scalars(select(Product).where(Product.code == "P-1")).one().code = "@SUM(1+1)"
    owner = as_role("owner")
    day = known_day.day.isoformat()
    rows = _csv(owner.get(f"/reports/daily.csv?date={day}&lang=en&labour=1").data)
    cells = [c for row in rows for c in row]
    assert "'=HYPERLINK(\"http://x\",\"y\")" in cells and "'@SUM(1+1)" in cells
    assert not any(c and c[0] in "=+@" for c in cells)
    book = load_workbook(io.BytesIO(owner.get(f"/reports/daily.xlsx?date={day}&lang=en&labour=1").data))
    found = [c for row in book.active.iter_rows() for c in row if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert found and all(c.data_type == "s" and c.value.startswith("'") for c in found)


def test_command_line(known_day, app, tmp_path):  # type: ignore[no-untyped-def]
    runner = app.test_cli_runner()
    out = tmp_path / "sheet.pdf"
    result = runner.invoke(cli, ["report", "daily", "--date", known_day.day.isoformat(), "--lang", "en", "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = text_of(out.read_bytes())
    assert "Good 85, scrap 6, planned 150 pieces." in text and "Worker Two 2.00 30 15.0" in text
    shift = tmp_path / "early.pdf"
    result = runner.invoke(cli, ["report", "daily", "--date", known_day.day.isoformat(), "--shift", "06:00-14:00",
                                 "--lang", "zh_CN", "-o", str(shift)])
    assert result.exit_code == 0, result.output
    assert "良品 65，报废 3" in text_of(shift.read_bytes())
    future = (plant_today() + dt.timedelta(days=1)).isoformat()
    result = runner.invoke(cli, ["report", "daily", "--date", future, "--lang", "en", "-o", str(tmp_path / "f.pdf")])
    assert result.exit_code != 0 and "is in the future" in result.output and not (tmp_path / "f.pdf").exists()
    result = runner.invoke(cli, ["report", "daily", "--date", "2026-1-1x", "--lang", "zh_CN", "-o", str(tmp_path / "g.pdf")])
    assert result.exit_code != 0 and "请按 YYYY-MM-DD 格式输入日期" in result.output
    result = runner.invoke(cli, ["report", "daily", "--date", known_day.day.isoformat(), "--shift", "night",
                                 "--lang", "en", "-o", str(tmp_path / "h.pdf")])
    assert result.exit_code != 0 and "has no shift night" in result.output
