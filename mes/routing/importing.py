"""Importing routings and work orders from CSV and Excel files.

Reading a file (decode, sniff, cells → rows) is pure; checking the rows reuses the routing and
order services' own validators and reports every problem with its row and column; committing
re-checks and writes all rows in one transaction, or nothing."""
from __future__ import annotations

import csv
import datetime as dt
import enum
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import LazyString, gettext as _, lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mes.core import audit
from mes.core.auth import Permission
from mes.core.clock import plant_today
from mes.core.db import session, transaction
from mes.core.errors import DomainError, ValidationError
from mes.machines.models import Machine, MachineStatus, WorkCenter
from mes.orders import services as order_services
from mes.orders.models import Priority, WorkOrder
from mes.operations import graph
from mes.operations import services as operation_services
from mes.routing import services as routing_services
from mes.routing.models import (
    Product,
    ProductFamily,
    Routing,
    RoutingEdge,
    RoutingOperation,
    RoutingOperationMachine,
    RoutingStatus,
)
from mes.operations.rules import MachineTime, OperationInput, parse_minutes, validate_operation

MAX_ROWS = 5000
MAX_COLUMNS = 100
# Rows read before giving up on a sheet padded with empty (formatted) rows.
MAX_SCANNED_ROWS = 50_000
MAX_SEQ = 999_999
MAX_CODE = 64
MAX_PRODUCT_NAME = 200


class Kind(enum.StrEnum):
    ROUTINGS = "routings"
    WORK_ORDERS = "work-orders"

    @property
    def label(self) -> str:
        return str(KIND_LABELS[self])

    @property
    def permission(self) -> Permission:
        """What a user needs to import this kind (a planner may edit orders but not routings)."""
        return Permission.EDIT_ROUTINGS if self == Kind.ROUTINGS else Permission.EDIT_ORDERS


KIND_LABELS = {Kind.ROUTINGS: _l("Routings"), Kind.WORK_ORDERS: _l("Work orders")}


@dataclass(frozen=True)
class Column:
    key: str
    required: bool
    aliases: tuple[str, ...]  # the first one is the Chinese header of the template
    help: LazyString

    @property
    def chinese(self) -> str:
        return self.aliases[0]


PRODUCT_ALIASES = ("产品编码", "产品", "产品代码", "物料编码", "零件号", "product_code")

COLUMNS: dict[Kind, tuple[Column, ...]] = {
    Kind.ROUTINGS: (
        Column("product", True, PRODUCT_ALIASES, _l("Product code.")),
        Column("product_name", False, ("产品名称", "品名"), _l("Name of a new product; only needed to create it.")),
        Column("family", False, ("产品族", "产品系列", "family_code"), _l("Product family code of a new product.")),
        Column("seq", True, ("工序号", "序号", "sequence"), _l("Operation number, unique per product (10, 20, 30 …).")),
        Column("operation", True, ("工序", "工序名称", "operation_name"), _l("Name of the operation.")),
        Column("work_center", True, ("工作中心", "工作中心编码", "workcenter"), _l("Work center code.")),
        Column("machines", False, ("设备", "机台", "机床", "machine"),
               _l("Eligible machines as code:setup minutes:run minutes per piece, separated by semicolons "
                  "(L02:15:2.5; L03:10:2). Empty: any machine of the work center with the row's times.")),
        Column("setup_min", False, ("准备时间", "调机时间", "setup", "setup_minutes"), _l("Setup minutes.")),
        Column("run_min", False, ("单件时间", "加工时间", "run", "run_minutes"), _l("Run minutes per piece.")),
        Column("transfer_batch", False, ("转序批量", "传递批量"), _l("Pieces passed on to the next operation at a time.")),
        Column("inspection", False, ("检验", "是否检验", "inspection_required"), _l("Inspection required: yes or no.")),
        Column("predecessors", False, ("前序", "前道工序", "紧前工序"),
               _l("Operation numbers this one waits for (10,20). Empty: the previous operation; 0: none.")),
        Column("drawing", False, ("图号",), _l("Drawing number.")),
        Column("program", False, ("程序号", "程序", "program_no"), _l("NC program number.")),
        Column("instructions", False, ("作业指导", "工艺说明", "作业说明", "说明"), _l("Work instructions.")),
    ),
    Kind.WORK_ORDERS: (
        Column("number", False, ("工单号", "工单编号", "work_order", "order_number"), _l("Work order number; generated when empty.")),
        Column("product", True, PRODUCT_ALIASES, _l("Product code.")),
        Column("quantity", True, ("数量", "工单数量", "计划数量", "qty"), _l("Pieces to make.")),
        Column("due_date", True, ("交期", "交货日期", "到期日", "due"), _l("Due date (YYYY-MM-DD).")),
        Column("release_date", False, ("下达日期", "计划下达日期", "开工日期"), _l("Earliest start (YYYY-MM-DD).")),
        Column("priority", False, ("优先级",), _l("low, normal, high or urgent (低, 普通, 高, 紧急).")),
        Column("customer", False, ("客户", "客户名称"), _l("Customer.")),
        Column("note", False, ("备注", "notes"), _l("Note.")),
    ),
}


