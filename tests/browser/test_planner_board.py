"""The planner board in Chromium (English and Chinese): make a draft of the published plan, drag
an operation to the other lathe, repair, compare, publish, and see the floor's list follow."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.browser.test_routing_pages import seed
from tests.conftest import PASSWORD


def _bar(page, order: str, seq: int):  # type: ignore[no-untyped-def]
    return page.locator(f'g.op[data-order-no="{order}"][data-seq="{seq}"]')


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_drag_repair_compare_publish_and_the_floor_follows(live_server, page, browser, language):
    from mes.admin import services as admin
    from mes.core.db import session
    from mes.core.models import Role
    from mes.orders import services as orders
    from mes.scheduling import services
    from mes.scheduling.models import ScheduledOperation, ScheduleStatus, ScheduleVersion
    from sqlalchemy import select

    base, app = live_server
    ids = seed(app)
    with app.app_context():
        order = orders.create(orders.WorkOrderInput(product_id=1, quantity=10, due_date=dt.date.today() + dt.timedelta(days=3),
                                                    number="WO-8"))
        orders.release(order, None)
        admin.create_user(admin.UserInput(username="wang", display_name="Wang Wei", roles=[Role.WORKER],
                                          employee_no="8001", badge="B-8001"))
        published = services.start_run(time_limit=1, workers=1, wait=True)
        services.publish(published, None)
        where = {r.operation.work_order.number + "/" + str(r.operation.seq): r.machine_id
                 for r in session().scalars(select(ScheduledOperation).where(ScheduledOperation.schedule_id == published))}
    lathes = {ids["L-OLD"]: "L-OLD", ids["L-NEW"]: "L-NEW"}
    target = next(m for m in lathes if m != where["WO-7/10"])

    page.goto(f"{base}/login")
    page.fill("#username", "planner")
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.locator("a.user").wait_for()
    if language == "zh_CN":
        page.request.post(f"{base}/locale", form={"locale": "zh_CN", "csrf_token": page.locator("body").get_attribute("hx-headers").split('"')[3]})
    page.goto(f"{base}/schedule/board?span=week")
    page.locator("svg.gantt").wait_for()
    assert page.locator("html").get_attribute("lang") == ("zh-CN" if language == "zh_CN" else "en")
    # Click: details and the route's other operations highlighted.
    _bar(page, "WO-7", 10).click()
    page.locator("#board-detail:not([hidden])").wait_for()
    assert page.locator("svg.gantt g.op.route").count() == 2
    page.click("#board .board-actions button.primary")  # make a draft to change by hand
    page.wait_for_url(re.compile(r"/schedule/board\?schedule=\d+"))
    page.locator("#move-form").wait_for(state="attached")

    # Drag WO-7/10 onto the other lathe's lane.
    bar = _bar(page, "WO-7", 10).locator("rect.bar").bounding_box()
    lane = page.locator(f'rect.lane[data-machine="{target}"]').bounding_box()
    page.mouse.move(bar["x"] + 3, bar["y"] + bar["height"] / 2)
    page.mouse.down()
    page.mouse.move(bar["x"] + 20, lane["y"] + lane["height"] / 2, steps=8)
    page.mouse.move(lane["x"] + 2, lane["y"] + lane["height"] / 2, steps=4)
    page.mouse.up()
    page.locator(f'g.op.pinned[data-order-no="WO-7"][data-seq="10"][data-machine="{target}"]').wait_for()
    draft = int(re.search(r"schedule=(\d+)", page.url).group(1))

    # Repair keeping the pin, then compare and publish.
    page.fill("#repair-form input[name=time_limit]", "2")
    page.click("#repair-form button[type=submit]")
    page.wait_for_url(re.compile(r"/schedule/\d+$"))
    repaired = int(page.url.rsplit("/", 1)[1])
    page.locator(f"a[href='/schedule/{repaired}/compare']").wait_for(timeout=30_000)
    page.click(f"a[href='/schedule/{repaired}/compare']")
    page.locator("#fig-late").wait_for()
    assert page.locator("#moved-ops").inner_text().count("WO-7") >= 1
    page.click("#publish")
    page.wait_for_url(re.compile(r"/schedule/board$"))
    with app.app_context():
        session().rollback()
        assert session().get(ScheduleVersion, repaired).status == ScheduleStatus.PUBLISHED
        assert session().get(ScheduleVersion, draft).status == ScheduleStatus.DRAFT
        plan = {r.operation.work_order.number + "/" + str(r.operation.seq): r for r in session().scalars(
            select(ScheduledOperation).where(ScheduledOperation.schedule_id == repaired))}
    assert plan["WO-7/10"].machine_id == target
    _bar(page, "WO-7", 10).wait_for()
    assert _bar(page, "WO-7", 10).get_attribute("data-machine") == str(target)

    # The floor's list shows the published machine, in the published order.
    floor = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 800}).new_page()
    floor.goto(f"{base}/floor/login")
    floor.fill("#badge-badge", "B-8001")
    floor.click("#badge-form button[type=submit]")
    floor.wait_for_url(f"{base}/floor/")
    floor.goto(f"{base}/floor/?machine={target}")
    card = floor.locator("a.opcard", has_text="WO-7 · 10")
    assert lathes[target] in card.inner_text()
    order_on_floor = [t for t in floor.locator("a.opcard").all_inner_texts()]
    planned = sorted((r for k, r in plan.items() if r.machine_id == target), key=lambda r: r.start_at)
    labels = [f"{r.operation.work_order.number} · {r.operation.seq}" for r in planned]
    positions = [next(i for i, t in enumerate(order_on_floor) if label in t) for label in labels]
    assert positions == sorted(positions)
    floor.context.close()


def test_move_with_the_keyboard_and_a_refusal_in_place(live_server, page):
    """The keyboard (and touch) way: select a bar, choose the machine and place in the form."""
    from mes.core.db import session
    from mes.scheduling import moves, services
    from mes.scheduling.models import ScheduledOperation
    from sqlalchemy import select

    base, app = live_server
    ids = seed(app)
    with app.app_context():
        published = services.start_run(time_limit=1, workers=1, wait=True)
        services.publish(published, None)
        draft = moves.copy_to_draft(published)
        where = {r.operation.seq: r.machine_id for r in session().scalars(
            select(ScheduledOperation).where(ScheduledOperation.schedule_id == draft))}
    target = ids["L-OLD"] if where[10] == ids["L-NEW"] else ids["L-NEW"]
    page.goto(f"{base}/login")
    page.fill("#username", "planner")
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.locator("a.user").wait_for()
    page.goto(f"{base}/schedule/board?schedule={draft}&span=week")
    _bar(page, "WO-7", 10).focus()
    page.keyboard.press("Enter")
    page.locator("#move-form select[name=machine_id]:focus").wait_for()
    # The mill cannot turn: it is not offered.
    assert page.locator(f'#move-form option[value="{ids["M-1"]}"]').is_disabled()
    page.select_option("#move-form select[name=machine_id]", str(target))
    page.fill("#move-form input[name=position]", "1")
    page.click("#move-form button[type=submit]")
    page.locator(f'g.op.pinned[data-order-no="WO-7"][data-seq="10"][data-machine="{target}"]').wait_for()
    # Pinning the mill step before its turning step can end is refused, in place.
    _bar(page, "WO-7", 20).click()
    with app.app_context():
        from mes.core.clock import plant_now

        soon = (plant_now() + dt.timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M")  # the form speaks plant time
    page.fill("#move-form input[name=start_at]", soon)
    page.click("#move-form button[type=submit]")
    page.locator("#messages .alert.error").wait_for()
    assert "WO-7/20" in page.locator("#messages").inner_text()
