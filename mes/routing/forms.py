"""The new product form."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional


class ProductForm(FlaskForm):
    code = StringField(_l("Product code"), validators=[DataRequired(), Length(max=64)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    family_id = SelectField(_l("Family"), coerce=int, validators=[InputRequired()])
    drawing = StringField(_l("Drawing"), validators=[Optional(), Length(max=120)])
