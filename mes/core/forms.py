"""Login and account forms, validators other packages' forms share, and the parsing of form
values every page needs."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp, ValidationError

from mes.core.inputs import DATE_MAX, DATE_MIN, date_in_range


class PlantDateRange:
    """A date a plant plans with (see mes.core.inputs.DATE_MIN/DATE_MAX)."""

    def __call__(self, form: FlaskForm, field: object) -> None:
        if not date_in_range(getattr(field, "data", None)):
            raise ValidationError(str(_l("Enter a date between %(first)s and %(last)s.", first=DATE_MIN.isoformat(),
                                         last=DATE_MAX.isoformat())))


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])


class BadgeForm(FlaskForm):
    badge = PasswordField(_l("Badge"), validators=[DataRequired(), Length(max=128)])


class PinForm(FlaskForm):
    employee_no = StringField(_l("Employee number"), validators=[DataRequired(), Length(max=32)])
    pin = PasswordField(_l("PIN"), validators=[DataRequired(), Regexp(r"^\d{4,8}$", message=_l("4 to 8 digits."))])


class LocaleForm(FlaskForm):
    locale = SelectField(_l("Language"), choices=[("en", "English"), ("zh_CN", "中文")])


class PasswordChangeForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=8, max=256)])
    repeat = PasswordField(
        _l("Repeat new password"), validators=[DataRequired(), EqualTo("new", message=_l("The passwords differ."))]
    )


def parse_date(raw: str | None, field: str, errors: dict[str, list]) -> dt.date | None:
    """An ISO date from a form or query value; a field error (not an exception) when malformed."""
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


@dataclass
class FormField:
    """One input of a master-data form drawn by templates/_record_form.html: a text, number or
    checkbox input, or a select of ``options`` ((value, label) pairs)."""

    name: str
    label: Any
    kind: str = "text"
    options: list[tuple[Any, Any]] = field(default_factory=list)
    hint: Any = None
    required: bool = False


def form_text(values: Any, name: str) -> str:
    """A form value as text (the empty string when missing)."""
    return str(values.get(name, "") or "").strip()
