"""Nonconformance reports: raised from a failed inspection, from scrap and by hand, with a photo
checked by its content; each disposition by quality staff only; rework joins the order's route
and the scheduler's problem."""
from __future__ import annotations

import datetime as dt
import io
import uuid

import pytest
from PIL import Image
from sqlalchemy import select

from mes.core.db import session
from mes.core.errors import InvalidTransition, ValidationError
from mes.core.models import AuditEntry
from mes.machines.models import Reason, ReasonKind
from mes.orders.models import Operation, WorkOrder
from mes.quality import inspections, services
from mes.quality.inspections import ResultInput
from mes.quality.models import Disposition, NcrSource, NcrStatus, Nonconformance
from mes.scheduling.services import build_problem, op_key
from mes.shopfloor import services as floor


def key() -> str:
    return uuid.uuid4().hex


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 20, 20)).save(buf, "PNG")
    return buf.getvalue()


def fresh(model, id_):  # type: ignore[no-untyped-def]
    session().rollback()
    return session().get(model, id_)


@pytest.fixture
def failed(users, qplant, make_order):  # type: ignore[no-untyped-def]
    """A running gated turning operation whose first piece failed."""
    order = make_order(quantity=10)
    turn = order.operations[0]
    floor.start(users["worker"], key(), turn.id, "run", qplant.new)
    dia = turn.characteristics[0].id
    r = inspections.record(users["worker"], key(), turn.id, ResultInput(dia, "first", 1, value="20.4"))
    return order, turn, r["result_id"]


def test_raise_from_inspection_scrap_and_by_hand(users, failed):
    order, turn, result_id = failed
    q = users["quality"]
    ncr_id = services.raise_ncr(q, services.NcrInput(inspection_result_id=result_id, quantity=1, photo=png()))
    row = fresh(Nonconformance, ncr_id)
    assert (row.source, row.work_order_id, row.operation_id, row.defect, row.status, row.photo_type) == \
        (NcrSource.INSPECTION, order.id, turn.id, "Diameter", NcrStatus.OPEN, "image/png")
    # Scrap: the scrap reason is the defect; no more pieces than were scrapped.
    scrap_reason = session().scalar(select(Reason.id).where(Reason.kind == ReasonKind.SCRAP))
    rep = floor.report(users["worker"], key(), turn.id, 0, 2, scrap_reason)["report_id"]
    with pytest.raises(ValidationError):
        services.raise_ncr(q, services.NcrInput(production_report_id=rep, quantity=3))
    scrap_id = services.raise_ncr(q, services.NcrInput(production_report_id=rep, quantity=2))
    assert fresh(Nonconformance, scrap_id).source == NcrSource.SCRAP
    hand = services.raise_ncr(q, services.NcrInput(work_order_id=order.id, quantity=1, defect="Dent"))
    assert fresh(Nonconformance, hand).source == NcrSource.MANUAL
    with pytest.raises(ValidationError):  # a defect is needed by hand
        services.raise_ncr(q, services.NcrInput(work_order_id=order.id, quantity=1))
    with pytest.raises(ValidationError):
        services.raise_ncr(q, services.NcrInput(work_order_id=order.id, quantity=0, defect="x"))


@pytest.mark.parametrize("payload", [b"GIF89a not really", b"%PDF-1.7 fake", b"\x89PNG\r\n\x1a\n" + b"\0" * 40,
                                     b"<svg xmlns='http://www.w3.org/2000/svg'/>"])
def test_photo_must_really_be_an_image(users, failed, payload):
    order, _turn, _result = failed
    with pytest.raises(ValidationError):
        services.raise_ncr(users["quality"], services.NcrInput(work_order_id=order.id, quantity=1, defect="x",
                                                               photo=payload))
    assert session().scalar(select(Nonconformance.id)) is None


def test_too_large_photo_is_refused(users, failed):
    order, _turn, _result = failed
    with pytest.raises(ValidationError, match="too large"):
        services.raise_ncr(users["quality"], services.NcrInput(work_order_id=order.id, quantity=1, defect="x",
                                                               photo=png() + b"\0" * (4 * 1024 * 1024)))


def test_each_disposition_closes_and_is_audited(users, failed):
    order, _turn, result_id = failed
    q = users["quality"]
    for disposition in (Disposition.SCRAP, Disposition.RETURN_TO_SUPPLIER):
        ncr_id = services.raise_ncr(q, services.NcrInput(work_order_id=order.id, quantity=1, defect="Dent"))
        services.dispose(q, ncr_id, 1, disposition.value, None)
        row = fresh(Nonconformance, ncr_id)
        assert (row.status, row.disposition, row.disposed_by_id) == (NcrStatus.CLOSED, disposition, q)
        with pytest.raises(InvalidTransition):
            services.dispose(q, ncr_id, row.version, Disposition.SCRAP.value, None)
    ncr_id = services.raise_ncr(q, services.NcrInput(inspection_result_id=result_id, quantity=1))
    with pytest.raises(ValidationError):  # use as is needs a reason
        services.dispose(q, ncr_id, 1, Disposition.USE_AS_IS.value, " ")
    assert fresh(Nonconformance, ncr_id).status == NcrStatus.OPEN
    services.dispose(q, ncr_id, 1, Disposition.USE_AS_IS.value, "Customer deviation 42 accepted")
    row = fresh(Nonconformance, ncr_id)
    assert (row.disposition, row.disposition_reason) == (Disposition.USE_AS_IS, "Customer deviation 42 accepted")
    audit = session().scalars(select(AuditEntry).where(AuditEntry.entity == "nonconformance",
                                                       AuditEntry.entity_id == ncr_id)).all()
    assert any(a.field == "disposition" and a.reason == "Customer deviation 42 accepted" for a in audit)


