"""The daily sheet as a reader sees it: pdftotext's text of the PDF carries the known day's
figures, in English and in Chinese; an empty day says so; labour only when asked for."""
from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess

import pytest

from mes.core.clock import plant_today
from mes.core.db import session
from mes.reports import daily, sheet_pdf
from tests.pdftext import pdf_text


def text_of(pdf: bytes) -> str:
    """The PDF's text with runs of blanks made single (table cells are spaced out)."""
    return "\n".join(" ".join(line.split()) for line in pdf_text(pdf).splitlines())


def pages_of(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b(?!s)", pdf))


def _pdf(day, locale, labour=True, shift=None):  # type: ignore[no-untyped-def]
    s = session()
    sheet = daily.daily_sheet(s, daily.window(s, day, shift), locale, with_labour=labour, plant="Plant")
    return sheet_pdf.render(sheet, locale)


def test_english_sheet_has_the_days_figures(known_day):  # type: ignore[no-untyped-def]
    pdf = _pdf(known_day.day, "en")
    text = text_of(pdf)
    assert f"Daily output sheet {known_day.day.isoformat()}" in text
    assert "Good 85, scrap 6, planned 150 pieces." in text
    assert "TURN 65 3 100 65.0%" in text and "MILL 20 3 50 40.0%" in text
    assert "FA 85 6 150 56.7%" in text
    assert "Output (good pieces) 85 7 ↑ better" in text
    assert "Scrap rate 6.6% 0.0% ↑ worse" in text
    assert "On-time delivery 50.0% -" in text
    # OEE: L-OLD 25.0% availability, performance capped at 100%, quality 30/31
    assert "L-OLD TURN 30 1 0 12.5% 100.0% 96.8% 12.1%" in text
    assert "Downtime: 195 min" in text
    assert "Tool breakage 90 1 46.2%" in text and "Power or air failure 45 1 100.0%" in text
    assert "Out of tolerance 5" in text and "Surface defect 1" in text
    assert "Completed: 2, on time 1, late 1." in text
    assert f"{known_day.e} P-1" in text and f"{known_day.f} P-1" in text
    assert "Open orders late or at risk in the published plan: 2" in text
    assert "Work in progress now: 1 orders, 1 operations running, 1 paused, 85 pieces." in text
    assert "Worker 6.00 55 9.2" in text and "Worker Two 2.00 30 15.0" in text
    assert 1 <= pages_of(pdf) <= 3


def test_chinese_sheet_has_the_days_figures(known_day):  # type: ignore[no-untyped-def]
    text = text_of(_pdf(known_day.day, "zh_CN"))
    assert f"每日产量报表 {known_day.day.isoformat()}" in text
    assert "良品 85，报废 6，计划 150 件。" in text
    assert "TURN 65 3 100 65.0%" in text
    assert "断刀 90 1 46.2%" in text
    assert "尺寸超差 5" in text
    assert "停机：195 分钟" in text
    assert "已完成：2，按期 1，延期 1。" in text
    assert "Worker Two 2.00 30 15.0" in text
    assert "故障停机（未填原因） 60 1 76.9%" in text
    assert "设备 工作中心 良品 废品 计划 时间开动率 性能开动率 合格品率 OEE" in text


def test_sheet_without_labour(known_day):  # type: ignore[no-untyped-def]
    text = text_of(_pdf(known_day.day, "en", labour=False))
    assert "Labour" not in text and "Worker Two" not in text


def test_empty_day_says_so(app, plant):  # type: ignore[no-untyped-def]
    day = plant_today() - dt.timedelta(days=40)
    for locale, message in (("en", "No production, downtime or completed orders were reported on this day."),
                            ("zh_CN", "当天没有报工、停机或完工订单。")):
        pdf = _pdf(day, locale)
        assert message in text_of(pdf)
        assert pages_of(pdf) == 1



WQY = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"


def test_embedded_truetype_font(known_day, app):  # type: ignore[no-untyped-def]
    import os

    if not os.path.exists(WQY) or shutil.which("pdffonts") is None:
        pytest.skip("needs Debian packages fonts-wqy-microhei and poppler-utils")
    app.config["PDF_FONT"] = WQY
    try:
        pdf = _pdf(known_day.day, "zh_CN")
    finally:
        app.config["PDF_FONT"] = ""
    text = text_of(pdf)
    assert "良品 85，报废 6，计划 150 件。" in text and "断刀 90 1 46.2%" in text
    fonts = subprocess.run(["pdffonts", "-"], input=pdf, capture_output=True, check=True, timeout=60).stdout.decode()
    embedded = [line for line in fonts.splitlines() if "MesEmbedded" in line or "WenQuanYi" in line]
    assert embedded and all(" yes " in line for line in embedded), fonts
    assert "STSong" not in fonts


def test_the_sheet_lists_the_days_nonconformances(known_day, make_order):  # type: ignore[no-untyped-def]
    from mes.core.db import transaction
    from mes.quality.models import Disposition, NcrStatus, Nonconformance

    order = make_order()
    with transaction() as s:
        s.add_all([
            Nonconformance(work_order_id=order.id, quantity=3, defect="Burr 毛刺", created_at=known_day.at(9)),
            Nonconformance(work_order_id=order.id, quantity=2, defect="Burr 毛刺", created_at=known_day.at(15),
                           status=NcrStatus.CLOSED, disposition=Disposition.SCRAP),
            Nonconformance(work_order_id=order.id, quantity=4, defect="Crack", created_at=known_day.at(9, days=-1)),
        ])
    s = session()
    sheet = daily.daily_sheet(s, daily.window(s, known_day.day), "en", with_labour=False)
    assert [(n.defect, n.reports, n.pieces, n.still_open) for n in sheet.nonconformances] == [("Burr 毛刺", 2, 5, 1)]
    assert "Burr 毛刺 2 5 1" in text_of(sheet_pdf.render(sheet, "en"))
    assert "毛刺 2 5 1" in text_of(_pdf(known_day.day, "zh_CN"))
