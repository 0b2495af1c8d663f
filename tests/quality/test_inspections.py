"""Recording inspections on the terminal: what is due when, values judged against the limits,
a slipped decimal point asked again, replays counted once, and first-article gating of good
pieces with quality's alert."""
from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from mes.core.db import session
from mes.core.errors import InvalidTransition, ValidationError
from mes.orders.models import Operation
from mes.quality import inspections
from mes.quality.inspections import Implausible, ResultInput
from mes.quality.models import InspectionResult
from mes.shopfloor import services as floor


def key() -> str:
    return uuid.uuid4().hex


def due_names(op_id: int) -> list[tuple[str, str, int]]:
    session().rollback()
    _op, due, _blocking = inspections.due_on(op_id)
    return [(d.characteristic.name, d.frequency.value, d.sample_no) for d in due]


def chars(op: Operation) -> dict[str, int]:
    return {c.name: c.id for c in op.characteristics}


@pytest.fixture
def running(users, qplant, make_order):  # type: ignore[no-untyped-def]
    order = make_order(quantity=10)
    turn = order.operations[0]
    floor.start(users["worker"], key(), turn.id, "setup", qplant.new)
    return order, turn


def test_gating_due_checks_and_values(users, running):
    _order, turn = running
    w = users["worker"]
    c = chars(turn)
    assert due_names(turn.id) == [("Diameter", "first", 1)]
    # Gated: no good pieces before the first piece passes; scrap is fine.
    with pytest.raises(InvalidTransition, match="Diameter"):
        floor.report(w, key(), turn.id, 1, 0, None)
    # A failed first piece keeps the gate shut and is asked again.
    r = inspections.record(w, key(), turn.id, ResultInput(c["Diameter"], "first", 1, value="20.3"))
    assert r["passed"] is False
    assert due_names(turn.id) == [("Diameter", "first", 1)]
    with pytest.raises(InvalidTransition):
        floor.finish(w, key(), turn.id, 3, 0, None)
    # A 10x typo asks for confirmation and saves nothing.
    with pytest.raises(Implausible):
        inspections.record(w, key(), turn.id, ResultInput(c["Diameter"], "first", 1, value="200.2"))
    with pytest.raises(ValidationError):
        inspections.record(w, key(), turn.id, ResultInput(c["Diameter"], "first", 1, value="abc"))
    k = key()
    ok = inspections.record(w, k, turn.id, ResultInput(c["Diameter"], "first", 1, value="20,02"))
    assert ok["passed"] is True
    assert inspections.record(w, k, turn.id, ResultInput(c["Diameter"], "first", 1, value="20,02")) == ok  # replay
    assert session().scalar(select(func.count()).select_from(InspectionResult)) == 2
    floor.report(w, key(), turn.id, 4, 0, None)
    assert due_names(turn.id) == []
    floor.report(w, key(), turn.id, 2, 0, None)  # 6 pieces: the first "every 5" check is due
    assert due_names(turn.id) == [("Length", "every_n", 1)]
    with pytest.raises(InvalidTransition):  # not due
        inspections.record(w, key(), turn.id, ResultInput(c["Length"], "every_n", 2, value="50"))
    inspections.record(w, key(), turn.id, ResultInput(c["Length"], "every_n", 1, value="50.05"))
    floor.report(w, key(), turn.id, 4, 0, None)  # 10 of 10: every-5 #2 and the last piece
    assert due_names(turn.id) == [("Length", "every_n", 2), ("Surface", "last", 1)]
    with pytest.raises(ValidationError):  # a failed attribute needs its defect
        inspections.record(w, key(), turn.id, ResultInput(c["Surface"], "last", 1, passed=False))
    bad = inspections.record(w, key(), turn.id, ResultInput(c["Surface"], "last", 1, passed=False, defect="Burr"))
    assert bad["passed"] is False
    assert due_names(turn.id) == [("Length", "every_n", 2)]
    # A confirmed far-off value is kept, flagged as confirmed.
    inspections.record(w, key(), turn.id, ResultInput(c["Length"], "every_n", 2, value="5.02", confirmed=True))
    session().rollback()
    last = session().scalars(select(InspectionResult).order_by(InspectionResult.id.desc())).first()
    assert (last.value, last.passed, last.confirmed, last.pieces) == (Decimal("5.02"), False, True, 10)


def test_ungated_operation_reports_without_first_piece(users, plant, make_order):
    order = make_order(quantity=5)  # the plain routing: no plan, no gate
    turn = order.operations[0]
    floor.start(users["worker"], key(), turn.id, "run", plant.new)
    floor.report(users["worker"], key(), turn.id, 2, 0, None)


def test_card_panel_and_quality_alert(as_role, users, running):
    order, turn = running
    worker = as_role("worker")
    card = worker.get(f"/floor/operations/{turn.id}").get_data(as_text=True)
    assert f"/quality/floor/operations/{turn.id}/inspections" in card
    panel = worker.get(f"/quality/floor/operations/{turn.id}/inspections", headers={"HX-Request": "true"})
    html = panel.get_data(as_text=True)
    assert panel.status_code == 200 and "19.9" in html and "20.1" in html and "Micrometer" in html
    assert 'data-testid="first-article-block"' in html
    # Quality sees the alert; a worker may not open quality's pages.
    q = as_role("quality")
    alert = q.get("/quality/").get_data(as_text=True)
    title = alert[alert.index("<title>"):alert.index("</title>")]
    assert "<table" not in title and alert.count("Failed inspections") == 1
    assert order.number in alert and "Diameter" in alert
    assert worker.get("/quality/").status_code == 403
    c = chars(turn)
    form = {"characteristic_id": c["Diameter"], "frequency": "first", "sample_no": 1, "request_key": key()}
    typo = worker.post(f"/quality/floor/operations/{turn.id}/inspections", data={**form, "value": "201"},
                       headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'data-testid="confirm-value"' in typo
    assert session().scalar(select(func.count()).select_from(InspectionResult)) == 0
    saved = worker.post(f"/quality/floor/operations/{turn.id}/inspections", data={**form, "value": "20.01"},
                        headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'data-testid="inspection-result"' in saved and "first-article-block" not in saved
    assert order.number not in q.get("/quality/").get_data(as_text=True)
    # In Chinese too.
    zh = worker.get(f"/quality/floor/operations/{turn.id}/inspections", headers={"Accept-Language": "zh-CN"})
    assert zh.status_code == 200
