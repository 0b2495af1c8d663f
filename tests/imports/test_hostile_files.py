"""Hostile spreadsheets: decompression bombs (honest and lying zip headers), over-long cells, too
many columns, cells or XML elements are refused with a localized 4xx through the page and the API,
in bounded memory; the API authenticates before it parses an upload."""
from __future__ import annotations

import io
import resource
import struct
import tracemalloc
import zipfile
import zlib
from xml.sax.saxutils import escape

import pytest

from mes.admin.services import create_token
from mes.imports import reading
from mes.imports.columns import Kind
from tests.imports.test_import import DUE, ORDER_HEADER, csv_bytes, xlsx_bytes

MB = 1024 * 1024
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


# --- building workbooks byte by byte -------------------------------------------------------------


def deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


def repeated(prefix: bytes, byte: bytes, count_mb: int, suffix: bytes) -> tuple[bytes, int]:
    """A deflate stream of ``prefix + byte * count_mb MiB + suffix``, built in milliseconds: after
    a full flush every MiB of the same byte packs to the same block, so the block is repeated."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    head = packer.compress(prefix) + packer.flush(zlib.Z_FULL_FLUSH)
    block = packer.compress(byte * MB) + packer.flush(zlib.Z_FULL_FLUSH)
    assert packer.compress(byte * MB) + packer.flush(zlib.Z_FULL_FLUSH) == block
    tail = packer.compress(suffix) + packer.flush()
    return head + block * count_mb + tail, len(prefix) + count_mb * MB + len(suffix)


def zip_of(parts: dict[str, bytes | tuple[bytes, int, int]]) -> bytes:
    """A zip archive; a part is its content, or (deflate stream, declared size, declared CRC)
    so that a test can make the headers say what it likes."""
    out, central = io.BytesIO(), io.BytesIO()
    for name, part in parts.items():
        packed, size, crc = part if isinstance(part, tuple) else (deflate(part), len(part), zlib.crc32(part))
        encoded = name.encode()
        offset = out.tell()
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, len(packed), size, len(encoded), 0))
        out.write(encoded + packed)
        central.write(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 0x21, crc, len(packed), size,
                                  len(encoded), 0, 0, 0, 0, 0, offset))
        central.write(encoded)
    start, directory = out.tell(), central.getvalue()
    out.write(directory)
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(parts), len(parts), len(directory), start, 0))
    return out.getvalue()


def workbook(sheet_data: bytes, **extra: bytes | tuple[bytes, int, int]) -> bytes:
    """A minimal .xlsx: one sheet with ``sheet_data`` inside <sheetData>, plus any extra parts
    (a shared string table at xl/sharedStrings.xml is declared whenever it is given)."""
    shared = "xl/sharedStrings.xml" in extra
    types = ('<?xml version="1.0" encoding="UTF-8"?>'
             '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
             '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
             '<Default Extension="xml" ContentType="application/xml"/>'
             '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
             '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
             + ('<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
                if shared else "") + "</Types>")
    rels = ('<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>")
    book = (f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheets><sheet name="Orders" sheetId="1" r:id="rId1"/></sheets></workbook>')
    book_rels = ('<?xml version="1.0" encoding="UTF-8"?>'
                 '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                 '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
                 + ('<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
                    if shared else "") + "</Relationships>")
    sheet = f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><sheetData>'.encode() + sheet_data + b"</sheetData></worksheet>"
    return zip_of({"[Content_Types].xml": types.encode(), "_rels/.rels": rels.encode(), "xl/workbook.xml": book.encode(),
                   "xl/_rels/workbook.xml.rels": book_rels.encode(), "xl/worksheets/sheet1.xml": sheet, **extra})


def inline_row(number: int, values: list[str]) -> bytes:
    cells = "".join(f'<c r="{reading.column_letter(i)}{number}" t="inlineStr"><is><t>{escape(v)}</t></is></c>'
                    for i, v in enumerate(values))
    return f'<row r="{number}">{cells}</row>'.encode()


HEADER_ROW = inline_row(1, ["product", "quantity", "due_date"])
SHARED_HEAD = f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}" count="1" uniqueCount="1"><si><t>'.encode()
SHARED_TAIL = b"</t></si></sst>"
# Row 2 takes its product from the (huge) shared string.
SHARED_ROW = HEADER_ROW + b'<row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2"><v>5</v></c></row>'


def shared_string_bomb(declared: int | None = None) -> bytes:
    """About 1 MB on disk whose shared string unpacks to 1 GiB; ``declared`` makes the zip's
    headers lie about the size."""
    packed, size = repeated(SHARED_HEAD, b"A", 1024, SHARED_TAIL)
    return workbook(SHARED_ROW, **{"xl/sharedStrings.xml": (packed, declared or size, 0)})


def inline_bomb(declared: int | None = None) -> bytes:
    """A 300 MB inline cell, about 300 KB on disk."""
    packed, size = repeated(f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><sheetData>'.encode()
                            + HEADER_ROW + b'<row r="2"><c r="A2" t="inlineStr"><is><t>', b"B", 300,
                            b"</t></is></c></row></sheetData></worksheet>")
    honest = workbook(b"")
    return _replace(honest, "xl/worksheets/sheet1.xml", (packed, declared or size, 0))


def _replace(xlsx: bytes, name: str, part: tuple[bytes, int, int]) -> bytes:
    with zipfile.ZipFile(io.BytesIO(xlsx)) as archive:
        parts: dict[str, bytes | tuple[bytes, int, int]] = {n: archive.read(n) for n in archive.namelist()}
    parts[name] = part
    return zip_of(parts)


# --- the client side ------------------------------------------------------------------------------


@pytest.fixture
def planner_token(users) -> str:  # type: ignore[no-untyped-def]
    return create_token(users["planner"], "t")


def api_post(client, data: bytes, token: str | None, filename: str = "orders.xlsx", **query):  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post("/api/v1/imports/work-orders", query_string=query or {"dry_run": "true"}, headers=headers,
                       data={"file": (io.BytesIO(data), filename)}, content_type="multipart/form-data")


def page_post(client, data: bytes, action: str = "preview", **headers):  # type: ignore[no-untyped-def]
    return client.post(f"/import/{action}", data={"kind": "work-orders", "file": (io.BytesIO(data), "orders.xlsx")},
                       headers=headers)


def refused(response, needle: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == 422, response.get_data(as_text=True)[:500]
    body = response.get_json()
    assert body["valid"] is False and body["created"] == []
    assert len(body["errors"]) == 1 and needle in body["errors"][0]["message"], body
    return body["errors"][0]


def peak_while(fn):  # type: ignore[no-untyped-def]
    """(result, Python allocation peak, growth of the process's resident peak), in bytes."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    tracemalloc.start()
    try:
        result = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return result, peak, after - before


# --- the reader -----------------------------------------------------------------------------------


def test_the_hand_built_workbook_reads_like_an_excel_file():
    data = workbook(HEADER_ROW + inline_row(2, ["P-1", "5", DUE]))
    table, errors = reading.read_file(Kind.WORK_ORDERS, "o.xlsx", data)
    assert not errors and table.rows == [(2, {"product": "P-1", "quantity": "5", "due_date": DUE})]
    table, errors = reading.read_file(Kind.WORK_ORDERS, "o.xlsx", workbook(
        SHARED_ROW, **{"xl/sharedStrings.xml": SHARED_HEAD + b"P-1" + SHARED_TAIL}))
    assert not errors and table.rows[0][1]["product"] == "P-1"


def media_bomb(declared: int) -> bytes:
    """A picture part that unpacks to 1 GiB of zeros while its headers say ``declared``."""
    packed, _ = repeated(b"\x89PNG", b"\0", 1024, b"")
    return workbook(HEADER_ROW, **{"xl/media/image1.png": (packed, declared, 0)})


BOMBS = {  # name: (build, what the refusal says)
    "honest-shared-string": (lambda: shared_string_bomb(), "unpacks to more than 50 MB"),
    "lying-shared-string": (lambda: shared_string_bomb(40 * MB), "text of more than 10000 characters"),
    "tiny-lying-shared-string": (lambda: shared_string_bomb(1000), "more than its index says"),
    "lying-picture": (lambda: media_bomb(40 * MB), "more than its index says"),
}


@pytest.mark.parametrize("name", BOMBS)
def test_a_gigabyte_bomb_is_refused_in_bounded_memory(name):
    build, message = BOMBS[name]
    bomb = build()
    assert len(bomb) < 2 * MB

    def read() -> Exception | None:
        try:
            reading.read_file(Kind.WORK_ORDERS, "o.xlsx", bomb)
        except reading.UploadRefused as exc:
            return exc
        return None

    refusal, peak, grown = peak_while(read)
    assert isinstance(refusal, reading.UploadRefused) and message in refusal.text()
    assert peak < 200 * MB and grown < 200 * MB, (peak, grown)


def test_a_300_mb_inline_cell_is_refused():
    for declared in (None, 2000):
        with pytest.raises(reading.UploadRefused):
            reading.read_file(Kind.WORK_ORDERS, "o.xlsx", inline_bomb(declared))


def test_a_part_packed_too_tightly_is_refused_before_unpacking():
    packed, size = repeated(SHARED_HEAD, b"A", 10, SHARED_TAIL)  # 10 MB from about 10 KB
    with pytest.raises(reading.UploadRefused) as caught:
        reading.read_file(Kind.WORK_ORDERS, "o.xlsx", workbook(SHARED_ROW, **{"xl/sharedStrings.xml": (packed, size, 0)}))
    assert "compression bomb" in caught.value.text()


def test_over_long_cells_are_refused_naming_row_and_column():
    long = "x" * (reading.MAX_CELL_CHARS + 1)
    with pytest.raises(reading.UploadRefused) as caught:
        reading.read_file(Kind.WORK_ORDERS, "o.xlsx", workbook(HEADER_ROW + inline_row(2, ["P-1", long, DUE])))
    assert (caught.value.row, caught.value.column) == (2, "B")
    assert caught.value.text() == "The cell in row 2, column B holds more than 10000 characters."
    with pytest.raises(reading.UploadRefused) as caught:
        reading.read_file(Kind.WORK_ORDERS, "o.csv", csv_bytes([ORDER_HEADER, ["A-1", "P-1", "5", DUE, "", "", long, ""]]))
    assert (caught.value.row, caught.value.column) == (2, "G")
    shared = workbook(SHARED_ROW, **{"xl/sharedStrings.xml": SHARED_HEAD + long.encode() + SHARED_TAIL})
    with pytest.raises(reading.UploadRefused) as caught:
        reading.read_file(Kind.WORK_ORDERS, "o.xlsx", shared)
    assert "text of more than 10000 characters" in caught.value.text()
    # At the limit is fine.
    table, errors = reading.read_file(Kind.WORK_ORDERS, "o.csv", csv_bytes(
        [ORDER_HEADER, ["A-1", "P-1", "5", DUE, "", "", "x" * reading.MAX_CELL_CHARS, ""]]))
    assert table is not None and not errors


def test_too_many_columns_or_cells_are_refused():
    wide = ["product", "quantity", "due_date"] + [""] * (reading.MAX_COLUMNS - 3) + ["surprise"]
    for data, name in ((csv_bytes([wide, ["P-1", "5", DUE]]), "o.csv"), (xlsx_bytes([wide, ["P-1", 5, DUE]]), "o.xlsx")):
        with pytest.raises(reading.UploadRefused) as caught:
            reading.read_file(Kind.WORK_ORDERS, name, data)
        assert (caught.value.row, caught.value.column) == (1, "CW")
        assert "at most 100 columns" in caught.value.text()
    # Trailing empty cells (formatted, never filled) are no reason to refuse a file.
    table, errors = reading.read_file(Kind.WORK_ORDERS, "o.csv", csv_bytes([wide[:-1] + [""], ["P-1", "5", DUE]]))
    assert table is not None and not errors
    crowded = HEADER_ROW + b'<row r="2">' + b"<c/>" * (reading.MAX_ROW_CELLS + 1) + b"</row>"
    with pytest.raises(reading.UploadRefused) as caught:
        reading.read_file(Kind.WORK_ORDERS, "o.xlsx", workbook(crowded))
    assert caught.value.text() == "Row 2 of the workbook holds more than 16384 cells." and caught.value.row == 2
    far = HEADER_ROW + b'<row r="2"><c r="ZZZ2"><v>1</v></c></row>'  # past Excel's last column
    with pytest.raises(reading.UploadRefused):
        reading.read_file(Kind.WORK_ORDERS, "o.xlsx", workbook(far))


def test_too_many_xml_elements_are_refused():
    elements = "".join(f'<x n="{i}"/>' for i in range(reading.MAX_PART_ELEMENTS + 1)).encode()
    styles = f'<styleSheet xmlns="{MAIN}">'.encode() + elements + b"</styleSheet>"
    with pytest.raises(reading.UploadRefused) as caught:
        reading.read_file(Kind.WORK_ORDERS, "o.xlsx", workbook(HEADER_ROW, **{"xl/styles.xml": styles}))
    assert "too complex" in caught.value.text()
    deep = b"<a>" * (reading.MAX_XML_DEPTH + 1) + b"</a>" * (reading.MAX_XML_DEPTH + 1)
    with pytest.raises(reading.UploadRefused):
        reading.read_file(Kind.WORK_ORDERS, "o.xlsx", workbook(HEADER_ROW, **{"xl/custom.xml": deep}))


def test_damaged_or_encrypted_archives_stay_unreadable_not_refused():
    good = workbook(HEADER_ROW + inline_row(2, ["P-1", "5", DUE]))
    with_bad_crc = _replace(good, "xl/worksheets/sheet1.xml", (deflate(b"<x/>"), 4, 12345))
    _, errors = reading.read_file(Kind.WORK_ORDERS, "o.xlsx", with_bad_crc)
    assert "not a readable Excel workbook" in errors[0].message
    short = _replace(good, "xl/worksheets/sheet1.xml", (deflate(b"<x/>"), 400, zlib.crc32(b"<x/>")))
    _, errors = reading.read_file(Kind.WORK_ORDERS, "o.xlsx", short)
    assert "not a readable Excel workbook" in errors[0].message
    # Broken XML anywhere, or an encoding nobody knows, is the file's problem, not a server error.
    for strings in (SHARED_HEAD + b"P-1</t></x></sst>", b'<?xml version="1.0" encoding="UTF-b"?><sst/>'):
        broken = workbook(SHARED_ROW, **{"xl/sharedStrings.xml": strings})
        _, errors = reading.read_file(Kind.WORK_ORDERS, "o.xlsx", broken)
        assert "not a readable Excel workbook" in errors[0].message


def test_too_many_rows_stop_the_reading_early():
    rows = b"".join(inline_row(n, ["P-1", "1", DUE]) for n in range(2, 20_002))
    _, errors = reading.read_file(Kind.WORK_ORDERS, "o.xlsx", workbook(HEADER_ROW + rows))
    assert errors[0].row == reading.MAX_ROWS + 2 and "more than 5000 rows" in errors[0].message


# --- through the page and the API -----------------------------------------------------------------


def test_the_api_refuses_bombs_with_a_localized_422(plant, client, planner_token):
    for bomb in (shared_string_bomb(), shared_string_bomb(1000), inline_bomb()):
        refused(api_post(client, bomb, planner_token), "The workbook")
        refused(api_post(client, bomb, planner_token, dry_run="false"), "The workbook")
    r = api_post(client, shared_string_bomb(), planner_token)
    assert r.get_json()["errors"][0] == {"row": None, "column": "",
                                         "message": "The workbook unpacks to more than 50 MB. Save only the sheet to import, or split the file."}
    zh = client.post("/api/v1/imports/work-orders", query_string={"dry_run": "true"},
                     headers={"Authorization": f"Bearer {planner_token}", "Accept-Language": "zh-CN"},
                     data={"file": (io.BytesIO(shared_string_bomb()), "o.xlsx")}, content_type="multipart/form-data")
    assert zh.status_code == 422 and "工作簿" in zh.get_json()["errors"][0]["message"]
    long = csv_bytes([ORDER_HEADER, ["A-1", "P-1", "5", DUE, "", "", "x" * 20_000, ""]])
    error = refused(api_post(client, long, planner_token, "orders.csv"), "holds more than 10000 characters")
    assert (error["row"], error["column"]) == (2, "G")


def test_the_page_refuses_bombs_in_place_with_a_localized_422(plant, as_role):
    client = as_role("planner")
    for action in ("preview", "run"):
        r = page_post(client, shared_string_bomb(1000), action, **{"HX-Request": "true"})
        body = r.get_data(as_text=True)
        assert r.status_code == 422 and "import-errors" in body and "more than its index says" in body
    r = page_post(client, inline_bomb())
    assert r.status_code == 422 and 'id="import-form"' in r.get_data(as_text=True)
    client.post("/locale", data={"locale": "zh_CN"})
    r = page_post(client, shared_string_bomb(), **{"HX-Request": "true"})
    assert r.status_code == 422 and "工作簿解压后超过 50 MB" in r.get_data(as_text=True)


def test_the_page_handles_a_gigabyte_bomb_in_bounded_memory(plant, as_role):
    client = as_role("planner")
    bomb = shared_string_bomb(40 * MB)
    response, peak, grown = peak_while(lambda: page_post(client, bomb, **{"HX-Request": "true"}))
    assert response.status_code == 422
    assert peak < 200 * MB and grown < 200 * MB, (peak, grown)


def test_the_api_authenticates_before_it_parses_the_upload(plant, client):
    for token in (None, "mes_not-a-token"):
        r = api_post(client, shared_string_bomb(), token)
        assert r.status_code == 401 and r.get_json()["code"] == "unauthorized"
    r = client.post("/api/v1/imports/work-orders", data=b"--broken\r\nnot multipart at all",
                    content_type="multipart/form-data; boundary=broken")
    assert r.status_code == 401
    # Arguments that fail their schema are not looked at either: no 422 for the anonymous.
    r = api_post(client, shared_string_bomb(), None, dry_run="perhaps", release="[]")
    assert r.status_code == 401 and r.get_json()["code"] == "unauthorized"


def test_csv_template_content_type_names_its_charset_once(plant, as_role):
    r = as_role("planner").get("/import/template/work-orders.csv")
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
    r = as_role("planner").get("/import/template/work-orders.xlsx")
    assert r.headers["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
