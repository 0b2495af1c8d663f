"""What an import check or an import returns: every problem with its row and column, and what
will be (or was) created."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mes.imports.columns import Kind


@dataclass(frozen=True)
class RowError:
    """One problem: the row as the planner sees it in Excel (the header is row 1; None for the
    file as a whole), the column as written in the file, and the localized message."""

    row: int | None
    column: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


def row_error(row: int | None, column: str, message: Any) -> RowError:
    """A RowError from a (lazy) translatable message, rendered in the current language."""
    return RowError(row, column, str(message))


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
