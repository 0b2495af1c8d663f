"""Reading an uploaded file (no database needed): bytes → rows of cells (CSV in UTF-8, UTF-16,
GBK/GB18030 with any usual delimiter, or an .xlsx workbook's first sheet) → a table whose cells
sit under the kind's column keys."""
from __future__ import annotations

import csv
import io
import re
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from xml.parsers import expat

from flask_babel import lazy_gettext as _l
from openpyxl import load_workbook

from mes.core.errors import ValidationError
from mes.imports.columns import COLUMNS, Kind
from mes.imports.results import RowError, row_error

MAX_ROWS = 5000
MAX_COLUMNS = 100
# Rows read before giving up on a sheet padded with empty (formatted) rows.
MAX_SCANNED_ROWS = 50_000
MAX_CELL_CHARS = 10_000

# What an uploaded workbook may unpack to. A 1 MB upload can hold a gigabyte of XML, and openpyxl
# keeps whole shared-string tables, style sheets and every row it has not finished in memory: the
# archive and its XML are checked, streaming and with bounded memory, before openpyxl sees them.
MAX_UNPACKED_BYTES = 50 * 1024 * 1024  # all parts together, as declared and as actually unpacked
MAX_PARTS = 1000
MAX_RATIO = 200  # unpacked / packed size of one part ...
RATIO_FROM_BYTES = 1024 * 1024  # ... checked for parts that unpack to more than this
MAX_ROW_CELLS = 16_384  # Excel's own column limit
MAX_ROW_ELEMENTS = 100_000  # XML elements inside one row or one shared string
MAX_PART_ELEMENTS = 500_000  # XML elements of one part outside rows and shared strings
MAX_XML_DEPTH = 64
_CHUNK = 64 * 1024


class UploadRefused(ValidationError):
    """A file refused before it is read through: it would unpack or parse beyond the limits that
    keep the server's memory bounded. Raised rather than listed among the rows' problems, so that
    the request ends in a 4xx whoever calls."""

    def __init__(self, message: Any, cell: tuple[int | None, str] = (None, ""), **params: Any) -> None:
        super().__init__(message, **params)
        self.row, self.column = cell  # where in the file, when known

    def row_error(self) -> RowError:
        return RowError(self.row, self.column, self.text())


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


def _bounded(row: int, cells: Sequence[Any]) -> Sequence[Any]:
    """A row within the column and cell-length limits; refused (naming the cell) otherwise."""
    for i, value in enumerate(cells):
        if value is None or value == "":
            continue
        if i >= MAX_COLUMNS:
            raise UploadRefused(_l("Row %(row)s has a value in column %(column)s; a file may have at most %(max)s columns."),
                                (row, column_letter(i)), row=row, column=column_letter(i), max=MAX_COLUMNS)
        if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
            raise UploadRefused(_l("The cell in row %(row)s, column %(column)s holds more than %(max)s characters."),
                                (row, column_letter(i)), row=row, column=column_letter(i), max=MAX_CELL_CHARS)
    return cells[:MAX_COLUMNS]


