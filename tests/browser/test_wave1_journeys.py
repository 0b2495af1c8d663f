"""Journeys of the first wave as users walk them: the Back button on every htmx-swapped list,
messages that belong to the response that caused them."""
from __future__ import annotations

import datetime as dt

from tests.browser.test_routing_pages import login, seed


def _orders(app, n: int) -> None:  # type: ignore[no-untyped-def]
    from mes.orders import services as orders

    with app.app_context():
        for i in range(n):
            orders.create(orders.WorkOrderInput(product_id=1, quantity=1 + i,
                                                due_date=dt.date.today() + dt.timedelta(days=10), number=f"B-{i:03d}"))


def _back_shows_the_whole_page(page, heading: str) -> None:  # type: ignore[no-untyped-def]
    page.go_back()
    page.locator("header.topbar nav.mainnav").wait_for()
    page.locator("form.filters").first.wait_for()
    page.locator("h1", has_text=heading).first.wait_for()


def test_back_button_restores_whole_list_pages(live_server, page):
    base, app = live_server
    ids = seed(app)
    _orders(app, 52)
    login(page, base)

    page.goto(f"{base}/orders/?q=B-")
    page.locator("#results a", has_text="Next").click()
    page.wait_for_url("**page=2**")
    page.locator("#results td", has_text="B-0").first.wait_for()
    _back_shows_the_whole_page(page, "Work orders")

    page.goto(f"{base}/routings/")
    page.fill("input[name=q]", "P-1")
    page.wait_for_url("**q=P-1**")
    _back_shows_the_whole_page(page, "Products and routings")

    page.goto(f"{base}/routings/setup-matrix")
    page.select_option("select[name=work_center_id]", str(ids["mill"]))
    page.wait_for_url(f"**work_center_id={ids['mill']}**")
    _back_shows_the_whole_page(page, "Setup matrix")


def test_an_error_does_not_outlive_a_later_success(live_server, page):
    base, app = live_server
    ids = seed(app)
    login(page, base)
    page.goto(f"{base}/orders/{ids['order']}")
    page.locator("#order form button", has_text="Skip").first.click()
    page.locator("#messages .alert.error", has_text="Give a reason").wait_for()
    page.fill("#change-reason", "customer dropped it")
    page.locator("#order form button", has_text="Skip").first.click()
    page.locator("#messages .alert.notice", has_text="Change saved.").wait_for()
    assert page.locator("#messages .alert.error").count() == 0

    page.goto(f"{base}/machines/{ids['L-OLD']}")
    page.select_option("#machine-state select[name=status]", "down")
    page.locator("#machine-state form button", has_text="Save").first.click()
    page.locator("#messages .alert.notice", has_text="L-OLD").wait_for()
