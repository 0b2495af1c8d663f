"""The inspection report PDF of a work order, read as a person reads it (pdftotext): every value
against its limits with its verdict, who and when, the nonconformances, in Chinese too."""
from __future__ import annotations

import uuid

import pytest

from mes.admin import services as admin
from mes.core.db import session
from mes.quality import inspections, services
from mes.quality.inspections import ResultInput
from mes.shopfloor import services as floor
from tests.pdftext import pdf_text


def key() -> str:
    return uuid.uuid4().hex


def test_inspection_report_pdf(as_role, users, qplant, make_order):
    admin.update_user(users["worker"], admin.UserInput(username="worker", display_name="王伟", roles=["worker"],
                                                       employee_no="7001"))
    order = make_order(quantity=10)
    turn = order.operations[0]
    w = users["worker"]
    floor.start(w, key(), turn.id, "run", qplant.new)
    dia = turn.characteristics[0].id
    bad = inspections.record(w, key(), turn.id, ResultInput(dia, "first", 1, value="20.35"))["result_id"]
    inspections.record(w, key(), turn.id, ResultInput(dia, "first", 1, value="20.04"))
    ncr_id = services.raise_ncr(users["quality"], services.NcrInput(inspection_result_id=bad, quantity=1,
                                                                    defect="直径超差"))
    services.dispose(users["quality"], ncr_id, 1, "use_as_is", "客户同意 deviation 7")
    session().rollback()
    q = as_role("quality")
    r = q.get(f"/quality/orders/{order.id}/inspection-report.pdf", headers={"Accept-Language": "en"})
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    text = pdf_text(r.data)
    assert "Inspection report" in text and order.number in text
    assert "Diameter" in text and "20.35" in text and "20.04" in text and "19.9 … 20.1 mm" in text
    assert "Fail" in text and "Pass" in text and "王伟" in text
    assert "直径超差" in text and "Use as is: 客户同意 deviation 7" in text
    zh = pdf_text(q.get(f"/quality/orders/{order.id}/inspection-report.pdf", headers={"Accept-Language": "zh-CN"}).data)
    assert "检验报告" in zh and "不合格" in zh and "让步接收" in zh
    page = q.get(f"/quality/orders/{order.id}").get_data(as_text=True)
    assert "20.35" in page and "inspection-report.pdf" in page
    assert as_role("worker").get(f"/quality/orders/{order.id}/inspection-report.pdf").status_code == 403
    assert q.get("/quality/orders/999999/inspection-report.pdf").status_code == 404
