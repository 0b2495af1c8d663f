"""Under the Content-Security-Policy (no inline script or style, no eval) the pages still work:
the language menu, htmx swaps, the schedule and machine pages. The page fixture fails a test on
any CSP violation the browser reports."""
from __future__ import annotations

from tests.browser.test_routing_pages import login, seed


def test_pages_work_under_the_content_security_policy(live_server, page):
    base, app = live_server
    ids = seed(app)
    login(page, base)
    for path in ("/orders/", f"/orders/{ids['order']}", "/routings/", "/routings/setup-matrix", "/machines/",
                 f"/machines/{ids['L-OLD']}", "/schedule/", "/account"):
        page.goto(base + path)
        page.locator("main").wait_for()
    page.goto(f"{base}/orders/")
    page.select_option("select[name=locale]", "zh_CN")
    page.locator("html[lang=zh-CN]").wait_for(state="attached")