def _csv_rows(data: bytes) -> Iterator[Sequence[Any]]:
    text = decode_text(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    try:
        for number, row in enumerate(reader, start=1):
            yield _bounded(number, row)
    except csv.Error as exc:
        raise Unreadable(_l("The CSV file is malformed near row %(row)s.", row=reader.line_num)) from exc


_UNREADABLE_XLSX = _l("The file is not a readable Excel workbook (.xlsx).")
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")  # a zip member's local file header


def _check_workbook(data: bytes) -> None:
    """Unpack every part of the archive as a stream, counting what it really unpacks to (a
    part's declared size can lie), and scan its XML for what openpyxl would have to hold in
    memory. Refuses the file with UploadRefused, or Unreadable when it is damaged."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError, struct.error) as exc:
        raise Unreadable(_UNREADABLE_XLSX) from exc
    if len(parts) > MAX_PARTS:
        raise UploadRefused(_l("The workbook holds more than %(max)s parts."), max=MAX_PARTS)
    too_large = UploadRefused(_l("The workbook unpacks to more than %(max)s MB. Save only the sheet to import, "
                                 "or split the file."), max=MAX_UNPACKED_BYTES // (1024 * 1024))
    if sum(p.file_size for p in parts) > MAX_UNPACKED_BYTES:
        raise too_large
    for part in parts:
        if part.file_size > RATIO_FROM_BYTES and part.file_size > MAX_RATIO * max(part.compress_size, 1):
            raise UploadRefused(_l("The workbook is packed unusually tightly (a part unpacks to %(ratio)s times its "
                                   "size) and is refused as a possible compression bomb."),
                                ratio=part.file_size // max(part.compress_size, 1))
    budget = MAX_UNPACKED_BYTES
    for part in parts:
        # Every part is scanned as XML (openpyxl finds its parts through the package's own
        # index, whatever they are called) until it shows it is not: the first byte after any
        # whitespace or byte order mark is not "<".
        scanner: _XmlScanner | None = _XmlScanner()
        sniffing = True
        for chunk in _unpack(data, part, budget, too_large):
            budget -= len(chunk)
            if sniffing:
                first = chunk.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
                if first:
                    sniffing = False
                    if first not in (b"<", b"\xff", b"\xfe"):
                        scanner = None
            if scanner is not None:
                scanner = scanner.feed(chunk)
        if scanner is not None:
            scanner.close()


def _unpack(data: bytes, part: zipfile.ZipInfo, budget: int, too_large: UploadRefused) -> Iterator[bytes]:
    """One part's bytes as actually unpacked, in bounded chunks; stops past its declared size
    or past ``budget``, whatever the zip headers claim."""
    if part.flag_bits & 0x1 or part.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise Unreadable(_UNREADABLE_XLSX)  # encrypted, or a compression Excel never writes
    header = data[part.header_offset:part.header_offset + _LOCAL_HEADER.size]
    if len(header) < _LOCAL_HEADER.size or not header.startswith(b"PK\x03\x04"):
        raise Unreadable(_UNREADABLE_XLSX)
    fields = _LOCAL_HEADER.unpack(header)
    start = part.header_offset + _LOCAL_HEADER.size + fields[9] + fields[10]
    packed = memoryview(data)[start:start + part.compress_size]
    inflater = zlib.decompressobj(-zlib.MAX_WBITS) if part.compress_type == zipfile.ZIP_DEFLATED else None
    produced, crc, offset, tail = 0, 0, 0, b""
    while True:
        if inflater is None:
            chunk = bytes(packed[offset:offset + _CHUNK])
            offset += len(chunk)
            done = offset >= len(packed)
        else:
            source = tail or packed[offset:offset + _CHUNK]
            if not tail:
                offset += len(source)
            try:
                chunk = inflater.decompress(source, _CHUNK)
            except zlib.error as exc:
                raise Unreadable(_UNREADABLE_XLSX) from exc
            tail = inflater.unconsumed_tail
            done = inflater.eof or (offset >= len(packed) and not tail and not chunk)
        produced += len(chunk)
        if produced > part.file_size:
            raise UploadRefused(_l("The workbook's parts unpack to more than its index says; it is refused."))
        if produced > budget:
            raise too_large
        crc = zlib.crc32(chunk, crc)
        if chunk:
            yield chunk
        if done:
            break
    if produced != part.file_size or crc != part.CRC or (inflater is not None and not inflater.eof):
        raise Unreadable(_UNREADABLE_XLSX)


class _XmlScanner:
    """Streams one XML part through expat and refuses what openpyxl could not hold in bounded
    memory: over-long cells and shared strings, rows with too many cells, too many elements,
    deep nesting. Keeps only counters. A part that is not well-formed stops the scan there: the
    parser behind openpyxl stops at the same place."""

    def __init__(self) -> None:
        self.parser = expat.ParserCreate(namespace_separator="}")
        self.parser.buffer_text = True
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.parser.CharacterDataHandler = self._text
        self.parser.EntityDeclHandler = self._entity
        self.depth = 0
        self.elements = 0  # outside rows and shared strings: openpyxl may keep all of them
        self.container: str | None = None  # "row" or "si" while inside one
        self.container_depth = 0
        self.inner = 0
        self.row = 0
        self.cells = 0
        self.column = 0
        self.in_cell = False
        self.chars = 0

    def feed(self, chunk: bytes) -> _XmlScanner | None:
        try:
            self.parser.Parse(chunk, False)
        except (expat.ExpatError, LookupError, ValueError):  # not well-formed, or an unknown encoding
            return None
        return self

    def close(self) -> None:
        try:
            self.parser.Parse(b"", True)
        except (expat.ExpatError, LookupError, ValueError):
            pass

    def _entity(self, *args: Any) -> None:
        raise Unreadable(_UNREADABLE_XLSX)  # entity declarations: what defusedxml refuses too

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        self.depth += 1
        if self.depth > MAX_XML_DEPTH:
            raise self._complex()
        tag = name.rpartition("}")[2]
        if self.container is None:
            self.elements += 1
            if self.elements > MAX_PART_ELEMENTS:
                raise self._complex()
            if tag in ("row", "si"):
                self.container, self.container_depth, self.inner, self.chars = tag, self.depth, 0, 0
                if tag == "row":
                    self.row = _number(attrs.get("r"), self.row + 1)
                    self.cells = self.column = 0
            return
        self.inner += 1
        if self.inner > MAX_ROW_ELEMENTS:
            raise self._crowded()
        if self.container == "row" and tag == "c":
            self.cells += 1
            self.column = _column_number(attrs.get("r"), self.column + 1)
            if self.cells > MAX_ROW_CELLS or self.column > MAX_ROW_CELLS:
                raise self._crowded()
            self.in_cell, self.chars = True, 0

    def _end(self, name: str) -> None:
        if self.container == "row" and self.in_cell and self.depth == self.container_depth + 1:
            self.in_cell = False
        if self.container is not None and self.depth == self.container_depth:
            self.container, self.in_cell = None, False
        self.depth -= 1

    def _text(self, text: str) -> None:
        if self.container == "si" or self.in_cell:
            self.chars += len(text)
            if self.chars <= MAX_CELL_CHARS:
                return
            if self.container == "si":
                raise UploadRefused(_l("The workbook holds a text of more than %(max)s characters; "
                                       "a cell may hold at most %(max)s."), max=MAX_CELL_CHARS)
            column = column_letter(self.column - 1)
            raise UploadRefused(_l("The cell in row %(row)s, column %(column)s holds more than %(max)s characters."),
                                (self.row, column), row=self.row, column=column, max=MAX_CELL_CHARS)

    def _crowded(self) -> UploadRefused:
        if self.container == "row":
            return UploadRefused(_l("Row %(row)s of the workbook holds more than %(max)s cells."), (self.row, ""),
                                 row=self.row, max=MAX_ROW_CELLS)
        return self._complex()

    def _complex(self) -> UploadRefused:
        return UploadRefused(_l("The workbook is too complex to read (more than %(max)s elements in one part)."),
                             max=MAX_PART_ELEMENTS)


def _number(text: str | None, default: int) -> int:
    return int(text) if text and text.isdigit() and len(text) < 10 else default


def _column_number(reference: str | None, default: int) -> int:
    """The 1-based column of a cell reference such as "AB12"."""
    letters = (reference or "").rstrip("0123456789$").lstrip("$").upper()
    if not letters or len(letters) > 3 or not letters.isalpha() or not letters.isascii():
        return default
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


def _xlsx_rows(data: bytes) -> Iterator[Sequence[Any]]:
    # openpyxl parses through defusedxml when it is installed (a hard dependency): no XML bombs.
    # Sizes are its blind spot: those are checked first.
    _check_workbook(data)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001  (broken XML in any part, as while reading rows below)
        raise Unreadable(_UNREADABLE_XLSX) from exc
    try:
        if not workbook.worksheets:
            return
        sheet = workbook.worksheets[0]
        # Rows as long as their last cell (at most MAX_ROW_CELLS, checked above), so that a value
        # past the last allowed column is refused rather than silently cut off.
        sheet.reset_dimensions()
        rows = sheet.iter_rows(values_only=True)
        number = 0
        while True:
            # The parser meets whatever the upload holds (broken XML, refused entities): any
            # failure of its own is a file the user must fix, not a server error.
            try:
                row = next(rows)
            except StopIteration:
                return
            except Exception as exc:  # noqa: BLE001
                raise Unreadable(_UNREADABLE_XLSX) from exc
            number += 1
            yield _bounded(number, row)
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
