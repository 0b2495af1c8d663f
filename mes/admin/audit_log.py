"""The audit log as people read it: record types and fields in the reader's language, values as
names (a product's code, not its id; a status's label, not its value), dates in the locale, and a
link to the record; which entries belong to a work order's history (its operations and their
eligible machines too)."""
from __future__ import annotations

import datetime as dt
import decimal
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import url_for
from flask_babel import format_decimal, lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, false, inspect, or_, select
from sqlalchemy.orm import Session

from mes.core.audit import reason_key
from mes.core.i18n import format_day, format_moment
from mes.core.models import AuditEntry, KioskDevice, User
from mes.machines.models import Machine, MachineDowntime, WorkCalendar, WorkCenter
from mes.orders.models import Operation, OperationMachine, ProductionReport, WorkOrder
from mes.routing.models import Product, ProductFamily, Routing, RoutingOperation, RoutingOperationMachine, SetupMatrixEntry
from mes.scheduling.models import ScheduleVersion

RECORD_TYPES: dict[str, Any] = {
    "work_order": _l("Work order"),
    "operation": _l("Work order operation"),
    "operation_machine": _l("Eligible machine of an operation"),
    "production_report": _l("Production report"),
    "routing": _l("Routing"),
    "routing_operation": _l("Routing operation"),
    "routing_operation_machine": _l("Eligible machine of a routing operation"),
    "machine": _l("Machine"),
    "machine_downtime": _l("Downtime"),
    "work_center": _l("Work center"),
    "setup_matrix_entry": _l("Setup matrix"),
    "schedule_version": _l("Schedule"),
    "kiosk_device": _l("Shop-floor terminal"),
}

MODELS: dict[str, type] = {
    "work_order": WorkOrder, "operation": Operation, "operation_machine": OperationMachine,
    "production_report": ProductionReport, "routing": Routing, "routing_operation": RoutingOperation,
    "routing_operation_machine": RoutingOperationMachine, "machine": Machine, "machine_downtime": MachineDowntime,
    "work_center": WorkCenter, "setup_matrix_entry": SetupMatrixEntry, "schedule_version": ScheduleVersion,
    "kiosk_device": KioskDevice,
}

ACTIONS: dict[str, Any] = {
    "create": _l("created"), "update": _l("changed"), "delete": _l("deleted"), "run": _l("scheduler run started"),
    "publish": _l("published"), "enrol": _l("enrolled"), "revoke": _l("revoked"),
}

FIELDS: dict[str, Any] = {
    "number": _l("Number"), "product_id": _l("Product"), "quantity": _l("Quantity"), "release_date": _l("Release date"),
    "due_date": _l("Due date"), "priority": _l("Priority"), "customer": _l("Customer"), "status": _l("Status"),
    "held_from": _l("Held from status"), "routing_id": _l("Routing"), "parent_id": _l("Split from"), "note": _l("Note"),
    "released_at": _l("Released"), "completed_at": _l("Completed"), "kind": _l("Kind"), "operation_id": _l("Operation"),
    "work_order_id": _l("Work order"), "machine_id": _l("Machine"), "user_id": _l("Worker"), "good_qty": _l("Good"),
    "scrap_qty": _l("Scrap"), "scrap_reason": _l("Scrap reason"), "source": _l("Source"), "reported_at": _l("Reported"),
    "reverses_id": _l("Reverses report"), "reason": _l("Reason"), "seq": _l("Seq."), "name": _l("Name"),
    "instructions": _l("Instructions"), "work_center_id": _l("Work center"), "setup_minutes": _l("Setup (min)"),
    "run_minutes": _l("Run per piece (min)"), "transfer_batch": _l("Transfer batch (pcs)"),
    "inspection_required": _l("Inspection required"), "drawing": _l("Drawing"), "program_no": _l("Program number"),
    "follows_previous": _l("Starts after the previous operation"), "qty_good": _l("Good"), "qty_scrap": _l("Scrap"),
    "started_at": _l("Started"), "finished_at": _l("Finished"), "source_operation_id": _l("Routing operation"),
    "code": _l("Code"), "description": _l("Description"), "calendar_id": _l("Calendar"),
    "default_changeover_minutes": _l("Default changeover (min)"), "from_family_id": _l("From family"),
    "to_family_id": _l("To family"), "minutes": _l("Minutes"), "make": _l("Make"), "model": _l("Model"),
    "year_built": _l("Year built"), "has_data_connection": _l("Machine data connection"), "speed_factor": _l("Speed factor"),
    "starts_at": _l("From"), "ends_at": _l("Until"), "version_no": _l("Version"), "effective_from": _l("Effective from"),
    "time_limit_s": _l("Time limit (seconds)"),
}

