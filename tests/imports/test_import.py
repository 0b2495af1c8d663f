"""Importing routings and work orders: reading CSV (UTF-8, BOM, GBK, any delimiter) and .xlsx,
a preview that names every bad row and column, all-or-nothing imports, templates, the page."""
from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import func, select

from mes.core.audit import keyed_reason
from mes.core.db import session, transaction
from mes.core.models import AuditEntry
from mes.imports import cells, reading, results, services, templates
from mes.imports.columns import Kind
from mes.machines.models import WorkCenter
from mes.orders.models import Priority, WorkOrder, WorkOrderStatus
from mes.routing.models import Product, Routing, RoutingEdge, RoutingStatus

TODAY = dt.date.today()
DUE = (TODAY + dt.timedelta(days=20)).isoformat()
RELEASE = (TODAY + dt.timedelta(days=2)).isoformat()

ROUTING_HEADER = ["product", "product_name", "family", "seq", "operation", "work_center", "machines",
                  "setup_min", "run_min", "transfer_batch", "inspection", "predecessors"]
ORDER_HEADER = ["number", "product", "quantity", "due_date", "release_date", "priority", "customer", "note"]


# --- file builders ------------------------------------------------------------------------------


def csv_bytes(rows: list[list[object]], encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def errors_at(result: results.ImportResult) -> dict[tuple[int | None, str], str]:
    return {(e.row, e.column): e.message for e in result.errors}


def count(model: type) -> int:
    session().rollback()
    return session().scalar(select(func.count()).select_from(model))


# --- reading files (pure) -----------------------------------------------------------------------


def test_decoding_utf8_with_and_without_bom_gbk_and_utf16():
    text = "产品,数量\nP-1,5\n"
    assert reading.decode_text(text.encode("utf-8")) == text
    assert reading.decode_text(text.encode("utf-8-sig")) == text
    assert reading.decode_text(text.encode("gbk")) == text
    assert reading.decode_text(text.encode("utf-16")) == text


def test_binary_junk_is_refused_with_a_clear_message():
    junk = bytes(range(256)) * 8
    table, errors = reading.read_file(Kind.WORK_ORDERS, "orders.csv", junk)
    assert table is None and len(errors) == 1
    assert errors[0].row is None and "neither a CSV text file" in errors[0].message
    _, errors = reading.read_file(Kind.WORK_ORDERS, "orders.xlsx", b"not a zip at all")
    assert "not a readable Excel workbook" in errors[0].message
    _, errors = reading.read_file(Kind.WORK_ORDERS, "orders.xlsx", b"PK\x03\x04broken zip")
    assert "not a readable Excel workbook" in errors[0].message
    _, errors = reading.read_file(Kind.WORK_ORDERS, "orders.xls", b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    assert ".xls" in errors[0].message
    _, errors = reading.read_file(Kind.WORK_ORDERS, "orders.csv", b"")
    assert "empty" in errors[0].message


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiter_is_sniffed(delimiter):
    data = csv_bytes([["product", "quantity", "due_date"], ["P-1", "1,5" if delimiter != "," else "15", DUE]],
                     delimiter=delimiter)
    table, errors = reading.read_file(Kind.WORK_ORDERS, "x.csv", data)
    assert not errors
    assert table.rows[0][1]["product"] == "P-1"


def test_headers_match_case_width_aliases_and_units():
    data = csv_bytes([[" Product ", "QUANTITY", "交期", "Release-Date", "优先级（紧急程度）", "备注*"], ["P-1", "3", DUE, "", "", ""]])
    table, errors = reading.read_file(Kind.WORK_ORDERS, "x.csv", data)
    assert not errors
    assert set(table.headers) == {"product", "quantity", "due_date", "release_date", "priority", "note"}
    assert table.column("due_date") == "交期"


def test_wrong_columns_are_named_in_row_1_before_any_row_is_checked():
    data = csv_bytes([["product", "qty_ordered", "customer", "customer"], ["P-1", "x", "A", "B"]])
    table, errors = reading.read_file(Kind.WORK_ORDERS, "x.csv", data)
    assert table is None
    found = {(e.row, e.column): e.message for e in errors}
    assert "Unknown column" in found[(1, "qty_ordered")]
    assert "appears twice" in found[(1, "customer")]
    assert found[(1, "quantity")] == "This column is missing."
    assert found[(1, "due_date")] == "This column is missing."
    assert all(e.row == 1 for e in errors)


def test_blank_rows_keep_excel_row_numbers_and_headerless_cells_are_refused():
    data = csv_bytes([["product", "quantity", "due_date"], [], ["P-1", "2", DUE], ["P-1", "2", DUE, "extra"]])
    table, errors = reading.read_file(Kind.WORK_ORDERS, "x.csv", data)
    assert table is None
    assert (errors[0].row, errors[0].column) == (4, "D")
    table, errors = reading.read_file(Kind.WORK_ORDERS, "x.csv", data.rsplit(b"\r\n", 2)[0] + b"\r\n")
    assert [row for row, _ in table.rows] == [3]


def test_row_count_is_capped(monkeypatch):
    monkeypatch.setattr(reading, "MAX_ROWS", 3)
    data = csv_bytes([["product", "quantity", "due_date"]] + [["P-1", "1", DUE]] * 4)
    _, errors = reading.read_file(Kind.WORK_ORDERS, "x.csv", data)
    assert errors[0].row == 5 and "more than 3 rows" in errors[0].message


def test_cell_values():
    assert cells.parse_int(10.0) == 10 and cells.parse_int("1,200") == 1200 and cells.parse_int("１２") == 12
    for bad in (10.5, "10.5", "ten", True):
        with pytest.raises(cells.CellError):
            cells.parse_int(bad)
    assert cells.parse_date(dt.datetime(2030, 1, 5, 0, 0)) == dt.date(2030, 1, 5)
    assert cells.parse_date("2030/1/5") == cells.parse_date("2030-01-05") == dt.date(2030, 1, 5)
    assert cells.parse_date("2030年1月5日") == dt.date(2030, 1, 5)
    for bad in ("05.01.2030", "2030-02-30", "soon"):
        with pytest.raises(cells.CellError):
            cells.parse_date(bad)
    assert [cells.parse_bool(v) for v in ("yes", "是", "1", 1, "no", "否", "FALSE", None)] == [True] * 4 + [False] * 4
    assert cells.parse_priority("紧急") == Priority.URGENT and cells.parse_priority("High") == Priority.HIGH
    assert cells.parse_predecessors(None) is None and cells.parse_predecessors("0") == []
    assert cells.parse_predecessors("10，20") == [10, 20]
    machines = cells.parse_machines("L02:15:2.5； L03:10:2, L04")
    assert [(m.code, m.setup, m.run) for m in machines] == [
        ("L02", Decimal("15.000"), Decimal("2.500")), ("L03", Decimal("10.000"), Decimal("2.000")), ("L04", None, None)]


def test_export_neutralises_formulas_and_import_reads_them_back():
    data = templates.write_csv(["customer", "note"], [["=HYPERLINK(1)", "-5 pieces"], ["@SUM", "plain"]])
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[1] == ["'=HYPERLINK(1)", "'-5 pieces"] and rows[2][0] == "'@SUM"
    assert reading.clean(rows[1][0]) == "=HYPERLINK(1)"


# --- checking against the plant -----------------------------------------------------------------


@pytest.fixture
def empty_center(plant):
    with transaction() as s:
        s.add(WorkCenter(code="GRIND", name="Grinding (no machines yet)"))


def test_preview_names_every_bad_routing_row_and_saves_nothing(plant, empty_center):
    rows = [
        ROUTING_HEADER,
        ["P-2", "", "", "10", "Saw", "TURN", "", "5", "1", "", "no", ""],           # 2: fine
        ["P-2", "", "", "20", "Grind", "GRIND", "", "5", "1", "", "no", ""],        # 3: no eligible machine
        ["P-2", "", "", "30", "Turn", "TURN", "", "-5", "1", "", "no", ""],         # 4: negative time
        ["P-2", "", "", "40", "Mill", "MILL", "", "5", "20000", "", "no", ""],      # 5: absurd time
        ["P-2", "", "", "50", "Mill", "MILL", "M-9:5:1", "", "", "", "no", ""],     # 6: unknown machine
        ["P-2", "", "", "60", "Weld", "WELD", "", "5", "1", "", "no", ""],          # 7: unknown work center
        ["P-2", "", "", "50", "Again", "MILL", "", "5", "1", "", "no", ""],         # 8: duplicate seq
        ["P-2", "", "", "70", "Wash", "MILL", "", "5", "1", "", "maybe", "99"],     # 9: bad yes/no, unknown predecessor
        ["P-2", "", "", "80", "Paint", "MILL", "", "abc", "1", "0", "", ""],        # 10: not a number, batch 0
        ["P-2", "", "", "90", "", "MILL", "L-NEW:0:0", "", "", "", "", ""],         # 11: no name, no machine time
        ["NEW-1", "", "", "10", "Saw", "TURN", "", "5", "1", "", "", ""],           # 12: new product without name/family
        ["NEW-2", "Bolt", "ZZ", "10", "Saw", "TURN", "", "5", "1", "", "", ""],     # 13: unknown family
    ]
    result = services.preview(Kind.ROUTINGS, "r.csv", csv_bytes(rows))
    assert not result.valid and result.created == []
    found = errors_at(result)
    assert "No machine can do this operation" in found[(3, "machines")]
    assert found[(4, "setup_min")] == "Times cannot be negative."
    assert "not plausible" in found[(5, "run_min")]
    assert found[(6, "machines")] == "Unknown machine M-9."
    assert found[(7, "work_center")] == "Unknown work center WELD."
    assert "already in row 6" in found[(8, "seq")]
    assert found[(9, "inspection")] == "Enter yes or no."
    assert "has no operation 99" in found[(9, "predecessors")]
    assert found[(10, "setup_min")] == "Enter a number of minutes."
    assert "transfer batch" in found[(10, "transfer_batch")]
    assert found[(11, "operation")] == "This field is required."
    assert found[(11, "machines")] == "L-NEW: Give a run or setup time."
    assert "Give its name" in found[(12, "product_name")] and "product family" in found[(12, "family")]
    assert found[(13, "family")] == "Unknown product family ZZ."
    assert not any(row == 2 for row, _ in found)
    assert count(Routing) == 1


def test_precedence_cycle_is_reported_on_its_rows(plant):
    rows = [ROUTING_HEADER,
            ["P-2", "", "", "10", "A", "TURN", "", "5", "1", "", "", "30"],
            ["P-2", "", "", "20", "B", "TURN", "", "5", "1", "", "", ""],
            ["P-2", "", "", "30", "C", "TURN", "", "5", "1", "", "", "20"],
            ["P-2", "", "", "40", "D", "TURN", "", "5", "1", "", "", "40"]]
    found = errors_at(services.preview(Kind.ROUTINGS, "r.csv", csv_bytes(rows)))
    assert "cycle" in found[(2, "predecessors")] and "cycle" in found[(4, "predecessors")]
    assert found[(5, "predecessors")] == "An operation cannot precede itself."


def test_preview_names_every_bad_work_order_row(plant, make_order):
    existing = make_order(release=False, number="WO-EXISTS")
    rows = [
        ORDER_HEADER,
        ["A-1", "P-1", "10", DUE, RELEASE, "high", "Acme", ""],     # 2: fine
        ["A-2", "P-1", "0", DUE, "", "", "", ""],                   # 3: quantity 0
        ["A-3", "P-1", "10.5", DUE, "", "", "", ""],                # 4: not whole
        ["A-4", "P-1", "5", RELEASE, DUE, "", "", ""],              # 5: due before release
        ["A-5", "P-9", "5", "next week", "", "soon", "", ""],       # 6: unknown product, bad date and priority
        ["A-1", "P-1", "5", DUE, "", "", "", ""],                   # 7: number twice in the file
        [existing.number, "P-1", "5", DUE, "", "", "", ""],         # 8: number in the database
        ["", "", "", "", "", "", "", ""],                           # blank: skipped
        ["", "P-1", "", DUE, "", "", "x" * 130, ""],                # 10: no quantity, long customer
    ]
    result = services.preview(Kind.WORK_ORDERS, "o.csv", csv_bytes(rows))
    found = errors_at(result)
    assert found[(3, "quantity")] == "The quantity must be at least 1."
    assert found[(4, "quantity")] == "Enter a whole number."
    assert found[(5, "due_date")] == "The due date is before the release date."
    assert found[(6, "product")] == "Unknown product P-9."
    assert found[(6, "due_date")] == "Enter a date as YYYY-MM-DD."
    assert "urgent" in found[(6, "priority")]
    assert found[(7, "number")] == "Work order A-1 is already in row 2."
    assert found[(8, "number")] == "Work order WO-EXISTS already exists."
    assert found[(10, "quantity")] == "This field is required."
    assert "120" in found[(10, "customer")]
    assert not any(row == 2 for row, _ in found)
    assert [e.row for e in result.errors] == sorted(e.row for e in result.errors)


def test_a_file_with_one_bad_row_imports_nothing(plant):
    rows = [ORDER_HEADER] + [[f"B-{i}", "P-1", "5", DUE, "", "", "", ""] for i in range(5)]
    rows[3][2] = "0"
    before = count(AuditEntry)
    result = services.run(Kind.WORK_ORDERS, "o.csv", csv_bytes(rows))
    assert not result.valid and errors_at(result) == {(4, "quantity"): "The quantity must be at least 1."}
    assert count(WorkOrder) == 0 and count(AuditEntry) == before


def test_an_order_that_cannot_be_released_is_an_error_with_release_only(plant):
    data = csv_bytes([ORDER_HEADER, ["", "P-2", "5", DUE, "", "", "", ""]])
    assert services.preview(Kind.WORK_ORDERS, "o.csv", data).valid
    found = errors_at(services.preview(Kind.WORK_ORDERS, "o.csv", data, release=True))
    assert "no released routing" in found[(2, "product")]
    assert not services.run(Kind.WORK_ORDERS, "o.csv", data, release=True).valid
    assert count(WorkOrder) == 0


# --- importing ----------------------------------------------------------------------------------


def test_gbk_csv_with_chinese_headers_and_values_imports(plant, make_order):
    rows = [["工单号", "产品编码", "数量", "交期", "下达日期", "优先级", "客户", "备注"],
            ["GB-001", "P-1", "20", DUE.replace("-", "/"), RELEASE, "紧急", "华东泵业", "用库存料"],
            ["", "P-1", "8", DUE, "", "低", "宁波阀门", ""]]
    data = csv_bytes(rows, encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    preview = services.preview(Kind.WORK_ORDERS, "工单.csv", data)
    assert preview.valid, preview.errors
    assert [(o["number"], o["quantity"]) for o in preview.created] == [("GB-001", 20), (None, 8)]
    result = services.run(Kind.WORK_ORDERS, "工单.csv", data)
    assert result.committed
    session().rollback()
    first = session().scalar(select(WorkOrder).where(WorkOrder.number == "GB-001"))
    assert (first.customer, first.note, first.priority, first.quantity) == ("华东泵业", "用库存料", Priority.URGENT, 20)
    assert first.due_date.isoformat() == DUE and first.release_date.isoformat() == RELEASE
    generated = session().scalar(select(WorkOrder).where(WorkOrder.customer == "宁波阀门"))
    assert generated.number.startswith("WO-") and generated.priority == Priority.LOW
    assert result.created[1]["number"] == generated.number


def test_gbk_routing_with_chinese_headers_creates_the_product(plant):
    rows = [["产品编码", "产品名称", "产品族", "工序号", "工序", "工作中心", "设备", "准备时间", "单件时间", "检验", "前序"],
            ["齿轮-01", "齿轮", "FA", "10", "车削", "TURN", "L-NEW：15：2.5；L-OLD：30：4", "", "", "否", ""],
            ["齿轮-01", "", "", "20", "铣齿", "MILL", "", "20", "3.5", "是", ""]]
    result = services.run(Kind.ROUTINGS, "gbk.csv", csv_bytes(rows, encoding="gbk"))
    assert result.committed, result.errors
    session().rollback()
    product = session().scalar(select(Product).where(Product.code == "齿轮-01"))
    assert product.name == "齿轮" and product.family_id == plant.fa
    routing = session().scalar(select(Routing).where(Routing.product_id == product.id))
    assert [(o.seq, o.name, o.inspection_required) for o in routing.operations] == [(10, "车削", False), (20, "铣齿", True)]
    assert {(m.machine_id, m.setup_minutes, m.run_minutes) for m in routing.operations[0].machines} == {
        (plant.new, Decimal("15"), Decimal("2.5")), (plant.old, Decimal("30"), Decimal("4"))}


def test_utf8_bom_and_semicolon_csv(plant):
    data = b"\xef\xbb\xbf" + csv_bytes([["Number", "Product", "Quantity", "Due_Date", "Customer"],
                                         ["SC-1", "P-1", "7", DUE, "Müller; Söhne"]], delimiter=";")
    result = services.run(Kind.WORK_ORDERS, "eu.csv", data)
    assert result.committed, result.errors
    session().rollback()
    order = session().scalar(select(WorkOrder).where(WorkOrder.number == "SC-1"))
    assert (order.quantity, order.customer) == (7, "Müller; Söhne")


def test_xlsx_with_date_and_float_cells(plant):
    due = dt.datetime.combine(TODAY + dt.timedelta(days=9), dt.time())
    rows = [ORDER_HEADER,
            ["X-1", "P-1", 10.0, due, (TODAY + dt.timedelta(days=1)).strftime("%Y/%m/%d"), "normal", "Acme", None],
            ["X-2", "P-1", 10.5, due, None, None, None, None],
            [None, 1001.0, 4, 46000.0, None, None, None, None]]
    found = errors_at(services.preview(Kind.WORK_ORDERS, "o.xlsx", xlsx_bytes(rows)))
    assert found == {(3, "quantity"): "Enter a whole number.", (4, "product"): "Unknown product 1001."}
    result = services.run(Kind.WORK_ORDERS, "o.xlsx", xlsx_bytes(rows[:2]))
    assert result.committed
    session().rollback()
    order = session().scalar(select(WorkOrder).where(WorkOrder.number == "X-1"))
    assert order.quantity == 10 and order.due_date == due.date() and order.release_date == TODAY + dt.timedelta(days=1)


def test_routing_import_makes_a_new_draft_version_with_parallel_branches(plant):
    rows = [ROUTING_HEADER,
            ["P-1", "", "", "10", "Saw", "TURN", "", "5", "1", "", "", ""],
            ["P-1", "", "", "20", "Turn", "TURN", "L-NEW:15:2.5", "", "", "10", "", "10"],
            ["P-1", "", "", "30", "Mill", "MILL", "", "20", "3.5", "", "", "10"],
            ["P-1", "", "", "40", "Assemble", "MILL", "", "", 2.25, "", "yes", "20,30"],
            ["P-1", "", "", "50", "Pack", "MILL", "", "", "0.5", "", "", ""]]
    data = xlsx_bytes(rows)
    preview = services.preview(Kind.ROUTINGS, "r.xlsx", data)
    assert preview.created == [{"product": "P-1", "product_name": "Shaft", "new_product": False, "version_no": 2,
                                "operations": 5, "status": "draft", "routing_id": None}]
    result = services.run(Kind.ROUTINGS, "r.xlsx", data)
    assert result.committed
    session().rollback()
    new = session().get(Routing, result.created[0]["routing_id"])
    assert new.version_no == 2 and new.status == RoutingStatus.DRAFT and "r.xlsx" in new.note
    ops = {o.seq: o for o in new.operations}
    assert sorted(ops) == [10, 20, 30, 40, 50]  # the old version's operations are not copied
    assert [ops[s].follows_previous for s in (10, 20, 30, 40, 50)] == [True, False, False, False, True]
    assert ops[40].run_minutes == Decimal("2.25") and ops[40].inspection_required and ops[20].transfer_batch == 10
    edges = {(e.predecessor_id, e.successor_id) for e in session().scalars(select(RoutingEdge).where(RoutingEdge.routing_id == new.id))}
    assert edges == {(ops[10].id, ops[20].id), (ops[10].id, ops[30].id), (ops[20].id, ops[40].id), (ops[30].id, ops[40].id)}
    assert session().get(Routing, plant.routing_id).status == RoutingStatus.RELEASED


def test_release_option_releases_routings_and_orders(plant):
    rows = [ROUTING_HEADER,
            ["P-2", "", "", "10", "Turn", "TURN", "", "10", "2", "", "", ""],
            ["P-1", "", "", "10", "Turn only", "TURN", "", "10", "2", "", "", ""]]
    result = services.run(Kind.ROUTINGS, "r.csv", csv_bytes(rows), release=True)
    assert result.committed and [r["status"] for r in result.created] == ["released", "released"]
    session().rollback()
    assert session().get(Routing, plant.routing_id).status == RoutingStatus.OBSOLETE
    orders = services.run(Kind.WORK_ORDERS, "o.csv", csv_bytes([ORDER_HEADER, ["R-1", "P-2", "5", DUE, "", "", "", ""]]),
                           release=True)
    assert orders.committed and orders.created[0]["status"] == "released"
    session().rollback()
    order = session().scalar(select(WorkOrder).where(WorkOrder.number == "R-1"))
    assert order.status == WorkOrderStatus.RELEASED and [o.name for o in order.operations] == ["Turn"]


def test_clean_file_imports_in_one_go_through_the_page_with_audit(plant, as_role, users):
    client = as_role("planner")
    data = csv_bytes([ORDER_HEADER] + [[f"C-{i}", "P-1", str(i + 1), DUE, "", "", "", ""] for i in range(3)])
    r = client.post("/import/preview", data={"kind": "work-orders", "file": (io.BytesIO(data), "o.csv")},
                    headers={"HX-Request": "true"})
    assert r.status_code == 200
    body = r.get_data(as_text=True)
    assert body.lstrip().startswith("<div id=\"import-result\"") and "C-2" in body and "press Import" in body
    assert 'id="import-file"' not in body  # the checked file stays chosen for the import
    assert count(WorkOrder) == 0
    r = client.post("/import/run", data={"kind": "work-orders", "file": (io.BytesIO(data), "o.csv")},
                    headers={"HX-Request": "true"})
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "Imported 3 work orders." in body
    assert 'id="import-file"' in body and 'hx-swap-oob="true"' in body  # a fresh file field: no second import by accident
    session().rollback()
    orders = session().scalars(select(WorkOrder).order_by(WorkOrder.number)).all()
    assert [(o.number, o.quantity, o.status) for o in orders] == [(f"C-{i}", i + 1, WorkOrderStatus.DRAFT) for i in range(3)]
    audit = session().scalars(select(AuditEntry).where(AuditEntry.entity == "work_order", AuditEntry.action == "create")).all()
    assert {a.entity_id for a in audit} == {o.id for o in orders}
    # The reason is kept language-neutral and read in the reader's language on the audit page.
    assert {(a.user_id, a.reason) for a in audit} == {(users["planner"], keyed_reason("imported_from", file="o.csv"))}


def test_page_errors_are_a_table_and_import_is_refused(plant, as_role):
    client = as_role("planner")
    data = csv_bytes([ORDER_HEADER, ["E-1", "P-1", "0", DUE, "", "", "", ""]])
    r = client.post("/import/run", data={"kind": "work-orders", "file": (io.BytesIO(data), "o.csv")})
    assert r.status_code == 422
    body = r.get_data(as_text=True)
    assert "<html" in body and 'id="import-form"' in body  # without htmx: the whole page, form included
    assert "import-errors" in body and "The quantity must be at least 1." in body
    assert count(WorkOrder) == 0
    r = client.post("/import/preview", data={"kind": "work-orders"}, headers={"HX-Request": "true"})
    assert r.status_code == 422 and "Choose a file to import." in r.get_data(as_text=True)
    r = client.post("/import/preview", data={"kind": "bogus", "file": (io.BytesIO(data), "o.csv")})
    assert r.status_code == 422


# --- templates and access -----------------------------------------------------------------------


def test_templates_download_and_parse_back_cleanly(plant, as_role):
    client = as_role("planner")
    for kind in ("routings", "work-orders"):
        for fmt in ("csv", "xlsx"):
            for locale in ("en", "zh_CN"):
                client.post("/locale", data={"locale": locale})
                r = client.get(f"/import/template/{kind}.{fmt}")
                assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
                if fmt == "csv":
                    assert r.data.startswith(b"\xef\xbb\xbf")
                    header = r.data.decode("utf-8-sig").splitlines()[0]
                    assert ("产品编码" in header) == (locale == "zh_CN")
                else:
                    workbook = openpyxl.load_workbook(io.BytesIO(r.data))
                    assert len(workbook.worksheets) == 2  # the example sheet, then the column guide
                preview = services.preview(Kind(kind), f"template.{fmt}", r.data, release=True)
                assert preview.valid, (kind, fmt, locale, preview.errors)
                assert len(preview.created) == (1 if kind == "routings" else 2)


def test_page_renders_for_a_planner_and_is_refused_for_a_worker(plant, as_role):
    r = as_role("planner").get("/import/")
    assert r.status_code == 200
    body = r.get_data(as_text=True)
    for needle in ('hx-post="/import/preview"', 'hx-post="/import/run"', 'hx-encoding="multipart/form-data"',
                   "hx-disabled-elt", 'name="release"', 'enctype="multipart/form-data"', "/import/template/routings.xlsx"):
        assert needle in body
    worker = as_role("worker")
    assert worker.get("/import/").status_code == 403
    assert worker.post("/import/preview", data={"kind": "work-orders"}).status_code == 403
    assert worker.get("/import/template/work-orders.csv").status_code == 403
    assert as_role("quality").get("/import/").status_code == 403
