"""The terminal's inspection in Chromium: the first piece holds back good pieces until it is
measured on the keypad and passes; a slipped decimal point is asked again; then pieces are
reported. No CSP violation on the way."""
from __future__ import annotations

from decimal import Decimal

import pytest

from tests.browser.test_routing_pages import seed


def _gated_order(app):  # type: ignore[no-untyped-def]
    import datetime as dt

    from mes.admin import services as admin
    from mes.core.db import session
    from mes.core.models import Role
    from mes.operations import services as operations
    from mes.operations.inspection import CharacteristicInput
    from mes.orders import services as orders
    from mes.routing import services as routing
    from mes.routing.models import Routing

    ids = seed(app)
    with app.app_context():
        admin.create_user(admin.UserInput(username="wang", display_name="Wang Wei", roles=[Role.WORKER],
                                          employee_no="8001", badge="B-8001"))
        r = session().get(Routing, ids["draft"])
        turn = r.operations[0]
        data = operations.input_from(turn)
        data.inspection_required = True
        routing.update_operation(r.id, turn.id, None, data)
        routing.add_characteristic(r.id, turn.id, None, CharacteristicInput(
            name="Diameter", nominal=Decimal(20), lower_limit=Decimal("19.9"), upper_limit=Decimal("20.1"), unit="mm",
            gauge="Micrometer"))
        routing.release(r.id, None)
        order = orders.create(orders.WorkOrderInput(product_id=1, quantity=10, number="WO-8",
                                                    due_date=dt.date.today() + dt.timedelta(days=5)))
        orders.release(order, None)


def _type(page, text: str) -> None:  # type: ignore[no-untyped-def]
    form = page.locator("#inspection-panel form.inspection").first
    for ch in text:
        form.locator(f".keypad button[data-key='{ch}']").click()


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_first_piece_measured_on_the_tablet(live_server, browser, language):
    from sqlalchemy import select

    from mes.core.db import session
    from mes.quality.models import InspectionResult

    base, app = live_server
    _gated_order(app)
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.goto(f"{base}/floor/login")
    page.fill("#badge-badge", "B-8001")
    page.click("#badge-form button[type=submit]")
    page.wait_for_url(f"{base}/floor/")
    if language == "en":
        page.click(".floor-lang")
        page.locator("html[lang=en]").wait_for(state="attached")
    page.locator("a.opcard", has_text="WO-8 · 10").click()
    page.locator("#floor-card").wait_for()
    page.click("#floor-card button[name=phase][value=run]")
    page.locator("[data-testid=first-article-block]").wait_for()
    assert "19.9" in page.locator("#inspection-panel").inner_text()

    # Good pieces are refused while the first piece is missing.
    page.click("[data-testid=good-input]")
    page.click("form.quantities .keypad button[data-key='3']")
    page.click("form.quantities .floor-actions button.primary")
    page.locator("#messages .error, #messages .alert").first.wait_for()
    assert page.locator("[data-testid=qty-good]").inner_text() == "0"

    # A slipped decimal point: 2002 is asked again and not saved; then 20.02 passes.
    _type(page, "2002")
    page.locator("#inspection-panel form.inspection button[type=submit]").click()
    page.locator("[data-testid=confirm-value]").wait_for()
    page.locator("[data-testid=confirm-value] button[type=button]").click()
    page.locator("#inspection-panel form.inspection").wait_for()
    _type(page, "20.02")
    page.locator("#inspection-panel form.inspection button[type=submit]").click()
    page.locator("[data-testid=inspection-result]").wait_for()
    assert page.locator("[data-testid=first-article-block]").count() == 0
    with app.app_context():
        rows = session().scalars(select(InspectionResult)).all()
        assert [(r.value, r.passed) for r in rows] == [(Decimal("20.02"), True)]

    page.click("[data-testid=good-input]")
    page.click("form.quantities .keypad button[data-key='clear']")  # the refused 3 is still typed
    page.click("form.quantities .keypad button[data-key='4']")
    page.click("form.quantities .floor-actions button.primary")
    page.locator("[data-testid=qty-good]", has_text="4").wait_for()
    assert violations == []
    context.close()