KINDS: dict[str, Any] = {"breakdown": _l("Breakdown"), "maintenance": _l("Maintenance"), "production": _l("Production"),
                         "correction": _l("Correction"), "transfer": _l("Transfer")}
#: Where a record came from (the ``source`` of downtimes, reports and labour).
SOURCES: dict[str, Any] = {"manual": _l("Entered by hand"), "machine": _l("Machine data"), "terminal": _l("Terminal"),
                           "correction": _l("Correction")}

_ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")

# A field holding another record's id, per the record type it points to.
REFERENCES: dict[str, str] = {
    "product_id": "product", "routing_id": "routing", "parent_id": "work_order", "work_order_id": "work_order",
    "machine_id": "machine", "user_id": "user", "work_center_id": "work_center", "calendar_id": "calendar",
    "from_family_id": "family", "to_family_id": "family", "source_operation_id": "routing_operation",
}


@dataclass
class Row:
    entry: AuditEntry
    who: str
    record_type: str
    record: str
    link: str | None
    action: str
    field: str
    old: str
    new: str
    reason: str


class Reader:
    """Names and links for the entries of one page; looks each record up once."""

    def __init__(self, s: Session) -> None:
        self.s = s
        self._cache: dict[tuple[str, int], dict[str, Any] | None] = {}

    # --- what a record is -------------------------------------------------------------------
    def values(self, entity: str, entity_id: Any) -> dict[str, Any] | None:
        """The record's fields: the row if it still exists, else what its creation recorded."""
        try:
            key = (entity, int(entity_id))
        except (TypeError, ValueError):
            return None
        if key not in self._cache:
            self._cache[key] = self._load(*key)
        return self._cache[key]

    def _load(self, entity: str, entity_id: int) -> dict[str, Any] | None:
        model = MODELS.get(entity) or {"product": Product, "family": ProductFamily, "user": User,
                                       "calendar": WorkCalendar}.get(entity)
        if model is None:
            return None
        obj = self.s.get(model, entity_id)
        if obj is not None:
            return {a.key: getattr(obj, a.key) for a in inspect(model).column_attrs}
        created = self.s.scalar(select(AuditEntry.new_value).where(
            AuditEntry.entity == entity, AuditEntry.entity_id == entity_id, AuditEntry.action == "create"))
        try:
            return dict(json.loads(created)) if created else None
        except ValueError:
            return None

    def name(self, entity: str, entity_id: Any) -> str:
        """What people call the record: a code, a number, "WO-2612-0024 · 10 Turn"."""
        v = self.values(entity, entity_id)
        if v is None:
            return f"#{entity_id}"
        namers: dict[str, Callable[[dict[str, Any]], str]] = {
            "work_order": lambda v: str(v.get("number")),
            "product": lambda v: str(v.get("code")),
            "family": lambda v: str(v.get("code")),
            "machine": lambda v: str(v.get("code")),
            "work_center": lambda v: str(v.get("code")),
            "calendar": lambda v: str(v.get("name")),
            "user": lambda v: str(v.get("display_name")),
            "routing": lambda v: f"{self.name('product', v.get('product_id'))} v{v.get('version_no')}",
            "operation": lambda v: f"{self.name('work_order', v.get('work_order_id'))} · {v.get('seq')} {v.get('name')}",
            "routing_operation": lambda v: f"{self.name('routing', v.get('routing_id'))} · {v.get('seq')} {v.get('name')}",
            "operation_machine": lambda v: f"{self.name('operation', v.get('operation_id'))} · {self.name('machine', v.get('machine_id'))}",
            "routing_operation_machine": lambda v: (f"{self.name('routing_operation', v.get('operation_id'))}"
                                                    f" · {self.name('machine', v.get('machine_id'))}"),
            "production_report": lambda v: self.name("operation", v.get("operation_id")),
            "machine_downtime": lambda v: f"{self.name('machine', v.get('machine_id'))} · {self.value('machine_downtime', 'starts_at', v.get('starts_at'))}",
            "setup_matrix_entry": lambda v: (f"{self.name('work_center', v.get('work_center_id'))}: "
                                             f"{self.name('family', v.get('from_family_id'))} → {self.name('family', v.get('to_family_id'))}"),
            "schedule_version": lambda v: str(_l("Schedule %(id)s", id=entity_id)),
            "kiosk_device": lambda v: str(v.get("name")),
        }
        namer = namers.get(entity)
        return namer(v) if namer else f"#{entity_id}"

    def link(self, entity: str, entity_id: Any) -> str | None:
        v = self.values(entity, entity_id)
        if v is None:
            return None
        if entity == "work_order":
            return url_for("orders.detail", order_id=entity_id)
        if entity in ("operation", "production_report"):
            return self.link("work_order", v.get("work_order_id"))
        if entity == "operation_machine":
            return self.link("operation", v.get("operation_id"))
        if entity == "routing":
            return url_for("routing.editor", routing_id=entity_id)
        if entity == "routing_operation":
            return self.link("routing", v.get("routing_id"))
        if entity == "routing_operation_machine":
            return self.link("routing_operation", v.get("operation_id"))
        if entity == "machine":
            return url_for("machines.machine_detail", machine_id=entity_id)
        if entity == "machine_downtime":
            return self.link("machine", v.get("machine_id"))
        if entity == "work_center":
            return url_for("routing.setup_matrix", work_center_id=entity_id)
        if entity == "setup_matrix_entry":
            return url_for("routing.setup_matrix", work_center_id=v.get("work_center_id"))
        if entity == "schedule_version":
            return url_for("scheduling.detail", schedule_id=entity_id)
        if entity == "kiosk_device":
            return url_for("admin.kiosks")
        return None

    # --- what a value means -----------------------------------------------------------------
    def value(self, entity: str, field: str | None, raw: Any) -> str:
        if raw is None or raw == "" or field is None:
            return "" if raw is None else str(raw)
        if field in REFERENCES:
            return self.name(REFERENCES[field], raw)
        if field == "operation_id":
            return self.name("routing_operation" if entity == "routing_operation_machine" else "operation", raw)
        if field == "reverses_id":
            return f"#{raw}"
        if field == "kind" and str(raw) in KINDS:
            return str(KINDS[str(raw)])
        if field == "source" and str(raw) in SOURCES:
            return str(SOURCES[str(raw)])
        column = _column(entity, field)
        kind = getattr(column.type, "enum_class", None) if column is not None else None
        if kind is not None:
            try:
                member = kind(raw)
                return str(member.label) if hasattr(member, "label") else str(member.value)
            except ValueError:
                return str(raw)
        python_type = _python_type(column)
        text = str(raw)
        if python_type in (None, object) and _ISO_MOMENT.match(text):
            python_type = dt.datetime  # a time-zone-aware column type that names no Python type
        if python_type is bool or text in ("True", "False"):
            return str(_l("Yes")) if text in ("True", "1", "true") else str(_l("No"))
        try:
            if python_type is dt.datetime:
                return format_moment(dt.datetime.fromisoformat(text))
            if python_type is dt.date:
                return format_day(dt.date.fromisoformat(text[:10]))
            if python_type is decimal.Decimal:
                return format_decimal(decimal.Decimal(text))
        except (ValueError, decimal.InvalidOperation):
            return text
        return text

    def values_text(self, entity: str, raw: str | None) -> str:
        """A created record's fields, one "Field: value" each."""
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            return raw or ""
        if not isinstance(data, dict):
            return str(raw)
        return "; ".join(f"{field_label(k)}: {self.value(entity, k, v)}" for k, v in data.items() if k != "id")

    def row(self, e: AuditEntry) -> Row:
        if e.action == "create" and e.field is None:
            old, new = "", self.values_text(e.entity, e.new_value)
        else:
            old, new = self.value(e.entity, e.field, e.old_value), self.value(e.entity, e.field, e.new_value)
        who = self.name("user", e.user_id) if e.user_id else (str(_l("System")) if e.actor == "system" else e.actor)
        return Row(entry=e, who=who, record_type=str(RECORD_TYPES.get(e.entity, e.entity)),
                   record=self.name(e.entity, e.entity_id), link=self.link(e.entity, e.entity_id),
                   action=str(ACTIONS.get(e.action, e.action)), field=field_label(e.field) if e.field else "",
                   old=old, new=new, reason=reason_text(e.reason))