# --- results ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """One problem: the row as the planner sees it in Excel (the header is row 1; None for the
    file as a whole), the column as written in the file, and the localized message."""

    row: int | None
    column: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class ImportResult:
    kind: Kind
    errors: list[RowError] = field(default_factory=list)
    created: list[dict[str, Any]] = field(default_factory=list)  # what will be (or was) created
    committed: bool = False

    @property
    def valid(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {"valid": self.valid, "created": self.created if self.valid else [],
                "errors": [e.to_dict() for e in self.errors]}


def _err(row: int | None, column: str, message: Any) -> RowError:
    return RowError(row, column, str(message))


# --- reading files (pure) -----------------------------------------------------------------------


class Unreadable(Exception):
    """The file cannot be read as a table at all."""

    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = message


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def decode_text(data: bytes) -> str:
    """Text of a CSV file: UTF-8 (with or without BOM), UTF-16 with BOM (Excel's "Unicode text"),
    else GB18030, the superset of the GBK that Chinese Excel writes."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8-sig", "gb18030"]
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        text = text.rstrip("\x1a")  # old DOS end-of-file marker
        if _CONTROL.search(text):
            break  # decodes, but binary control bytes: not a text file
        return text
    raise Unreadable(_l("The file is neither a CSV text file (UTF-8 or GBK) nor an Excel workbook (.xlsx)."))