def test_rework_adds_an_operation_the_scheduler_plans(users, failed):
    order, turn, result_id = failed
    q = users["quality"]
    ncr_id = services.raise_ncr(q, services.NcrInput(inspection_result_id=result_id, quantity=2))
    rework_id = services.dispose(q, ncr_id, 1, Disposition.REWORK.value, "Re-turn the diameter")
    session().rollback()
    order = session().get(WorkOrder, order.id)
    ops = [(o.seq, o.name) for o in order.operations]
    assert ops == [(10, "Turn"), (11, "Rework Turn"), (20, "Mill")]
    rework = session().get(Operation, rework_id)
    assert fresh(Nonconformance, ncr_id).rework_operation_id == rework_id
    assert [m.machine_id for m in rework.machines] == [m.machine_id for m in turn.machines]
    # Run time scaled to the 2 of 10 pieces: the new lathe's 2.0 min becomes 0.4.
    new_lathe = next(m for m in rework.machines if m.machine_id == turn.machines[1].machine_id)
    assert str(new_lathe.run_minutes) in ("0.400", "0.4")
    problem, keys = build_problem(session(), dt.datetime.now(dt.UTC))
    assert op_key(rework_id) in keys.operations
    job_ops = [t for job in problem.jobs for t in job.tasks] if hasattr(problem.jobs[0], "tasks") else None
    assert job_ops is None or any(getattr(t, "key", None) == op_key(rework_id) for t in job_ops)


def test_disposition_by_other_roles_is_forbidden_and_changes_nothing(as_role, users, failed):
    order, _turn, result_id = failed
    ncr_id = services.raise_ncr(users["quality"], services.NcrInput(inspection_result_id=result_id, quantity=1))
    for role in ("worker", "planner"):
        r = as_role(role).post(f"/quality/ncrs/{ncr_id}/disposition", data={"version": 1, "disposition": "rework"})
        assert r.status_code == 403
    row = fresh(Nonconformance, ncr_id)
    assert (row.status, row.disposition, row.version) == (NcrStatus.OPEN, None, 1)
    assert len(session().get(WorkOrder, order.id).operations) == 2
    q = as_role("quality")
    page = q.get(f"/quality/ncrs/{ncr_id}").get_data(as_text=True)
    assert "Diameter" in page and 'name="disposition"' in page
    ok = q.post(f"/quality/ncrs/{ncr_id}/disposition", data={"version": 1, "disposition": "scrap"},
                headers={"HX-Request": "true"})
    assert ok.status_code == 200 and fresh(Nonconformance, ncr_id).status == NcrStatus.CLOSED


def test_pages_raise_with_photo_in_both_languages(as_role, users, failed):
    order, turn, result_id = failed
    worker = as_role("worker")
    form = worker.get(f"/quality/ncrs/new?result={result_id}").get_data(as_text=True)
    assert 'capture="environment"' in form and "Diameter" in form
    r = worker.post("/quality/ncrs/new", data={"result": result_id, "quantity": "1", "defect": "",
                                               "photo": (io.BytesIO(png()), "p.png")},
                    content_type="multipart/form-data")
    assert r.status_code == 303 and f"/floor/operations/{turn.id}" in r.headers["Location"]
    bad = worker.post("/quality/ncrs/new", data={"result": result_id, "quantity": "1",
                                                 "photo": (io.BytesIO(b"MZ\x90\0 an exe"), "p.jpg")},
                      content_type="multipart/form-data", headers={"HX-Request": "true"})
    assert bad.status_code == 422
    q = as_role("quality")
    ncr_id = session().scalar(select(Nonconformance.id))
    photo = q.get(f"/quality/ncrs/{ncr_id}/photo")
    assert photo.status_code == 200 and photo.mimetype == "image/png"
    assert worker.get(f"/quality/ncrs/{ncr_id}").status_code == 403
    for lang in ("en", "zh-CN"):
        for url in ("/quality/", "/quality/ncrs/", f"/quality/ncrs/{ncr_id}", "/quality/ncrs/new"):
            assert q.get(url, headers={"Accept-Language": lang}).status_code == 200, url
    by_hand = q.post("/quality/ncrs/new", data={"order_number": order.number, "quantity": "3", "defect": "Dent"})
    assert by_hand.status_code == 303
    assert q.post("/quality/ncrs/new", data={"order_number": "NOPE", "quantity": "3", "defect": "Dent"}).status_code == 422