REASONS: dict[str, Any] = {"imported_from": _l("Imported from %(file)s.")}


def reason_text(stored: str | None) -> str:
    """A reason in the reader's language when the app wrote it, as typed when a person did."""
    keyed = reason_key(stored)
    if keyed is None:
        return stored or ""
    key, values = keyed
    message = REASONS.get(key)
    if message is None:
        return key
    try:
        return str(message) % values
    except (KeyError, TypeError, ValueError):
        return str(message)


def field_label(field: str) -> str:
    return str(FIELDS.get(field, field.replace("_", " ")))


def _column(entity: str, field: str) -> Any:
    model = MODELS.get(entity)
    if model is None:
        return None
    attr = inspect(model).column_attrs.get(field)
    return attr.columns[0] if attr is not None else None


def _python_type(column: Any) -> type | None:
    if column is None:
        return None
    try:
        return column.type.python_type
    except NotImplementedError:
        return None


# --- which entries -----------------------------------------------------------------------------


def order_history(s: Session, order_id: int) -> ColumnElement[bool]:
    """The entries of a work order, of its operations and of their eligible machines (also of
    machines since removed, found by what their creation recorded), and of its reports."""
    op_ids = list(s.scalars(select(Operation.id).where(Operation.work_order_id == order_id)))
    report_ids = list(s.scalars(select(ProductionReport.id).where(ProductionReport.work_order_id == order_id)))
    om_ids = set(s.scalars(select(OperationMachine.id).where(OperationMachine.operation_id.in_(op_ids)))) if op_ids else set()
    if op_ids:
        created = s.execute(select(AuditEntry.entity_id, AuditEntry.new_value).where(
            AuditEntry.entity == "operation_machine", AuditEntry.action == "create",
            or_(*[AuditEntry.new_value.like(f'%"operation_id": "{op_id}"%') for op_id in op_ids]))).all()
        om_ids |= {row.entity_id for row in created}
    parts = [and_(AuditEntry.entity == "work_order", AuditEntry.entity_id == order_id)]
    for entity, ids in (("operation", op_ids), ("operation_machine", sorted(om_ids)), ("production_report", report_ids)):
        if ids:
            parts.append(and_(AuditEntry.entity == entity, AuditEntry.entity_id.in_(ids)))
    return or_(*parts) if parts else false()


def sorted_record_types() -> list[tuple[str, str]]:
    return sorted(((k, str(v)) for k, v in RECORD_TYPES.items()), key=lambda kv: kv[1])
