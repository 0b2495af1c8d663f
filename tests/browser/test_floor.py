"""The shop-floor terminal in Chromium, in Chinese and in English: badge login, start, report on
the keypad, pause with a reason, resume, a report made offline kept and sent once when the
connection returns, finish."""
from __future__ import annotations

import os

import pytest
from sqlalchemy import func, select

from tests.browser.test_routing_pages import seed


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    folder = os.environ.get("MES_SCREENSHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=True)


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_worker_runs_an_operation_on_the_tablet(live_server, browser, language):
    from mes.admin import services as admin
    from mes.core.db import session
    from mes.core.models import Role
    from mes.orders.models import Operation, ProductionReport

    base, app = live_server
    seed(app)
    with app.app_context():
        admin.create_user(admin.UserInput(username="wang", display_name="Wang Wei", roles=[Role.WORKER],
                                          employee_no="8001", badge="B-8001"))
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)

    page.goto(f"{base}/floor/login")
    page.fill("#badge-badge", "B-8001")
    page.click("#badge-form button[type=submit]")
    page.wait_for_url(f"{base}/floor/")
    page.locator("html[lang=zh-CN]").wait_for(state="attached")  # Chinese by default on the floor
    if language == "en":
        page.click(".floor-lang")
        page.locator("html[lang=en]").wait_for(state="attached")
    assert "Wang Wei" in page.locator(".floorbar").inner_text()
    _shot(page, f"{language}-dispatch")

    page.locator("a.opcard", has_text="WO-7 · 10").click()
    page.locator("#floor-card").wait_for()
    page.click("#floor-card button[name=phase][value=run]")
    page.locator("#floor-card .badge.phase").wait_for()
    page.locator(".floorbar .chip", has_text="WO-7 / 10").wait_for()  # the running operations, swapped in

    # Report 5 good pieces on the keypad.
    page.click("[data-testid=good-input]")
    page.click(".keypad button[data-key='5']")
    page.click("form.quantities .floor-actions button.primary")
    page.locator("[data-testid=qty-good]", has_text="5").wait_for()
    _shot(page, f"{language}-card")

    # Every target on the card is at least 48 px high, in landscape and in portrait.
    for viewport in ({"width": 1280, "height": 800}, {"width": 800, "height": 1280}):
        page.set_viewport_size(viewport)
        small = page.evaluate("""() => Array.from(document.querySelectorAll(
            'main button, main a, main select, main input:not([type=hidden]):not([type=radio]), main .choice'))
            .filter(el => el.offsetParent !== null && el.getBoundingClientRect().height < 47.5)
            .map(el => el.outerHTML.slice(0, 80))""")
        assert small == [], small
    _shot(page, f"{language}-portrait")
    page.set_viewport_size({"width": 1280, "height": 800})

    # A kiosk left open over lunch: the page's CSRF token is stale, and the first tap still works.
    page.evaluate("""() => {
        document.body.setAttribute('hx-headers', JSON.stringify({'X-CSRFToken': 'stale'}));
        document.querySelectorAll('input[name=csrf_token]').forEach(el => el.value = 'stale');
    }""")
    # Pause with a reason, then resume.
    page.locator("form[action$='/pause'] .choice").first.click()
    page.click("form[action$='/pause'] button[type=submit]")
    page.locator("#floor-card .status-paused").wait_for()
    page.click("form[action$='/resume'] button[type=submit]")
    page.locator("#floor-card .status-in_progress").wait_for()

    # Offline: the page says so, keeps the report, and sends it once when the connection returns.
    context.set_offline(True)
    page.locator("#offline-banner").wait_for(state="visible")
    page.fill("[data-testid=good-input]", "3")
    page.click("form.quantities .floor-actions button.primary")
    page.locator("#floor-queue li").first.wait_for()
    assert page.locator("#floor-queue li").count() == 1
    _shot(page, f"{language}-offline")
    context.set_offline(False)
    page.locator("#offline-banner").wait_for(state="hidden")
    page.locator("#floor-queue").wait_for(state="hidden")
    page.locator("[data-testid=qty-good]", has_text="8").wait_for()
    with app.app_context():
        assert session().scalar(select(func.count()).select_from(ProductionReport)) == 2

    # Finish with the last 12.
    page.fill("[data-testid=good-input]", "12")
    page.click("form.quantities .floor-actions button:not(.primary)")
    page.locator("#floor-card .status-done").wait_for()
    with app.app_context():
        op = session().scalars(select(Operation).order_by(Operation.id)).first()
        assert (op.qty_good, op.status.value) == (20, "done")
    assert page.locator("#messages .alert.error").count() == 0
    _shot(page, f"{language}-done")
    context.close()
    assert violations == [], violations
