"""A planner edits a draft routing inline and changes a released order's remaining operations,
in a real browser over htmx."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

PASSWORD = "correct-horse-1"


def seed(app):  # type: ignore[no-untyped-def]
    """A plant like the `plant` fixture, a planner, a draft routing copy and a released order."""
    from mes.admin import services as admin
    from mes.core.db import transaction
    from mes.core.models import Role
    from mes.machines.models import Machine, WorkCenter
    from mes.orders import services as orders
    from mes.routing import services as routing
    from mes.routing.models import Product, ProductFamily
    from mes.operations.rules import MachineTime, OperationInput

    with app.app_context():
        admin.create_user(admin.UserInput(username="planner", display_name="Li Na", roles=[Role.PLANNER], password=PASSWORD))
        with transaction() as s:
            turn, mill = WorkCenter(code="TURN", name="Turning"), WorkCenter(code="MILL", name="Milling")
            s.add_all([turn, mill])
            s.flush()
            s.add_all([Machine(code="L-OLD", name="Old lathe", work_center_id=turn.id),
                       Machine(code="L-NEW", name="New lathe", work_center_id=turn.id),
                       Machine(code="M-1", name="Mill", work_center_id=mill.id)])
            family = ProductFamily(code="FA", name="Shafts")
            s.add(family)
            s.flush()
            s.add(Product(code="P-1", name="Shaft", family_id=family.id))
            s.flush()
            ids = {m.code: m.id for m in s.scalars(select(Machine))} | {"turn": turn.id, "mill": mill.id}
        product_id = 1
        rid = routing.create_version(product_id)
        routing.add_operation(rid, None, OperationInput(name="Turn", work_center_id=ids["turn"], machines=[
            MachineTime(ids["L-OLD"], Decimal(30), Decimal(4)), MachineTime(ids["L-NEW"], Decimal(15), Decimal(2))]))
        routing.add_operation(rid, None, OperationInput(name="Mill", work_center_id=ids["mill"], run_minutes=Decimal(3)))
        routing.release(rid, None)
        draft = routing.create_version(product_id)
        order = orders.create(orders.WorkOrderInput(product_id=product_id, quantity=20,
                                                    due_date=dt.date.today() + dt.timedelta(days=5), number="WO-7"))
        orders.release(order, None)
    return {"draft": draft, "order": order, **ids}


def login(page, base: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/login")
    page.fill("#username", "planner")
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{base}/orders/")


def test_edit_a_draft_routing_inline(live_server, page):
    base, app = live_server
    ids = seed(app)
    login(page, base)
    page.goto(f"{base}/routings/{ids['draft']}")
    # Add an operation with a validation error first: the error shows beside the field, nothing saved.
    page.click("text=+ Add operation")
    form = page.locator("#new-operation form")
    form.locator("input[name=name]").fill("Deburr")
    form.locator("select[name=work_center_id]").select_option(str(ids["turn"]))
    page.wait_for_timeout(300)  # the machine rows follow the work center
    form = page.locator("#new-operation form")
    form.locator("input[name=name]").fill("Deburr")
    form.locator(f"input[name='machine-{ids['L-NEW']}-on']").check()
    form.locator(f"input[name='machine-{ids['L-NEW']}-setup_minutes']").fill("5")
    form.locator(f"input[name='machine-{ids['L-NEW']}-run_minutes']").fill("-2")
    form.locator("button[type=submit]").click()
    page.locator("small.error", has_text="Times cannot be negative.").wait_for()
    page.locator(f"input[name='machine-{ids['L-NEW']}-run_minutes']").fill("0.5")
    page.locator("#new-operation button[type=submit]").click()
    page.locator("#operations td", has_text="Deburr").wait_for()
    rows = page.locator("#operations tbody tr[id^=op-]")
    assert rows.count() == 3
    # Move it before milling, then remove the old lathe from turning.
    page.locator("#operations tr", has_text="Deburr").locator("button[title='Move up']").click()
    # Locators, not wait_for_function: its string would be eval'd, which the page's CSP forbids.
    page.locator("#operations tbody tr[id^=op-]").nth(1).filter(has_text="Deburr").wait_for()
    page.locator("#operations tr", has_text="Turn").first.locator("button", has_text="Edit").click()
    page.locator(f"input[name='machine-{ids['L-OLD']}-on']").uncheck()
    page.locator("form.op-form button[type=submit]").click()
    page.locator("form.op-form").wait_for(state="detached")
    turn_row = page.locator("#operations tr", has_text="Turn").first.inner_text()
    assert "L-NEW" in turn_row and "L-OLD" not in turn_row
    # Release: the page asks first, naming the version in force it replaces; then the version is
    # in force and no longer editable.
    asked: list[str] = []
    page.once("dialog", lambda d: (asked.append(d.message), d.accept()))
    page.click("#release-form button[type=submit]")
    page.locator("h1 .badge", has_text="Released").wait_for()
    assert page.locator("text=+ Add operation").count() == 0
    assert asked and "Version 1" in asked[0] and "obsolete" in asked[0]

    from mes.core.db import get_db
    from mes.routing.models import Routing

    with app.app_context(), get_db().read_session() as s:
        routing = s.get(Routing, ids["draft"])
        assert [op.name for op in routing.operations] == ["Turn", "Deburr", "Mill"]
        assert [m.machine_id for m in routing.operations[0].machines] == [ids["L-NEW"]]


def test_change_the_remaining_operations_of_a_released_order(live_server, page):
    base, app = live_server
    ids = seed(app)
    login(page, base)
    page.goto(f"{base}/orders/{ids['order']}")
    # Without a reason the change is refused with a message and nothing changes.
    page.locator("#op-2 button", has_text="Skip").click()
    page.locator("#messages .alert", has_text="Give a reason").wait_for()
    page.fill("#change-reason", "customer mills it")
    page.locator("#operations tr", has_text="Mill").locator("button", has_text="Skip").click()
    page.locator("#operations tr.skipped", has_text="Mill").wait_for()
    # Insert a rework step after turning.
    page.locator("#operations tr", has_text="Turn").locator("button", has_text="Insert after").click()
    form = page.locator("#new-operation form")
    form.locator("input[name=name]").fill("Rework")
    form.locator("select[name=work_center_id]").select_option(str(ids["turn"]))
    page.wait_for_timeout(300)
    form = page.locator("#new-operation form")
    form.locator("input[name=name]").fill("Rework")
    form.locator("input[name=run_minutes]").fill("2")
    form.locator("input[name=reason]").fill("burrs found at inspection")
    form.locator("button[type=submit]").click()
    page.locator("#operations td", has_text="Rework").wait_for()
    seqs = page.locator("#operations tbody tr td:first-child").all_inner_texts()
    assert seqs == ["10", "15", "20"]

    from mes.core.db import get_db
    from mes.core.models import AuditEntry
    from mes.orders.models import WorkOrder

    with app.app_context(), get_db().read_session() as s:
        order = s.get(WorkOrder, ids["order"])
        assert [(op.seq, op.name, op.status.value) for op in order.operations] == [
            (10, "Turn", "pending"), (15, "Rework", "pending"), (20, "Mill", "skipped")]
        reasons = set(s.scalars(select(AuditEntry.reason).where(AuditEntry.entity == "operation")))
        assert {"customer mills it", "burrs found at inspection"} <= reasons
