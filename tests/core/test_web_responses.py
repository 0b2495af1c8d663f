"""One URL, two representations: a history restore (the Back button) gets the whole page; every
htmx swap redraws the messages area with its own messages only."""
from __future__ import annotations

import re

from mes.core.db import session
from mes.orders.models import WorkOrder

HX = {"HX-Request": "true"}
RESTORE = {"HX-Request": "true", "HX-History-Restore-Request": "true"}


def test_history_restore_of_every_pushed_list_gets_the_full_page(as_role, plant, make_order):
    make_order()
    client = as_role("planner")
    for url in ("/orders/?page=1&q=WO", "/routings/?q=P", f"/routings/setup-matrix?work_center_id={plant.mill}"):
        fragment = client.get(url, headers=HX).get_data(as_text=True)
        assert "<header" not in fragment, url
        full = client.get(url, headers=RESTORE)
        html = full.get_data(as_text=True)
        assert full.status_code == 200 and "<header" in html and 'class="mainnav"' in html and "<form" in html, url
        assert "HX-History-Restore-Request" in full.headers["Vary"]
    audit = as_role("admin").get("/admin/audit?page=1", headers=RESTORE).get_data(as_text=True)
    assert 'class="mainnav"' in audit


def _messages(html: str) -> str:
    found = re.search(r'<div id="messages"[^>]*hx-swap-oob="true"[^>]*>(.*?)</div>\s*$', html, re.S)
    assert found, "no out-of-band messages area in the htmx response"
    return found.group(1)


def test_refused_change_then_success_clears_the_error_and_confirms(as_role, make_order):
    order = make_order()
    op = order.operations[0]
    client = as_role("planner")
    refused = client.post(f"/orders/{order.id}/operations/{op.id}/skip", data={"version": order.version}, headers=HX)
    assert refused.status_code == 422 and refused.headers["HX-Retarget"] == "#messages"
    assert "Give a reason" in refused.get_data(as_text=True)
    ok = client.post(f"/orders/{order.id}/operations/{op.id}/skip",
                     data={"version": order.version, "reason": "not needed"}, headers=HX)
    assert ok.status_code == 200
    messages = _messages(ok.get_data(as_text=True))
    assert "Give a reason" not in messages and "Change saved." in messages


def test_machine_status_change_confirms(as_role, plant):
    client = as_role("planner")
    r = client.post(f"/machines/{plant.old}/status", data={"status": "down"}, headers=HX)
    assert r.status_code == 200
    assert "L-OLD" in _messages(r.get_data(as_text=True))


def test_polls_leave_messages_alone_and_plain_pages_show_them_once(as_role, make_order):
    order = make_order()
    client = as_role("planner")
    poll = client.get("/schedule/", headers={**HX, "X-MES-Poll": "1"}).get_data(as_text=True)
    assert 'id="messages"' not in poll
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert page.count('id="messages"') == 1
    session().rollback()
    assert session().get(WorkOrder, order.id) is not None
