"""Journeys of the first wave as users walk them: the Back button on every htmx-swapped list,
messages that belong to the response that caused them."""
from __future__ import annotations

import datetime as dt

from tests.browser.test_routing_pages import PASSWORD, login, seed


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


def _owner_and_published_plan(app) -> int:  # type: ignore[no-untyped-def]
    from mes.admin import services as admin
    from mes.core.models import Role
    from mes.scheduling import services as scheduling

    with app.app_context():
        admin.create_user(admin.UserInput(username="owner", display_name="Wang Fang", roles=[Role.OWNER], password=PASSWORD))
        schedule_id = scheduling.start_run(time_limit=2, workers=1, wait=True)
        scheduling.publish(schedule_id, None)
    return schedule_id


def _login_as(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.locator("a.user").wait_for()  # logged in: the page shows who


def test_owner_reads_the_published_plan_without_running_or_publishing(live_server, page):
    base, app = live_server
    seed(app)
    schedule_id = _owner_and_published_plan(app)
    _login_as(page, base, "owner")
    page.locator("nav.mainnav a", has_text="Schedule").click()
    page.wait_for_url(f"{base}/schedule/")
    assert page.locator("#run-form").count() == 0
    page.locator(f"#versions a[href='/schedule/{schedule_id}']").click()
    page.locator(".tile", has_text="Operations planned").wait_for()
    assert page.locator("text=Publish to the shop floor").count() == 0
    assert page.locator("form[action*='/publish']").count() == 0
    token = page.evaluate("JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRFToken']")
    run = page.request.post(f"{base}/schedule/run", form={"time_limit": "2", "csrf_token": token})
    publish = page.request.post(f"{base}/schedule/{schedule_id}/publish", form={"version": "1", "csrf_token": token})
    assert run.status == 403 and publish.status == 403


def test_operation_editor_spans_the_table_without_console_errors(live_server, page):
    base, app = live_server
    ids = seed(app)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    login(page, base)
    for url, table in ((f"{base}/routings/{ids['draft']}", "#operations"), (f"{base}/orders/{ids['order']}", "#order table.grid")):
        page.goto(url)
        add = page.locator("button", has_text="Add operation") if "routings" in url else page.locator("button", has_text="Insert after").first
        add.click()
        editor = page.locator("tr.inline-editor")
        editor.wait_for()
        columns = page.locator(table).first.evaluate("t => Math.max(...[...t.tHead.rows[0].cells].map(c => c.cellIndex)) + 1")
        assert editor.locator("td").first.get_attribute("colspan") == str(columns)
        # The list of sequence numbers shows only when "these operations" is chosen.
        predecessors = editor.locator("input[name=predecessors]")
        editor.locator("select[name=follows_previous]").select_option("1")
        assert not predecessors.is_visible()
        editor.locator("select[name=follows_previous]").select_option("0")
        assert predecessors.is_visible()
        editor.locator("select[name=work_center_id]").select_option(str(ids["mill"]))
        page.locator("tr.inline-editor label", has_text="M-1").wait_for()
        # A table-row fragment carries the out-of-band messages area too: it replaces the one area.
        assert page.locator("#messages").count() == 1 and page.locator("tr #messages, table #messages").count() == 0
    assert errors == [], errors


MEASURE = """(els) => els.filter(e => e.offsetParent !== null && !e.closest('noscript'))
  .map(e => { const r = e.getBoundingClientRect();
              return {what: e.outerHTML.slice(0, 90), h: r.height, w: r.width}; })"""
CONTROLS = ("main button, main .button, main select, main textarea, "
            "main input:not([type=checkbox]):not([type=radio]):not([type=hidden]), header select, header button")


def _small_controls(page, minimum: float) -> list[dict]:  # type: ignore[no-untyped-def]
    return [c for c in page.eval_on_selector_all(CONTROLS, MEASURE) if c["h"] < minimum - 0.5]


def test_controls_are_big_enough_to_touch(live_server, page):
    base, app = live_server
    ids = seed(app)
    login(page, base)
    for path in ("/orders/", f"/orders/{ids['order']}", "/routings/", f"/routings/{ids['draft']}",
                 "/routings/setup-matrix", f"/machines/{ids['L-OLD']}", "/schedule/", "/machines/"):
        page.goto(base + path)
        page.locator("main").wait_for()
        assert _small_controls(page, 40) == [], path
    page.goto(f"{base}/orders/")
    status = page.locator("select[name=status]")
    assert status.evaluate("s => s.scrollWidth <= s.clientWidth") and status.bounding_box()["width"] >= 150
    page.goto(f"{base}/orders/{ids['order']}")
    assert page.locator("#change-reason").bounding_box()["width"] >= 300
    page.goto(f"{base}/routings/setup-matrix")
    cell = page.locator(".matrix-cell").first.bounding_box()
    assert cell["width"] >= 80 and cell["height"] >= 40
    assert page.locator("#default").bounding_box()["width"] <= 300


def test_floor_controls_are_big_enough_for_gloves(live_server, page):
    base, app = live_server
    seed(app)
    from mes.admin import services as admin
    from mes.core.models import Role

    with app.app_context():
        admin.create_user(admin.UserInput(username="worker", display_name="Zhao Lei", roles=[Role.WORKER], password=PASSWORD))
    _login_as(page, base, "worker")
    page.goto(f"{base}/floor/")
    page.locator("main").wait_for()
    assert page.locator("body.kiosk").count() == 1
    assert _small_controls(page, 48) == []


def test_audit_rows_are_readable_in_both_languages(live_server, page):
    base, app = live_server
    ids = seed(app)
    from mes.admin import services as admin
    from mes.core.models import Role
    from mes.orders import changes
    from mes.orders import queries

    with app.app_context():
        admin.create_user(admin.UserInput(username="owner", display_name="Wang Fang", roles=[Role.OWNER], password=PASSWORD))
        order = queries.get(ids["order"])
        changes.skip_operation(order.id, order.operations[1].id, order.version, "drawing revised")
        number = order.number
    _login_as(page, base, "owner")
    page.goto(f"{base}/orders/{ids['order']}")
    page.click("text=History of changes")
    rows = page.locator("#results tbody tr")
    rows.first.wait_for()
    text = page.locator("#results").inner_text()
    assert "work_order" not in text and "operation #" not in text and "product_id" not in text
    assert "Skipped" in text and "drawing revised" in text and f"{number} · 20 Mill" in text
    page.locator("#results a", has_text=number).first.click()
    page.wait_for_url(f"{base}/orders/{ids['order']}")
    page.select_option("select[name=locale]", "zh_CN")
    page.locator("html[lang=zh-CN]").wait_for(state="attached")
    page.goto(f"{base}/admin/audit?entity=work_order&entity_id={ids['order']}")
    zh = page.locator("#results").inner_text()
    for english in ("Skipped", "created", "changed", "Status", "Work order", "Nov", "Dec", "T0", "+00:00"):
        assert english not in zh, english
    assert "已跳过" in zh or "跳过" in zh
    page.select_option("select[name=user]", label="Li Na")
    page.wait_for_url("**user=**")
    assert "Wang Fang" not in page.locator("#results").inner_text()
