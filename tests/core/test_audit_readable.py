"""The audit log reads as people speak: record types, fields and actions in the reader's language,
values as names, a link to the record, filters by who, what and when, an order's whole history,
and the events that are no column change (runs, publishing, terminals) recorded too."""
from __future__ import annotations

import datetime as dt
import re

from mes.admin import services as admin
from mes.core import audit
from mes.core.db import session, transaction
from mes.core.models import AuditEntry
from mes.machines import services as machines
from mes.machines.models import MachineStatus
from mes.orders import changes
from mes.routing import services as routing
from mes.scheduling import services as scheduling
from sqlalchemy import select


def _text(html: str) -> str:
    body = html.split('<div id="results">', 1)[1]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def test_rows_show_names_labels_and_links(as_role, plant, make_order):
    order = make_order()
    client = as_role("owner")
    html = client.get(f"/admin/audit?entity=work_order&entity_id={order.id}").get_data(as_text=True)
    text = _text(html)
    assert "work_order" not in text and "product_id" not in text
    assert "Work order" in text and order.number in text and "P-1" in text and "Released" in text
    assert f'href="/orders/{order.id}"' in html
    zh = as_role("admin")
    zh.post("/locale", data={"locale": "zh_CN"})
    ztext = _text(zh.get(f"/admin/audit?entity=work_order&entity_id={order.id}").get_data(as_text=True))
    assert "工单" in ztext and "已下达" in ztext or "下达" in ztext
    for english in ("created", "changed", "Work order", "Status", "Product", "released"):
        assert english not in ztext, english


def test_order_history_includes_its_operations_and_their_machines(as_role, plant, make_order):
    order = make_order()
    op = order.operations[0]
    changes.skip_operation(order.id, op.id, order.version, "customer dropped it")
    from mes.orders.models import OperationMachine

    om_id = session().scalar(select(OperationMachine.id).where(OperationMachine.operation_id == order.operations[0].id))
    text = _text(as_role("owner").get(f"/admin/audit?entity=work_order&entity_id={order.id}").get_data(as_text=True))
    assert "customer dropped it" in text and "Skipped" in text
    assert f"{order.number} · {op.seq} {op.name}" in text
    if om_id:
        assert "Eligible machine of an operation" in text


def test_filters_by_user_record_type_and_date(as_role, users, plant, make_order):
    make_order()
    client = as_role("owner")
    everything = client.get("/admin/audit").get_data(as_text=True)
    assert "Work order" in _text(everything)
    other = client.get(f"/admin/audit?user={users['worker']}").get_data(as_text=True)
    assert "WO-" not in _text(other)
    tomorrow = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    assert "WO-" not in _text(client.get(f"/admin/audit?date_from={tomorrow}").get_data(as_text=True))
    assert "WO-" in _text(client.get(f"/admin/audit?date_to={tomorrow}&entity=work_order").get_data(as_text=True))
    only_routings = _text(client.get("/admin/audit?entity=routing").get_data(as_text=True))
    assert "WO-" not in only_routings and "P-1 v1" in only_routings
    assert client.get("/admin/audit?date_from=soon").status_code == 422


def test_missing_events_are_recorded(app, users, plant, make_order):
    make_order()
    machines.set_status(plant.old, MachineStatus.DOWN)
    machines.record_downtime(plant.new, dt.datetime.now(dt.UTC), None, "breakdown", "spindle")
    routing.set_changeovers(plant.turn, {(plant.fa, plant.fb): 30}, 5)
    schedule_id = scheduling.start_run(time_limit=1, workers=1, wait=True)
    scheduling.publish(schedule_id, None)
    kiosk = admin.enroll_kiosk("Tablet 1", plant.turn, users["admin"])
    del kiosk
    from mes.core.models import KioskDevice

    admin.revoke_kiosk(session().scalar(select(KioskDevice.id)))
    session().rollback()
    seen = {(e.entity, e.action) for e in session().scalars(select(AuditEntry))}
    for expected in [("machine", "update"), ("machine_downtime", "create"), ("setup_matrix_entry", "create"),
                     ("work_center", "update"), ("schedule_version", "run"), ("schedule_version", "publish"),
                     ("kiosk_device", "enrol"), ("kiosk_device", "revoke")]:
        assert expected in seen, expected


def test_import_reason_is_read_in_the_readers_language(as_role, make_order):
    make_order()
    with audit.reason(audit.keyed_reason("imported_from", file="orders.csv")), transaction() as s:
        audit.record(s, "work_order", 1, "update", "note", None, "x")
    en = _text(as_role("owner").get("/admin/audit").get_data(as_text=True))
    assert "Imported from orders.csv." in en
    zh = as_role("admin")
    zh.post("/locale", data={"locale": "zh_CN"})
    ztext = _text(zh.get("/admin/audit").get_data(as_text=True))
    assert "orders.csv" in ztext and "Imported from" not in ztext