def sniff_delimiter(text: str) -> str:
    """Comma, semicolon (European Excel) or tab, whichever the header line uses most."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = dict.fromkeys(",;\t", 0)
    quoted = False
    for ch in first:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _csv_rows(data: bytes) -> Iterator[list[Any]]:
    text = decode_text(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    try:
        yield from reader
    except csv.Error as exc:
        raise Unreadable(_l("The CSV file is malformed near row %(row)s.", row=reader.line_num)) from exc


def _xlsx_rows(data: bytes) -> Iterator[Sequence[Any]]:
    # openpyxl parses through defusedxml when it is installed (a hard dependency): no XML bombs.
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    unreadable = _l("The file is not a readable Excel workbook (.xlsx).")
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as exc:
        raise Unreadable(unreadable) from exc
    try:
        if not workbook.worksheets:
            return
        rows = workbook.worksheets[0].iter_rows(values_only=True, max_col=MAX_COLUMNS)
        while True:
            # The parser meets whatever the upload holds (broken XML, refused entities): any
            # failure of its own is a file the user must fix, not a server error.
            try:
                row = next(rows)
            except StopIteration:
                return
            except Exception as exc:  # noqa: BLE001
                raise Unreadable(unreadable) from exc
            yield row
    finally:
        workbook.close()


def read_cells(filename: str, data: bytes) -> Iterator[Sequence[Any]]:
    """The rows of cells of a CSV file or of an .xlsx workbook's first sheet, row 1 first.
    The content decides the format; the file name only explains a refusal."""
    if not data:
        raise Unreadable(_l("The file is empty."))
    if data.startswith(b"PK\x03\x04"):
        return _xlsx_rows(data)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise Unreadable(_l("Old Excel files (.xls) cannot be read. Save the file as .xlsx or CSV."))
    if filename.lower().endswith((".xlsx", ".xlsm")):
        raise Unreadable(_l("The file is not a readable Excel workbook (.xlsx)."))
    return _csv_rows(data)


def clean(value: Any) -> Any:
    """A cell as the checks want it: text stripped (and an export's formula guard removed),
    empty text as None, everything else as the spreadsheet typed it."""
    if isinstance(value, str):
        value = value.strip()
        if len(value) > 1 and value[0] == "'" and value[1] in "=+-@":
            value = value[1:]
        return value or None
    return value


def column_letter(index: int) -> str:
    """Excel's name of a 0-based column index (0 → A, 26 → AA)."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def normalize_header(text: str) -> str:
    """Headers compare ignoring case, width, spaces, a trailing unit in brackets and a star."""
    text = unicodedata.normalize("NFKC", text).strip().lower().rstrip("*").strip()
    text = re.sub(r"\s*\([^)]*\)\s*$", "", text).rstrip("*").strip()
    return re.sub(r"[\s\-]+", "_", text)


def _header_index(kind: Kind) -> dict[str, str]:
    index: dict[str, str] = {}
    for col in COLUMNS[kind]:
        for name in (col.key, *col.aliases):
            index[normalize_header(name)] = col.key
    return index


@dataclass
class Table:
    """An import file's rows, each cell under its column's key."""

    kind: Kind
    headers: dict[str, str]  # key → the header as written in the file
    rows: list[tuple[int, dict[str, Any]]]  # (row number in the file, key → cell)

    def column(self, key: str) -> str:
        return self.headers.get(key, key)


def to_table(kind: Kind, cells: Iterable[Sequence[Any]]) -> tuple[Table | None, list[RowError]]:
    """Match the header row to the kind's columns and collect the data rows. Header problems
    (unknown, missing, repeated columns) stop here, before any row is checked."""
    rows = iter(cells)
    header: list[Any] | None = None
    header_row = 0
    for number, raw in enumerate(rows, start=1):
        if any(clean(c) is not None for c in raw):
            header, header_row = [clean(c) for c in raw], number
            break
        if number >= MAX_SCANNED_ROWS:
            break
    if header is None:
        return None, [_err(None, "", _l("The file has no header row."))]

    index = _header_index(kind)
    errors: list[RowError] = []
    keys: dict[int, str] = {}
    headers: dict[str, str] = {}
    blank: list[int] = []
    for i, cell in enumerate(header):
        if cell is None:
            blank.append(i)
            continue
        text = str(cell)
        key = index.get(normalize_header(text))
        if key is None:
            errors.append(_err(header_row, text, _l("Unknown column. Expected columns: %(columns)s.",
                                                     columns=", ".join(c.key for c in COLUMNS[kind]))))
        elif key in headers:
            errors.append(_err(header_row, text, _l("This column appears twice (also as “%(other)s”).", other=headers[key])))
        else:
            keys[i], headers[key] = key, text
    for col in COLUMNS[kind]:
        if col.required and col.key not in headers:
            errors.append(_err(header_row, col.key, _l("This column is missing.")))
    if errors:
        return None, errors

    data: list[tuple[int, dict[str, Any]]] = []
    for number, raw in enumerate(rows, start=header_row + 1):
        values = [clean(c) for c in raw]
        if all(v is None for v in values):
            if number - header_row >= MAX_SCANNED_ROWS:
                break
            continue
        if len(data) >= MAX_ROWS:
            return None, [_err(number, "", _l("The file has more than %(max)s rows. Split it into smaller files.", max=MAX_ROWS))]
        for i in blank + list(range(len(header), len(values))):
            if i < len(values) and values[i] is not None:
                errors.append(_err(number, column_letter(i), _l("This cell is in a column without a header.")))
        data.append((number, {key: values[i] if i < len(values) else None for i, key in keys.items()}))
    if errors:
        return None, errors
    if not data:
        return None, [_err(header_row + 1, "", _l("The file has no rows to import."))]
    return Table(kind, headers, data), []


def read_file(kind: Kind, filename: str, data: bytes) -> tuple[Table | None, list[RowError]]:
    """Decode, sniff and match the columns of an uploaded file (no database needed)."""
    try:
        return to_table(kind, read_cells(filename, data))
    except Unreadable as exc:
        return None, [_err(None, "", exc.message)]


# --- cell values (pure) -------------------------------------------------------------------------


class CellError(ValueError):
    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = message


def text_of(value: Any) -> str:
    """A cell as text: codes typed as numbers in Excel (1001.0) read as "1001"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat(sep=" ")
    return str(value).strip()


def _norm(value: Any) -> str:
    return unicodedata.normalize("NFKC", text_of(value)).strip()


_THOUSANDS = re.compile(r"^\d{1,3}(,\d{3})+$")


def parse_int(value: Any) -> int | None:
    """A whole number; ``10.0`` is one, ``10.5`` is not."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise CellError(_l("Enter a whole number."))
    if isinstance(value, int):
        return value
    raw = _norm(value)
    if _THOUSANDS.match(raw):
        raw = raw.replace(",", "")
    try:
        number = Decimal(raw)
    except InvalidOperation:
        raise CellError(_l("Enter a whole number.")) from None
    if not number.is_finite() or number != number.to_integral_value():
        raise CellError(_l("Enter a whole number."))
    return int(number)


def parse_minutes_cell(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise CellError(_l("Enter a number of minutes."))
    try:
        return parse_minutes(value if isinstance(value, (int, float, Decimal)) else _norm(value))
    except ValueError:
        raise CellError(_l("Enter a number of minutes.")) from None


_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")


def parse_date(value: Any) -> dt.date | None:
    """A date cell, or text as YYYY-MM-DD, YYYY/MM/DD (or 2024年5月1日)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 1 <= value < 2958466:
        from openpyxl.utils.datetime import from_excel

        return from_excel(value).date()  # a date cell that lost its format: Excel's day number
    match = _DATE.match(_norm(value))
    if match:
        try:
            return dt.date(*(int(g) for g in match.groups()))
        except ValueError:
            pass
    raise CellError(_l("Enter a date as YYYY-MM-DD."))


_TRUE = {"yes", "y", "true", "1", "是", "√", "✓", "x", "需要"}
_FALSE = {"no", "n", "false", "0", "否", "×", "不需要", "-"}


def parse_bool(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    raw = _norm(value).lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise CellError(_l("Enter yes or no."))


PRIORITY_NAMES = {
    "low": Priority.LOW, "低": Priority.LOW,
    "normal": Priority.NORMAL, "普通": Priority.NORMAL, "中": Priority.NORMAL, "一般": Priority.NORMAL,
    "high": Priority.HIGH, "高": Priority.HIGH,
    "urgent": Priority.URGENT, "紧急": Priority.URGENT, "急": Priority.URGENT,
}


def parse_priority(value: Any) -> Priority:
    if value is None:
        return Priority.NORMAL
    raw = _norm(value).lower()
    if raw in PRIORITY_NAMES:
        return PRIORITY_NAMES[raw]
    for p in Priority:  # the label in the user's language, too
        if raw == p.label.lower():
            return p
    raise CellError(_l("Enter low, normal, high or urgent."))


_NONE = {"0", "-", "none", "无", "—"}


def parse_predecessors(value: Any) -> list[int] | None:
    """Operation numbers (``10,20``); None for the chain (empty), [] for none (``0``)."""
    if value is None:
        return None
    raw = _norm(value)
    if raw.lower() in _NONE:
        return []
    seqs: list[int] = []
    for part in re.split(r"[,;、\s]+", raw):
        if part:
            if not part.isdigit():
                raise CellError(_l("List operation numbers such as 10,20."))
            seqs.append(int(part))
    return seqs


@dataclass(frozen=True)
class MachineEntry:
    code: str
    setup: Decimal | None
    run: Decimal | None


def parse_machines(value: Any) -> list[MachineEntry]:
    """``L02:15:2.5; L03:10:2`` — code, setup minutes, run minutes; missing times are the row's."""
    if value is None:
        return []
    raw = unicodedata.normalize("NFKC", text_of(value))  # full-width ；and ：as well
    out: list[MachineEntry] = []
    for chunk in re.split(r"[;|\n]+", raw):
        # A comma separates machines only before a code (L02:15:2,5 keeps its decimal comma).
        for entry in re.split(r",\s*(?=[^\d\s])", chunk):
            entry = entry.strip()
            if not entry:
                continue
            parts = [p.strip() for p in entry.split(":")]
            if len(parts) > 3 or not parts[0]:
                raise CellError(_l("Write machines as code:setup:run, separated by semicolons (L02:15:2.5; L03:10:2)."))
            times: list[Decimal | None] = []
            for part in parts[1:]:
                if not part:
                    times.append(None)
                    continue
                try:
                    times.append(parse_minutes(part))
                except ValueError:
                    raise CellError(_l("Machine %(code)s: enter times as numbers of minutes.", code=parts[0])) from None
            times += [None] * (2 - len(times))
            out.append(MachineEntry(parts[0], times[0], times[1]))
    return out


# --- checking rows against the database ---------------------------------------------------------


class _RowErrors:
    """The errors of one row; the first problem found in a column wins (a cell that is not a
    number needs no second message from the services' validators)."""

    def __init__(self, table: Table, row: int, sink: list[RowError]) -> None:
        self.table, self.row, self.sink = table, row, sink
        self.columns: set[str] = set()

    def add(self, key: str, message: Any) -> None:
        self.columns.add(key)
        self.sink.append(_err(self.row, self.table.column(key), message))

    def add_fields(self, fields: dict[str, list], mapping: dict[str, str], prefix: dict[str, str] | None = None) -> None:
        for field_key, messages in fields.items():
            key = mapping.get(field_key)
            if key is None:
                key = next((v for k, v in mapping.items() if k.endswith("*") and field_key.startswith(k[:-1])), field_key)
            if key in self.columns:
                continue
            label = (prefix or {}).get(field_key)
            for message in messages:
                self.sink.append(_err(self.row, self.table.column(key), f"{label}: {message}" if label else message))
            self.columns.add(key)

    def cell(self, key: str, parse: Any, value: Any, default: Any = None) -> Any:
        try:
            return parse(value)
        except CellError as exc:
            self.add(key, exc.message)
            return default


class _Codes:
    """Look-up by code: exact, else ignoring case when that is unambiguous."""

    def __init__(self, items: Iterable[Any]) -> None:
        self.exact = {i.code: i for i in items}
        folded: dict[str, list[Any]] = {}
        for i in self.exact.values():
            folded.setdefault(i.code.casefold(), []).append(i)
        self.folded = {k: v[0] for k, v in folded.items() if len(v) == 1}

    def get(self, code: str) -> Any:
        return self.exact.get(code) or self.folded.get(code.casefold())


def _products(s: Session, codes: set[str]) -> _Codes:
    found: list[Product] = []
    wanted = sorted(codes | {c.upper() for c in codes} | {c.lower() for c in codes})
    for i in range(0, len(wanted), 500):
        found += s.scalars(select(Product).where(Product.code.in_(wanted[i:i + 500]))).all()
    return _Codes(found)


OPERATION_FIELDS = {
    "name": "operation", "work_center_id": "work_center", "setup_minutes": "setup_min", "run_minutes": "run_min",
    "machines": "machines", "machine-*": "machines", "transfer_batch": "transfer_batch", "drawing": "drawing",
    "program_no": "program", "predecessors": "predecessors", "seq": "seq", "instructions": "instructions",
}
ORDER_FIELDS = {
    "number": "number", "product": "product", "quantity": "quantity", "due_date": "due_date",
    "release_date": "release_date", "priority": "priority", "customer": "customer", "note": "note",
}


@dataclass
class _Op:
    row: int
    seq: int | None
    data: OperationInput


@dataclass
class _RoutingPlan:
    code: str
    first_row: int
    product: Product | None = None
    name: str | None = None
    name_row: int | None = None
    family: ProductFamily | None = None
    family_row: int | None = None
    family_error: bool = False
    ops: list[_Op] = field(default_factory=list)


@dataclass
class _OrderPlan:
    row: int
    product_code: str
    data: order_services.WorkOrderInput


@dataclass
class Plan:
    kind: Kind
    errors: list[RowError] = field(default_factory=list)
    routings: list[_RoutingPlan] = field(default_factory=list)
    orders: list[_OrderPlan] = field(default_factory=list)


def check(s: Session, table: Table, release: bool) -> Plan:
    """Every problem of every row, or a plan of what to create."""
    plan = Plan(table.kind)
    if table.kind == Kind.ROUTINGS:
        _check_routings(s, table, plan)
    else:
        _check_orders(s, table, plan, release)
    plan.errors.sort(key=lambda e: (e.row or 0))
    return plan


def _check_routings(s: Session, table: Table, plan: Plan) -> None:
    centers = _Codes(s.scalars(select(WorkCenter)).all())
    machines = _Codes(s.scalars(select(Machine)).all())
    families = _Codes(s.scalars(select(ProductFamily)).all())
    products = _products(s, {text_of(r.get("product")) for _, r in table.rows} - {""})
    groups: dict[str, _RoutingPlan] = {}
    seen_seq: dict[tuple[str, int], int] = {}

    for number, row in table.rows:
        errors = _RowErrors(table, number, plan.errors)
        code = text_of(row.get("product"))
        if not code:
            errors.add("product", _l("This field is required."))
            continue
        product = products.get(code)
        key = product.code if product else code
        group = groups.get(key)
        if group is None:
            group = groups[key] = _RoutingPlan(code=key, first_row=number, product=product)
        _collect_product_fields(group, row, errors, families)

        seq = errors.cell("seq", parse_int, row.get("seq"))
        if seq is None and "seq" not in errors.columns:
            errors.add("seq", _l("This field is required."))
        elif seq is not None and not 0 < seq <= MAX_SEQ:
            errors.add("seq", _l("Enter a number between 1 and %(max)s.", max=MAX_SEQ))
            seq = None
        elif seq is not None:
            first = seen_seq.setdefault((key, seq), number)
            if first != number:
                errors.add("seq", _l("Operation %(seq)s of product %(code)s is already in row %(row)s.",
                                     seq=seq, code=key, row=first))
                seq = None

        wc_code = text_of(row.get("work_center"))
        center = centers.get(wc_code) if wc_code else None
        if wc_code and center is None:
            errors.add("work_center", _l("Unknown work center %(code)s.", code=wc_code))
        setup = errors.cell("setup_min", parse_minutes_cell, row.get("setup_min"), Decimal(0))
        run = errors.cell("run_min", parse_minutes_cell, row.get("run_min"), Decimal(0))

        entries = errors.cell("machines", parse_machines, row.get("machines"), [])
        chosen: list[MachineTime] = []
        labels: dict[str, str] = {}
        unknown = []
        for entry in entries:
            machine = machines.get(entry.code)
            if machine is None:
                unknown.append(entry.code)
                continue
            chosen.append(MachineTime(machine.id, setup if entry.setup is None else entry.setup,
                                      run if entry.run is None else entry.run))
            labels[f"machine-{machine.id}-setup_minutes"] = labels[f"machine-{machine.id}-run_minutes"] = machine.code
        if unknown:
            errors.add("machines", _l("Unknown machine %(codes)s.", codes=", ".join(unknown)))

        predecessors = errors.cell("predecessors", parse_predecessors, row.get("predecessors"))
        data = OperationInput(
            name=text_of(row.get("operation")),
            work_center_id=center.id if center else None,
            setup_minutes=setup,
            run_minutes=run,
            machines=chosen,
            instructions=text_of(row.get("instructions")) or None,
            transfer_batch=errors.cell("transfer_batch", parse_int, row.get("transfer_batch")),
            inspection_required=errors.cell("inspection", parse_bool, row.get("inspection"), False),
            drawing=text_of(row.get("drawing")) or None,
            program_no=text_of(row.get("program")) or None,
            follows_previous=predecessors is None,
            predecessors=predecessors or [],
        )
        fields = validate_operation(data)
        if not fields:
            try:
                operation_services.validate_input(s, data)
            except ValidationError as exc:
                fields = exc.fields
        errors.add_fields(fields, OPERATION_FIELDS, labels)
        group.ops.append(_Op(number, seq, data))

    for group in groups.values():
        _check_product(table, group, plan.errors)
        _check_precedence(table, group, plan.errors)
    plan.routings = list(groups.values())


def _collect_product_fields(group: _RoutingPlan, row: dict[str, Any], errors: _RowErrors, families: _Codes) -> None:
    """A new product's name and family may be on any of its rows, but must agree between them.
    For a product that exists they are not needed and not checked."""
    if group.product is not None:
        return
    name = text_of(row.get("product_name"))
    if name:
        if group.name is None:
            group.name, group.name_row = name, errors.row
        elif name != group.name:
            errors.add("product_name", _l("Differs from the name in row %(row)s.", row=group.name_row))
    family_code = text_of(row.get("family"))
    if family_code:
        family = families.get(family_code)
        if family is None:
            errors.add("family", _l("Unknown product family %(code)s.", code=family_code))
            group.family_error = True
        elif group.family is None:
            group.family, group.family_row = family, errors.row
        elif family.id != group.family.id:
            errors.add("family", _l("Differs from the family in row %(row)s.", row=group.family_row))


def _check_product(table: Table, group: _RoutingPlan, sink: list[RowError]) -> None:
    if group.product is not None:
        return
    row = group.first_row
    if len(group.code) > MAX_CODE:
        sink.append(_err(row, table.column("product"), _l("At most %(n)s characters.", n=MAX_CODE)))
    if not group.name:
        sink.append(_err(row, table.column("product_name"), _l(
            "Product %(code)s does not exist. Give its name and family to create it.", code=group.code)))
    elif len(group.name) > MAX_PRODUCT_NAME:
        sink.append(_err(group.name_row, table.column("product_name"), _l("At most %(n)s characters.", n=MAX_PRODUCT_NAME)))
    if group.family is None and not group.family_error:
        sink.append(_err(row, table.column("family"), _l(
            "Product %(code)s does not exist. Give its product family to create it.", code=group.code)))


def _check_precedence(table: Table, group: _RoutingPlan, sink: list[RowError]) -> None:
    """Predecessors name operations of the same product, and the graph has no cycle."""
    column = table.column("predecessors")
    known = {op.seq for op in group.ops if op.seq is not None}
    nodes = []
    for op in group.ops:
        if op.seq is None:
            continue
        valid = []
        for p in op.data.predecessors:
            if p == op.seq:
                sink.append(_err(op.row, column, _l("An operation cannot precede itself.")))
            elif p not in known:
                sink.append(_err(op.row, column, _l("Product %(code)s has no operation %(seq)s.", code=group.code, seq=p)))
            else:
                valid.append(p)
        nodes.append(graph.Node(op.seq, op.seq, op.data.follows_previous, tuple(valid)))
    cycle = graph.find_cycle([n.key for n in nodes], graph.effective_edges(nodes))
    if cycle:
        rows = {op.seq: op.row for op in group.ops}
        path = " → ".join(str(k) for k in cycle)
        for seq in sorted(set(cycle)):
            sink.append(_err(rows[seq], column, _l("The predecessors form a cycle: %(ops)s.", ops=path)))


def _check_orders(s: Session, table: Table, plan: Plan, release: bool) -> None:
    products = _products(s, {text_of(r.get("product")) for _, r in table.rows} - {""})
    today = plant_today()
    in_force: dict[int, bool] = {}
    numbers: dict[str, int] = {}
    for row_no, row in table.rows:
        errors = _RowErrors(table, row_no, plan.errors)
        number = text_of(row.get("number")) or None
        if number is not None:
            first = numbers.setdefault(number, row_no)
            if first != row_no:
                errors.add("number", _l("Work order %(number)s is already in row %(row)s.", number=number, row=first))
        code = text_of(row.get("product"))
        product = products.get(code) if code else None
        if code and product is None:
            errors.add("product", _l("Unknown product %(code)s.", code=code))
        data = order_services.WorkOrderInput(
            product_id=product.id if product else None,
            quantity=errors.cell("quantity", parse_int, row.get("quantity")),
            due_date=errors.cell("due_date", parse_date, row.get("due_date")),
            number=number,
            release_date=errors.cell("release_date", parse_date, row.get("release_date")),
            priority=errors.cell("priority", parse_priority, row.get("priority"), Priority.NORMAL),
            customer=text_of(row.get("customer")) or None,
            note=text_of(row.get("note")) or None,
        )
        errors.add_fields(order_services.validate(s, data), ORDER_FIELDS)
        if release and product is not None and "product" not in errors.columns:
            if product.id not in in_force:
                in_force[product.id] = routing_services.routing_in_force(s, product.id, today) is not None
            if not in_force[product.id]:
                errors.add("product", _l("Product %(code)s has no released routing in force, so the order cannot be released.",
                                         code=product.code))
        plan.orders.append(_OrderPlan(row_no, product.code if product else code, data))


# --- what will be created -----------------------------------------------------------------------


def _summary(s: Session, plan: Plan, release: bool) -> list[dict[str, Any]]:
    if plan.kind == Kind.ROUTINGS:
        out = []
        for g in plan.routings:
            last = 0
            if g.product is not None:
                last = s.scalar(select(func.max(Routing.version_no)).where(Routing.product_id == g.product.id)) or 0
            out.append({
                "product": g.code, "product_name": g.product.name if g.product else g.name,
                "new_product": g.product is None, "version_no": last + 1, "operations": len(g.ops),
                "status": (RoutingStatus.RELEASED if release else RoutingStatus.DRAFT).value, "routing_id": None,
            })
        return out
    return [_order_summary(o.data, o.product_code, None, release) for o in plan.orders]


def _order_summary(data: order_services.WorkOrderInput, product: str, order: WorkOrder | None, release: bool) -> dict[str, Any]:
    return {
        "number": order.number if order else (data.number or None), "product": product, "quantity": data.quantity,
        "due_date": data.due_date.isoformat() if data.due_date else None,
        "release_date": data.release_date.isoformat() if data.release_date else None,
        "priority": data.priority.value, "customer": data.customer,
        "status": order.status.value if order else ("released" if release else "draft"),
        "id": order.id if order else None,
    }


# --- writing ------------------------------------------------------------------------------------


class _Rollback(Exception):
    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("import invalid")
        self.errors = errors


def _write(s: Session, table: Table, plan: Plan, release: bool, filename: str) -> list[dict[str, Any]]:
    if plan.kind == Kind.ROUTINGS:
        return [_write_routing(s, table, g, release, filename) for g in plan.routings]
    created: dict[int, dict[str, Any]] = {}
    # Orders with their own number first, so a generated number never takes one the file names.
    for item in sorted(plan.orders, key=lambda o: (o.data.number is None, o.row)):
        try:
            order_id = order_services.create_in(s, item.data)
            if release:
                order_services.release_in(s, order_id)
        except DomainError as exc:
            raise _Rollback(_domain_errors(table, item.row, exc, ORDER_FIELDS)) from None
        created[item.row] = _order_summary(item.data, item.product_code, s.get(WorkOrder, order_id), release)
    return [created[row] for row in sorted(created)]


def _write_routing(s: Session, table: Table, group: _RoutingPlan, release: bool, filename: str) -> dict[str, Any]:
    product = group.product
    if product is None:
        assert group.name and group.family  # checked
        product = Product(code=group.code, name=group.name, family_id=group.family.id)
        s.add(product)
        s.flush()
    try:
        routing_id = routing_services.create_version_in(
            s, product.id, copy=False, note=_("Imported from %(file)s.", file=filename))
        routing = s.get(Routing, routing_id)
        assert routing is not None
        by_seq: dict[int, RoutingOperation] = {}
        for op in sorted(group.ops, key=lambda o: o.seq or 0):
            d = op.data
            row = RoutingOperation(
                seq=op.seq, name=d.name.strip(), instructions=d.instructions, work_center_id=d.work_center_id,
                setup_minutes=d.setup_minutes, run_minutes=d.run_minutes, transfer_batch=d.transfer_batch,
                inspection_required=d.inspection_required, drawing=d.drawing, program_no=d.program_no,
                follows_previous=d.follows_previous,
                machines=[RoutingOperationMachine(machine_id=m.machine_id, setup_minutes=m.setup_minutes,
                                                  run_minutes=m.run_minutes) for m in d.machines],
            )
            routing.operations.append(row)
            by_seq[op.seq or 0] = row
        s.flush()
        for op in group.ops:
            for p in sorted(set(op.data.predecessors)):
                routing.edges.append(RoutingEdge(routing_id=routing.id, predecessor_id=by_seq[p].id,
                                                 successor_id=by_seq[op.seq or 0].id))
        s.flush()
        if release:
            routing_services.release_in(s, routing_id)
    except DomainError as exc:
        raise _Rollback(_domain_errors(table, group.first_row, exc, OPERATION_FIELDS)) from None
    return {
        "product": product.code, "product_name": product.name, "new_product": group.product is None,
        "version_no": routing.version_no, "operations": len(group.ops), "status": routing.status.value,
        "routing_id": routing.id,
    }


def _domain_errors(table: Table, row: int, exc: DomainError, mapping: dict[str, str]) -> list[RowError]:
    """A service refused a row that passed the checks (someone changed the data meanwhile)."""
    if not exc.fields:
        return [_err(row, "", exc.text())]
    sink: list[RowError] = []
    _RowErrors(table, row, sink).add_fields(exc.fields, mapping)
    return sink


# --- the use cases ------------------------------------------------------------------------------


def preview(kind: Kind, filename: str, data: bytes, release: bool = False) -> ImportResult:
    """Check a file and list what it would create, saving nothing."""
    table, errors = read_file(kind, filename, data)
    if table is None:
        return ImportResult(kind, errors=errors)
    plan = check(session(), table, release)
    if plan.errors:
        return ImportResult(kind, errors=plan.errors)
    return ImportResult(kind, created=_summary(session(), plan, release))


def run(kind: Kind, filename: str, data: bytes, release: bool = False) -> ImportResult:
    """Check a file again and create everything in it in one transaction, or nothing at all."""
    table, errors = read_file(kind, filename, data)
    if table is None:
        return ImportResult(kind, errors=errors)
    # The audit log says where the changes came from.
    name = filename.replace("\\", "/").rsplit("/", 1)[-1] or "?"
    try:
        with transaction() as s, audit.reason(_("Imported from %(file)s.", file=name)):
            plan = check(s, table, release)
            if plan.errors:
                raise _Rollback(plan.errors)
            created = _write(s, table, plan, release, name)
    except _Rollback as exc:
        return ImportResult(kind, errors=exc.errors)
    except IntegrityError:
        # A concurrent change slipped between the checks and the writes (e.g. the same product
        # created twice at once): nothing was saved; checking again names the row.
        return ImportResult(kind, errors=[_err(None, "", _l(
            "The data changed while importing, so nothing was saved. Check the file again."))])
    return ImportResult(kind, created=created, committed=True)


# --- templates to download ----------------------------------------------------------------------


def template_rows(s: Session, kind: Kind, chinese: bool) -> tuple[list[str], list[list[Any]]]:
    """The header row and a few realistic example rows, using the plant's own codes where it has
    them so that the untouched template checks clean."""
    columns = COLUMNS[kind]
    headers = [c.chinese if chinese else c.key for c in columns]
    today = plant_today()
    if kind == Kind.ROUTINGS:
        centers = [wc for wc in s.scalars(select(WorkCenter).order_by(WorkCenter.code))
                   if any(m.status != MachineStatus.RETIRED for m in wc.machines)]
        family = s.scalar(select(ProductFamily.code).order_by(ProductFamily.code).limit(1)) or "FA"
        first = centers[0] if centers else None
        second = centers[1] if len(centers) > 1 else first
        wc1 = first.code if first else "SAW"
        wc2 = second.code if second else "MILL"
        usable = [m.code for m in first.machines if m.status != MachineStatus.RETIRED] if first else ["L02", "L03"]
        machines = "; ".join(f"{code}:{setup}:{run}" for code, setup, run in zip(usable[:2], (30, 15), ("4", "2.5"), strict=False))
        code = "SH-2040"
        existing = s.scalar(select(Product.code).where(Product.code == code))
        rows = [
            {"product": code, "product_name": "传动轴 Ø40" if chinese else "Drive shaft Ø40", "family": family, "seq": 10,
             "operation": "下料" if chinese else "Saw blank", "work_center": wc1, "machines": "", "setup_min": 10,
             "run_min": 1.5, "transfer_batch": "", "inspection": "否" if chinese else "no", "predecessors": "",
             "drawing": "SH-2040-01", "program": "", "instructions": ""},
            {"product": code, "product_name": "", "family": "", "seq": 20, "operation": "车外圆" if chinese else "Turn OD",
             "work_center": wc1, "machines": machines, "setup_min": "", "run_min": "", "transfer_batch": 10,
             "inspection": "否" if chinese else "no", "predecessors": 10, "drawing": "SH-2040-01", "program": "O1020",
             "instructions": ""},
            {"product": code, "product_name": "", "family": "", "seq": 30, "operation": "铣键槽" if chinese else "Mill keyway",
             "work_center": wc2, "machines": "", "setup_min": 20, "run_min": 3.5, "transfer_batch": "",
             "inspection": "是" if chinese else "yes", "predecessors": 20, "drawing": "SH-2040-01", "program": "O3005",
             "instructions": "铣后去毛刺" if chinese else "Deburr after milling"},
        ]
        if existing:
            rows[0]["product_name"] = rows[0]["family"] = ""
    else:
        product = None
        for p in s.scalars(select(Product).where(Product.active.is_(True)).order_by(Product.code)):
            if routing_services.routing_in_force(s, p.id, today) is not None:
                product = p.code
                break
        product = product or s.scalar(select(Product.code).where(Product.active.is_(True)).order_by(Product.code).limit(1)) or "P-100"
        rows = [
            {"number": "", "product": product, "quantity": 50, "due_date": today + dt.timedelta(days=14),
             "release_date": today + dt.timedelta(days=2), "priority": "普通" if chinese else "normal",
             "customer": "华东泵业" if chinese else "East China Pumps", "note": ""},
            {"number": f"IMP-{today:%y%m%d}-01", "product": product, "quantity": 120,
             "due_date": today + dt.timedelta(days=21), "release_date": "", "priority": "高" if chinese else "high",
             "customer": "宁波阀门" if chinese else "Ningbo Valves", "note": "用库存料" if chinese else "Material from stock"},
        ]
    return headers, [[r[c.key] for c in columns] for r in rows]


def neutralize(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def write_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 with a BOM, so that Excel shows Chinese text correctly."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralize(h) for h in headers])
    for row in rows:
        writer.writerow([neutralize(v.isoformat() if isinstance(v, dt.date) else v) for v in row])
    return out.getvalue().encode("utf-8-sig")


def write_xlsx(kind: Kind, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """The example sheet first (the one imported), and a sheet that explains the columns."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = str(kind.label)[:31]
    sheet.append([neutralize(h) for h in headers])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([neutralize(v) if v != "" else None for v in row])
    for column in sheet.iter_cols(min_row=2):
        for cell in column:
            if isinstance(cell.value, dt.date):
                cell.number_format = "yyyy-mm-dd"
    for i, header in enumerate(headers):
        sheet.column_dimensions[column_letter(i)].width = max(12, len(str(header)) + 4)
    sheet.freeze_panes = "A2"
    help_sheet = workbook.create_sheet(str(_l("Columns"))[:31])
    help_sheet.append([_("Column"), _("Also accepted"), _("Required"), _("Meaning")])
    for cell in help_sheet[1]:
        cell.font = Font(bold=True)
    for col in COLUMNS[kind]:
        help_sheet.append([col.key, ", ".join(col.aliases), _("yes") if col.required else "", str(col.help)])
    for letter, width in zip("ABCD", (16, 36, 10, 90), strict=True):
        help_sheet.column_dimensions[letter].width = width
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def template_file(kind: Kind, fmt: str, chinese: bool) -> bytes:
    headers, rows = template_rows(session(), kind, chinese)
    return write_csv(headers, rows) if fmt == "csv" else write_xlsx(kind, headers, rows)
