"""Reading the operation editor's form (a dynamic set of machine rows) into an OperationInput,
with a field error for anything that is not a number where one is needed."""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from mes.core.inputs import DATE_MAX, DATE_MIN, MAX_INT, date_in_range, to_int
from mes.routing.rules import MachineTime, OperationInput, parse_minutes


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


def parse_date(raw: str | None, field: str, errors: dict[str, list]) -> dt.date | None:
    if not raw or not raw.strip():
        return None
    try:
        value = dt.date.fromisoformat(raw.strip())
    except ValueError:
        errors.setdefault(field, []).append(_l("Enter a date as YYYY-MM-DD."))
        return None
    if not date_in_range(value):
        errors.setdefault(field, []).append(_l("Enter a date between %(first)s and %(last)s.", first=DATE_MIN.isoformat(),
                                               last=DATE_MAX.isoformat()))
        return None
    return value


class ProductForm(FlaskForm):
    code = StringField(_l("Product code"), validators=[DataRequired(), Length(max=64)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    family_id = SelectField(_l("Family"), coerce=int, validators=[InputRequired()])
    drawing = StringField(_l("Drawing"), validators=[Optional(), Length(max=120)])
