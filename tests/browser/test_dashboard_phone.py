"""The owner's dashboard on a phone (360 px wide) in Chromium: every tile and chart fits the
screen without sideways scrolling, and the page refreshes its figures by itself."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select


def _seed(app):  # type: ignore[no-untyped-def]
    from mes.admin import services as admin
    from mes.core.db import transaction, utcnow
    from mes.core.models import Role
    from mes.machines.models import Machine, MachineDowntime
    from tests.browser.test_routing_pages import seed

    seed(app)
    with app.app_context():
        admin.create_user(admin.UserInput(username="boss", display_name="Boss", roles=[Role.OWNER], password="correct-horse-1"))
        with transaction() as s:
            machine = s.scalars(select(Machine)).first()
            s.add(MachineDowntime(machine_id=machine.id, starts_at=utcnow() - dt.timedelta(minutes=20)))


def _add_report(app, good: int) -> None:  # type: ignore[no-untyped-def]
    from mes.core.db import transaction, utcnow
    from mes.orders.models import Operation, ProductionReport

    with app.app_context(), transaction() as s:
        op = s.scalars(select(Operation)).first()
        s.add(ProductionReport(operation_id=op.id, work_order_id=op.work_order_id, good_qty=good, scrap_qty=0,
                               reported_at=utcnow()))


def test_dashboard_at_phone_width(live_server, browser):  # type: ignore[no-untyped-def]
    base, app = live_server
    _seed(app)
    _add_report(app, 7)
    context = browser.new_context(locale="zh-CN", viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.goto(f"{base}/login")
    page.fill("#username", "boss")
    page.fill("#password", "correct-horse-1")
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/reports/dashboard")
    assert page.locator("#dash-good").inner_text() == "7"
    assert page.locator("#dash-down").inner_text() == "1"
    assert page.locator(".dash-charts svg").count() == 3
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    for box in (page.locator(sel).bounding_box() for sel in ("#dash-good", ".dash-charts figure >> nth=0")):
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360
    assert "今日良品" in page.locator("#dashboard").inner_text()
    # The poll swaps new figures in without a reload.
    _add_report(app, 5)
    page.evaluate("htmx.ajax('GET', '/reports/dashboard', {target: '#dashboard', swap: 'outerHTML', headers: {'X-MES-Poll': '1'}})")
    page.locator("#dash-good", has_text="12").wait_for()
    context.close()
    assert violations == [], violations


def test_daily_sheet_page_downloads(live_server, browser, tmp_path):  # type: ignore[no-untyped-def]
    from mes.core.clock import plant_today

    base, app = live_server
    _seed(app)
    _add_report(app, 7)
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.goto(f"{base}/login")
    page.fill("#username", "boss")
    page.fill("#password", "correct-horse-1")
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{base}/")
    page.click("nav.mainnav >> text=Reports")
    page.locator("form.daily-form").wait_for()
    with app.app_context():
        today = plant_today().isoformat()
    page.fill("input[name=date]", today)
    page.select_option("select[name=lang]", "en")
    with page.expect_download() as download:
        page.click("form.daily-form button:has-text('CSV')")
    body = (tmp_path / "sheet.csv")
    download.value.save_as(body)
    text = body.read_text(encoding="utf-8-sig")
    assert "Output per work center" in text and "Worker" in text  # the owner gets the labour figures
    assert download.value.suggested_filename == f"daily-{today}.csv"
    context.close()
    assert violations == [], violations
