"""Administration forms."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, PasswordField, SelectField, SelectMultipleField, StringField, widgets
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from mes.core.models import ROLE_LABELS


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class UserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64), Regexp(r"^[\w.@-]+$", message=_l("Letters, digits and . _ - @ only."))])
    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    employee_no = StringField(_l("Employee number"), validators=[Optional(), Length(max=32)])
    roles = MultiCheckboxField(_l("Roles"), choices=[(r.value, label) for r, label in ROLE_LABELS.items()])
    password = PasswordField(_l("Password"), validators=[Optional(), Length(min=8, max=256)])
    badge = PasswordField(_l("Badge code"), validators=[Optional(), Length(min=4, max=128)])
    pin = PasswordField(_l("PIN"), validators=[Optional(), Regexp(r"^\d{4,8}$", message=_l("4 to 8 digits."))])
    locale = SelectField(_l("Language"), choices=[("", _l("Browser language")), ("en", "English"), ("zh_CN", "中文")])
    active = BooleanField(_l("Active"), default=True)


class KioskForm(FlaskForm):
    name = StringField(_l("Terminal name"), validators=[DataRequired(), Length(max=120)])
    work_center_id = SelectField(_l("Work center"), coerce=int, validators=[Optional()])


class TokenForm(FlaskForm):
    user_id = SelectField(_l("User"), coerce=int)
    name = StringField(_l("Purpose"), validators=[DataRequired(), Length(max=120)])
    days = IntegerField(_l("Valid for days"), validators=[Optional(), NumberRange(min=1, max=3650)])
