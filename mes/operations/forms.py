"""The operation editor, shared by the routing editor and by changes to a released work order:
reading its form (a dynamic set of machine rows) into an OperationInput, the values it shows,
and drawing it in place with its errors."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Response, g, request, url_for
from flask_babel import lazy_gettext as _l

from mes.core.db import session
from mes.core.errors import ValidationError
from mes.core.inputs import MAX_INT, ids_of, to_int
from mes.core.web import render
from mes.operations import services
from mes.operations.rules import MachineTime, OperationInput, parse_minutes

TEMPLATE = "operations/_operation_form.html"


def _int_or_none(raw: str | None, field: str, errors: dict[str, list]) -> int | None:
    if raw is None or not raw.strip():
        return None
    value = to_int(raw, min=0, max=MAX_INT)
    if value is None:
        errors.setdefault(field, []).append(_l("Enter a whole number."))
    return value


def _minutes(raw: str | None, field: str, errors: dict[str, list]):  # type: ignore[no-untyped-def]
    try:
        return parse_minutes(raw)
    except ValueError:
        errors.setdefault(field, []).append(_l("Enter a number of minutes."))
        return parse_minutes(None)


def parse_operation(form: Mapping[str, str], machine_ids: list[int]) -> tuple[OperationInput, dict[str, list]]:
    """``machine_ids`` are the machine rows the form showed (``machine-<id>-on`` ticks one)."""
    errors: dict[str, list] = {}
    machines = []
    for machine_id in machine_ids:
        if form.get(f"machine-{machine_id}-on"):
            machines.append(MachineTime(
                machine_id,
                _minutes(form.get(f"machine-{machine_id}-setup_minutes"), f"machine-{machine_id}-setup_minutes", errors),
                _minutes(form.get(f"machine-{machine_id}-run_minutes"), f"machine-{machine_id}-run_minutes", errors),
            ))
    predecessors: list[int] = []
    follows_previous = form.get("follows_previous", "1") == "1"
    if not follows_previous:
        for part in (form.get("predecessors") or "").replace("，", ",").replace(";", ",").split(","):
            if part.strip():
                value = _int_or_none(part, "predecessors", errors)
                if value is not None:
                    predecessors.append(value)
    data = OperationInput(
        name=(form.get("name") or "").strip(),
        work_center_id=_int_or_none(form.get("work_center_id"), "work_center_id", errors),
        setup_minutes=_minutes(form.get("setup_minutes"), "setup_minutes", errors),
        run_minutes=_minutes(form.get("run_minutes"), "run_minutes", errors),
        machines=machines,
        instructions=form.get("instructions"),
        transfer_batch=_int_or_none(form.get("transfer_batch"), "transfer_batch", errors),
        inspection_required=bool(form.get("inspection_required")),
        drawing=form.get("drawing"),
        program_no=form.get("program_no"),
        follows_previous=follows_previous,
        predecessors=predecessors,
    )
    return data, errors


def parse_new_seq(form: Mapping[str, str], errors: dict[str, list]) -> int | None:
    """The sequence number typed for a new operation (none: after the last one)."""
    return _int_or_none(form.get("seq"), "seq", errors)


def submitted() -> tuple[OperationInput, dict[str, list], list[int]]:
    """The posted editor: its data, field errors, and the machine rows it showed."""
    machine_ids = machine_ids_of(request.form)
    data, errors = parse_operation(request.form, machine_ids)
    return data, errors, machine_ids


def save_submitted(is_new: bool, save: Callable[[OperationInput, int | None], None], done: Callable[[], Response],
                   redraw: Callable[[dict[str, Any], dict[str, list], int], Response]) -> Response:
    """The posted editor saved with ``save(data, seq)`` and the page part redrawn by ``done()``;
    with field errors, the editor drawn again with what was typed (``redraw(values, errors, 422)``)."""
    data, errors, machine_ids = submitted()
    seq = parse_new_seq(request.form, errors) if is_new else None
    if not errors:
        try:
            save(data, seq)
            return done()
        except ValidationError as exc:
            if not exc.fields:
                raise
            errors = exc.fields
    return redraw(form_values(request.form, machine_ids), errors, 422)


def machine_ids_of(form: Any) -> list[int]:
    return ids_of(form.getlist("machine_ids"))


def op_values(op: Any, preds: list[int]) -> dict[str, Any]:
    """The operation editor's field values from a routing or work order operation."""
    return {
        "seq": op.seq, "name": op.name, "work_center_id": op.work_center_id, "setup_minutes": op.setup_minutes,
        "run_minutes": op.run_minutes, "transfer_batch": op.transfer_batch, "inspection_required": op.inspection_required,
        "drawing": op.drawing, "program_no": op.program_no, "instructions": op.instructions,
        "follows_previous": op.follows_previous, "predecessors": ", ".join(map(str, preds)),
        "machines": {m.machine_id: (m.setup_minutes, m.run_minutes) for m in op.machines},
    }


def form_values(form: Any, machine_ids: list[int]) -> dict[str, Any]:
    """What the user typed, to draw the form again beside its errors."""
    values = {k: form.get(k) for k in ("seq", "name", "setup_minutes", "run_minutes", "transfer_batch", "drawing",
                                       "program_no", "instructions", "predecessors", "reason")}
    values["work_center_id"] = to_int(form.get("work_center_id"))
    values["inspection_required"] = bool(form.get("inspection_required"))
    values["follows_previous"] = form.get("follows_previous", "1") == "1"
    values["machines"] = {
        mid: (form.get(f"machine-{mid}-setup_minutes"), form.get(f"machine-{mid}-run_minutes"))
        for mid in machine_ids if form.get(f"machine-{mid}-on")
    }
    return values


@dataclass(frozen=True)
class Editor:
    """The operation editor as one owner (routing or work order) uses it: its endpoints, the URL
    argument naming the owner, the page part a save redraws, whether a change needs a reason."""

    add: str
    change: str
    refresh: str
    cancel: str
    key: str
    target: str
    reason_required: bool = False
    columns: int = 9  # of the owner's operations table, which the editor row spans

    def render(self, owner: Any, op: Any, values: dict[str, Any], errors: dict[str, list], status: int = 200) -> Response:
        """The editor row for ``op`` of ``owner`` (None: a new operation). A form drawn again with
        its errors replaces itself, not the page part a save redraws."""
        s = session()
        ids = {self.key: owner.id}
        response = render(
            TEMPLATE, TEMPLATE, status=status, op=op, values=values, errors=errors,
            machines=services.form_machines(s, values.get("work_center_id"), list(values.get("machines", {}))),
            centers=services.work_centers(s), version=owner.version, target=self.target,
            reason_required=self.reason_required, columns=self.columns,
            action=url_for(self.change, **ids, operation_id=op.id) if op else url_for(self.add, **ids),
            refresh_url=url_for(self.refresh, **ids), cancel_url=url_for(self.cancel, **ids),
        )
        if response.status_code >= 400:
            g.keep_target = True
            response.headers["HX-Retarget"] = f"#op-{op.id}" if op else "#new-operation"
            response.headers["HX-Reswap"] = "outerHTML"
        return response
