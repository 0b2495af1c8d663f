"""What checking rows of either kind needs: each row's errors under the file's own column
headers, look-ups by code, and a service's refusal turned into row errors."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mes.core.errors import DomainError
from mes.imports.cells import CellError
from mes.imports.reading import Table
from mes.imports.results import RowError, row_error
from mes.routing.models import Product


class RowErrors:
    """The errors of one row; the first problem found in a column wins (a cell that is not a
    number needs no second message from the services' validators)."""

    def __init__(self, table: Table, row: int, sink: list[RowError]) -> None:
        self.table, self.row, self.sink = table, row, sink
        self.columns: set[str] = set()

    def add(self, key: str, message: Any) -> None:
        self.columns.add(key)
        self.sink.append(row_error(self.row, self.table.column(key), message))

    def add_fields(self, fields: dict[str, list], mapping: dict[str, str], prefix: dict[str, str] | None = None) -> None:
        for field_key, messages in fields.items():
            key = mapping.get(field_key)
            if key is None:
                key = next((v for k, v in mapping.items() if k.endswith("*") and field_key.startswith(k[:-1])), field_key)
            if key in self.columns:
                continue
            label = (prefix or {}).get(field_key)
            for message in messages:
                self.sink.append(row_error(self.row, self.table.column(key), f"{label}: {message}" if label else message))
            self.columns.add(key)

    def cell(self, key: str, parse: Any, value: Any, default: Any = None) -> Any:
        try:
            return parse(value)
        except CellError as exc:
            self.add(key, exc.message)
            return default


class Codes:
    """Look-up by code: exact, else ignoring case when that is unambiguous."""

    def __init__(self, items: Iterable[Any]) -> None:
        self.exact = {i.code: i for i in items}
        folded: dict[str, list[Any]] = {}
        for i in self.exact.values():
            folded.setdefault(i.code.casefold(), []).append(i)
        self.folded = {k: v[0] for k, v in folded.items() if len(v) == 1}

    def get(self, code: str) -> Any:
        return self.exact.get(code) or self.folded.get(code.casefold())


def products_by_code(s: Session, codes: set[str]) -> Codes:
    found: list[Product] = []
    wanted = sorted(codes | {c.upper() for c in codes} | {c.lower() for c in codes})
    for i in range(0, len(wanted), 500):
        found += s.scalars(select(Product).where(Product.code.in_(wanted[i:i + 500]))).all()
    return Codes(found)


class Rollback(Exception):
    """Writing stopped on these errors; the transaction is rolled back."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("import invalid")
        self.errors = errors


def domain_errors(table: Table, row: int, exc: DomainError, mapping: dict[str, str]) -> list[RowError]:
    """A service refused a row that passed the checks (someone changed the data meanwhile)."""
    if not exc.fields:
        return [row_error(row, "", exc.text())]
    sink: list[RowError] = []
    RowErrors(table, row, sink).add_fields(exc.fields, mapping)
    return sink
