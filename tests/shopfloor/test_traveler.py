"""The printed job traveler read as a person reads it (pdftotext) and scanned as a tablet scans it
(pdftoppm + zbarimg): every field is on the sheet, Chinese included, and each operation's QR code
opens that operation's card on an enrolled kiosk."""
from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from mes.core.db import session, transaction
from mes.orders.models import Operation
from mes.routing.models import Product
from tests.conftest import login
from tests.pdftext import pdf_text

TOOLS = {"pdftotext": "poppler-utils", "pdftoppm": "poppler-utils", "zbarimg": "zbar-tools"}


@pytest.fixture
def tools() -> None:
    for tool, package in TOOLS.items():
        if shutil.which(tool) is None:
            pytest.skip(f"needs Debian package {package} ({tool}); .ci/run installs it")


def _run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=60).stdout


def test_traveler_reads_and_scans(app, users, plant, make_order, tools, tmp_path: Path):
    with transaction() as s:
        s.get(Product, plant.p1).name = "主轴 Shaft"
    order = make_order(quantity=12, due_date=dt.date(2031, 3, 14), customer="ACME 机械")
    with transaction() as s:
        first = s.scalars(select(Operation).where(Operation.work_order_id == order.id).order_by(Operation.seq)).first()
        first.instructions = "首件按图纸检验。\nCheck the first piece against drawing."
    session().rollback()
    ops = sorted(order.operations, key=lambda op: op.seq)
    assert len(ops) == 2

    admin = app.test_client()
    login(admin, "admin")
    admin.post("/admin/kiosks", data={"name": "Tablet", "work_center_id": ""})  # a tablet for the whole shop
    kiosk = admin.get_cookie("mes_kiosk")
    assert kiosk is not None
    planner = app.test_client()
    login(planner, "planner")
    planner.post("/locale", data={"locale": "en"})
    r = planner.get(f"/floor/orders/{order.id}/traveler.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    pdf = tmp_path / "traveler.pdf"
    pdf.write_bytes(r.data)

    # (1) the text as a reader sees it
    text = pdf_text(r.data)
    flat = " ".join(text.split())
    for expected in (f"Job traveler {order.number}", "P-1 主轴 Shaft", "Quantity: 12", "Due date: Mar 14, 2031", "Customer: ACME 机械",
                     f"{ops[0].seq} Turn", "Work center: Turning Machines: L-OLD, L-NEW", "首件按图纸检验。",
                     "Check the first piece against drawing.", f"{ops[1].seq} Mill", "Work center: Milling Machines: any"):
        assert expected in flat, (expected, text)
    planner.post("/locale", data={"locale": "zh_CN"})  # the headings in Chinese come out as Chinese too
    zh_flat = " ".join(pdf_text(planner.get(f"/floor/orders/{order.id}/traveler.pdf").data).split())
    for expected in (f"流转卡 {order.number}", "交期", "工作中心: Turning", "首件按图纸检验。"):
        assert expected in zh_flat, (expected, zh_flat)
    assert flat.index(f"{ops[0].seq} Turn") < flat.index("首件按图纸检验。") < flat.index(f"{ops[1].seq} Mill")

    # (2) the QR codes as a tablet scans them: the order number in the header, one per operation
    _run("pdftoppm", "-r", "200", "-png", str(pdf), str(tmp_path / "page"))
    pages = sorted(str(p) for p in tmp_path.glob("page*.png"))
    assert len(pages) == 1
    decoded = subprocess.run(["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", *pages],
                             capture_output=True, text=True, timeout=60, check=False)
    assert decoded.returncode == 0, decoded.stderr
    payloads = decoded.stdout.split()
    assert order.number in payloads
    urls = [p for p in payloads if p != order.number]
    paths = sorted(urlsplit(u).path for u in urls)
    assert paths == sorted(f"/floor/operations/{op.id}" for op in ops), urls
    assert all(urlsplit(u).scheme in ("http", "https") for u in urls)

    # scanning on an enrolled kiosk, a logged-in worker gets that operation's card
    tablet = app.test_client()
    tablet.set_cookie("mes_kiosk", kiosk.value)
    assert tablet.post("/floor/login", data={"badge-badge": "BADGE-WORKER"}).status_code == 303
    for op in ops:
        url = next(u for u in urls if urlsplit(u).path == f"/floor/operations/{op.id}")
        assert app.url_map.bind("localhost").match(urlsplit(url).path) == (
            "shopfloor.operation", {"operation_id": op.id})
        card = tablet.get(urlsplit(url).path)
        assert card.status_code == 200
        html = card.get_data(as_text=True)
        assert order.number in html and op.name in html


def test_a_scanned_traveler_code_opens_the_operation(as_role, make_order, app, tools, tmp_path: Path):
    from mes.shopfloor.services import operation_from_code

    order = make_order()
    op_id = order.operations[0].id
    assert operation_from_code(f"http://office-pc:5000/floor/operations/{op_id}") == op_id
    assert operation_from_code(f" {op_id} ") == op_id
    assert operation_from_code("/floor/operations/12x") is None and operation_from_code("WO-1") is None
    worker = as_role("worker")
    r = worker.get("/floor/", query_string={"code": f"http://localhost/floor/operations/{op_id}"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/floor/operations/{op_id}")
    r = worker.get("/floor/", query_string={"code": "nothing-like-it"})
    assert r.status_code == 404 and "nothing-like-it" in r.get_data(as_text=True)
    # The QR codes carry the address the tablets use when one is configured.
    app.config["PUBLIC_URL"] = "http://192.168.1.20:5000/"
    pdf = tmp_path / "traveler.pdf"
    pdf.write_bytes(as_role("planner").get(f"/floor/orders/{order.id}/traveler.pdf").data)
    _run("pdftoppm", "-r", "200", "-png", str(pdf), str(tmp_path / "page"))
    decoded = _run("zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable",
                   *sorted(str(p) for p in tmp_path.glob("page*.png"))).split()
    assert f"http://192.168.1.20:5000/floor/operations/{op_id}" in decoded, decoded
