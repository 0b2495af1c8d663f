"""Reading an uploaded file (no database needed): bytes → rows of cells (CSV in UTF-8, UTF-16,
GBK/GB18030 with any usual delimiter, or an .xlsx workbook's first sheet) → a table whose cells
sit under the kind's column keys."""
from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from mes.imports.columns import COLUMNS, Kind
from mes.imports.results import RowError, row_error

MAX_ROWS = 5000
MAX_COLUMNS = 100
# Rows read before giving up on a sheet padded with empty (formatted) rows.
MAX_SCANNED_ROWS = 50_000


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
        return None, [row_error(None, "", _l("The file has no header row."))]

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
            errors.append(row_error(header_row, text, _l("Unknown column. Expected columns: %(columns)s.",
                                                          columns=", ".join(c.key for c in COLUMNS[kind]))))
        elif key in headers:
            errors.append(row_error(header_row, text, _l("This column appears twice (also as “%(other)s”).", other=headers[key])))
        else:
            keys[i], headers[key] = key, text
    for col in COLUMNS[kind]:
        if col.required and col.key not in headers:
            errors.append(row_error(header_row, col.key, _l("This column is missing.")))
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
            return None, [row_error(number, "", _l("The file has more than %(max)s rows. Split it into smaller files.", max=MAX_ROWS))]
        for i in blank + list(range(len(header), len(values))):
            if i < len(values) and values[i] is not None:
                errors.append(row_error(number, column_letter(i), _l("This cell is in a column without a header.")))
        data.append((number, {key: values[i] if i < len(values) else None for i, key in keys.items()}))
    if errors:
        return None, errors
    if not data:
        return None, [row_error(header_row + 1, "", _l("The file has no rows to import."))]
    return Table(kind, headers, data), []


def read_file(kind: Kind, filename: str, data: bytes) -> tuple[Table | None, list[RowError]]:
    """Decode, sniff and match the columns of an uploaded file (no database needed)."""
    try:
        return to_table(kind, read_cells(filename, data))
    except Unreadable as exc:
        return None, [row_error(None, "", exc.message)]
