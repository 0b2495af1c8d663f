"""A page left open until its CSRF token is no longer valid recovers on the first tap."""
from __future__ import annotations

from tests.browser.test_routing_pages import login, seed


def test_stale_csrf_token_is_replaced_and_the_tap_goes_through(live_server, page):
    base, app = live_server
    ids = seed(app)
    login(page, base)
    page.goto(f"{base}/orders/{ids['order']}")
    # As if the session that issued the page's token had ended (e.g. a kiosk over lunch).
    page.evaluate("""() => {
        document.body.setAttribute('hx-headers', JSON.stringify({'X-CSRFToken': 'stale'}));
        document.querySelectorAll('input[name=csrf_token]').forEach(el => el.value = 'stale');
    }""")
    page.fill("#status-reason", "waiting for material")
    page.locator("#order-actions button", has_text="Put on hold").click()
    page.locator("h1 .badge", has_text="On hold").wait_for()
    assert page.locator("#messages .alert.error").count() == 0  # only the confirmation of the change
