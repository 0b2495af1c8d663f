"""Work order forms."""
from __future__ import annotations

import uuid

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from mes.core.forms import PlantDateRange
from mes.orders.models import PRIORITY_LABELS


class WorkOrderForm(FlaskForm):
    number = StringField(_l("Work order number"), validators=[Optional(), Length(max=40)],
                         description=_l("Left empty: numbered automatically."))
    product_id = SelectField(_l("Product"), coerce=int, validators=[InputRequired()])
    quantity = IntegerField(_l("Quantity"), validators=[InputRequired(), NumberRange(min=1, max=1_000_000)])
    release_date = DateField(_l("Earliest start"), validators=[Optional(), PlantDateRange()])
    due_date = DateField(_l("Due date"), validators=[DataRequired(), PlantDateRange()])
    priority = SelectField(_l("Priority"), choices=[(p.value, label) for p, label in PRIORITY_LABELS.items()], default="normal")
    customer = StringField(_l("Customer"), validators=[Optional(), Length(max=120)])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])
    version = HiddenField()
    # Made when the form is drawn: a resent form (double tap, flaky Wi-Fi) creates one order.
    request_key = HiddenField(default=lambda: uuid.uuid4().hex)


class SplitForm(FlaskForm):
    quantity = IntegerField(_l("Pieces to split off"), validators=[InputRequired(), NumberRange(min=1, max=1_000_000)])
    due_date = DateField(_l("Due date of the new lot"), validators=[Optional(), PlantDateRange()])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
    version = HiddenField()
