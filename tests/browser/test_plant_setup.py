"""A new plant set up by hand in a real browser, in English and in Chinese: the first-run page,
then a planner enters a calendar with a holiday, a work center, two machines, a family, a product
with a routing and an order, runs the scheduler and publishes the plan."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

PASSWORD = "correct-horse-1"
SHOTS = Path("/tmp/plant-shots")


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    if SHOTS.is_dir():
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def submit(page, form: str) -> None:  # type: ignore[no-untyped-def]
    page.locator(f"{form} button[type=submit]").first.click()


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_a_new_plant_reaches_its_first_published_plan(live_server, page, locale):
    base, app = live_server
    page.on("dialog", lambda dialog: dialog.accept())  # releasing a routing version asks first
    # The first run: nobody can log in yet.
    page.goto(f"{base}/login")
    page.locator(".first-run-note a.button").click()
    page.wait_for_url(f"{base}/setup")
    page.fill("#plant_name", "Ningbo Precision")
    page.select_option("#timezone", "Asia/Shanghai")
    page.select_option("#locale", locale)
    page.fill("#username", "admin")
    page.fill("#display_name", "Admin")
    page.fill("#password", PASSWORD)
    page.fill("#repeat", PASSWORD)
    shot(page, f"{locale}-01-setup")
    submit(page, "#first-run-form")
    page.wait_for_url(f"{base}/login?welcome=1")
    assert page.goto(f"{base}/setup").status == 404

    from mes.admin import services as admin
    from mes.core.models import Role

    with app.app_context():
        admin.create_user(admin.UserInput(username="planner", display_name="Li Na", roles=[Role.PLANNER],
                                          password=PASSWORD, locale=locale))
    page.goto(f"{base}/login")
    page.fill("#username", "planner")
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{base}/orders/")
    page.goto(f"{base}/")
    assert "Ningbo Precision" in page.inner_text("header")
    page.locator(".setup-steps").wait_for()
    shot(page, f"{locale}-02-start")

    # A shift calendar (Mon-Fri prefilled) with a bad shift first, then a holiday.
    page.goto(f"{base}/machines/calendars/new")
    page.fill("#code", "DAY")
    page.fill("#name", "Day shift")
    page.fill("#day-5", "17:00-08:00")
    submit(page, "#calendar-form")
    page.locator("#calendar-form .has-error small.error").wait_for()
    shot(page, f"{locale}-03-calendar-error")
    page.fill("#day-5", "")
    submit(page, "#calendar-form")
    page.locator("#exception-form").wait_for()
    holiday = dt.date(dt.date.today().year + 1, 1, 1)
    page.fill("#day", holiday.isoformat())
    page.fill("#exception-note", "New Year")
    submit(page, "#exception-form")
    page.locator("#calendar-exceptions td", has_text="New Year").wait_for()
    shot(page, f"{locale}-04-calendar")

    # A work center on that calendar and two machines in it.
    page.goto(f"{base}/machines/centers/new")
    page.fill("#code", "TURN")
    page.fill("#name", "Turning")
    page.select_option("#calendar_id", index=1)
    page.fill("#default_changeover_minutes", "20")
    submit(page, "#record-form")
    page.wait_for_url(f"{base}/machines/centers/")
    for code, name in (("L01", "Lathe 1"), ("L02", "Lathe 2")):
        page.goto(f"{base}/machines/new")
        page.fill("#code", code)
        page.fill("#name", name)
        page.select_option("#work_center_id", index=1)
        submit(page, "#record-form")
        page.locator("h1", has_text=code).wait_for()
    page.goto(f"{base}/machines/")
    shot(page, f"{locale}-05-machines")
    assert page.locator("table.grid tbody tr").count() == 2

    # A family, a product and its routing.
    page.goto(f"{base}/routings/families/new")
    page.fill("#code", "SH")
    page.fill("#name", "Shafts")
    submit(page, "#record-form")
    page.wait_for_url(f"{base}/routings/families/")
    page.goto(f"{base}/routings/products/new")
    page.fill("#code", "SH-1")
    page.fill("#name", "Shaft")
    page.select_option("#family_id", index=0)
    submit(page, "#product-form")
    page.locator("h1", has_text="SH-1").wait_for()
    page.locator(".titlebar form button[type=submit]").click()
    page.locator("#new-operation button").click()
    form = page.locator("#new-operation form")
    form.locator("input[name=name]").fill("Turn")
    form.locator("select[name=work_center_id]").select_option(index=1)
    page.wait_for_timeout(300)
    form = page.locator("#new-operation form")
    form.locator("input[name=name]").fill("Turn")
    form.locator("input[name=run_minutes]").fill("2")
    form.locator("button[type=submit]").click()
    page.locator("#operations td", has_text="Turn").wait_for()
    page.locator("#new-operation button").wait_for()  # the editor is redrawn
    page.wait_for_timeout(500)
    page.click("#release-form button[type=submit]")
    page.locator("h1 .badge.status-released").wait_for()

    # An order, released.
    page.goto(f"{base}/orders/new")
    page.select_option("#product_id", index=0)
    page.fill("#quantity", "25")
    page.fill("#due_date", (dt.date.today() + dt.timedelta(days=10)).isoformat())
    submit(page, "#order-form")
    page.locator("h1", has_text="WO").wait_for()
    page.locator("#order-actions form:has(input[name=action][value=release]) button").click()
    page.locator("h1 .badge.status-released").wait_for()

    # Run and publish.
    page.goto(f"{base}/schedule/")
    page.fill("#run-form input[name=time_limit]", "3")
    submit(page, "#run-form")
    page.locator("#schedule form[action$='/publish'] button").wait_for(timeout=30_000)
    page.locator("#schedule form[action$='/publish'] button").click()
    page.locator("#schedule h1 .badge.status-published").wait_for()
    shot(page, f"{locale}-06-published")
