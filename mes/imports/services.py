"""The import use cases: check a file and list what it would create (a dry run that saves
nothing), or import it in one transaction, all rows or none."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mes.core import audit
from mes.core.db import session, transaction
from mes.imports import plant, routings, users, work_orders
from mes.imports.columns import MASTER_KINDS, Kind
from mes.imports.reading import Table, read_file
from mes.imports.results import ImportResult, RowError, row_error
from mes.imports.rows import Rollback

Plan = routings.Plan | work_orders.Plan


def _check(s: Session, table: Table, release: bool) -> Plan:
    plan: Plan
    if table.kind == Kind.ROUTINGS:
        plan = routings.check(s, table, release)
    else:
        plan = work_orders.check(s, table, release)
    plan.errors.sort(key=lambda e: (e.row or 0))
    return plan


def _summary(s: Session, plan: Plan, release: bool) -> list[dict[str, Any]]:
    if isinstance(plan, routings.Plan):
        return routings.summary(s, plan, release)
    return work_orders.summary(s, plan, release)


def _write(s: Session, table: Table, plan: Plan, release: bool, filename: str) -> list[dict[str, Any]]:
    if isinstance(plan, routings.Plan):
        return routings.write(s, table, plan, release, filename)
    return work_orders.write(s, table, plan, release, filename)


def _apply_master(s: Session, table: Table) -> tuple[list[RowError], list[dict[str, Any]]]:
    return users.apply(s, table) if table.kind == Kind.USERS else plant.apply(s, table)


class _DryRun(Exception):
    def __init__(self, result: ImportResult) -> None:
        super().__init__("dry run")
        self.result = result


def _plant_preview(table: Table) -> ImportResult:
    """The plant's records are checked by writing them and rolling back: the preview shows
    exactly what the import would create and change."""
    try:
        with transaction() as s:
            errors, lines = _apply_master(s, table)
            raise _DryRun(ImportResult(table.kind, errors=errors, created=[] if errors else lines))
    except _DryRun as exc:
        return exc.result


def preview(kind: Kind, filename: str, data: bytes, release: bool = False) -> ImportResult:
    """Check a file and list what it would create, saving nothing."""
    table, errors = read_file(kind, filename, data)
    if table is None:
        return ImportResult(kind, errors=errors)
    if kind in MASTER_KINDS:
        return _plant_preview(table)
    plan = _check(session(), table, release)
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
        with transaction() as s, audit.reason(audit.keyed_reason("imported_from", file=name)):
            if kind in MASTER_KINDS:
                errors, created = _apply_master(s, table)
                if errors:
                    raise Rollback(errors)
            else:
                plan = _check(s, table, release)
                if plan.errors:
                    raise Rollback(plan.errors)
                created = _write(s, table, plan, release, name)
    except Rollback as exc:
        return ImportResult(kind, errors=exc.errors)
    except IntegrityError:
        # A concurrent change slipped between the checks and the writes (e.g. the same product
        # created twice at once): nothing was saved; checking again names the row.
        return ImportResult(kind, errors=[row_error(None, "", _l(
            "The data changed while importing, so nothing was saved. Check the file again."))])
    return ImportResult(kind, created=created, committed=True)
