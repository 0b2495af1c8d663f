"""Marshmallow pieces shared by the API's packages."""
from __future__ import annotations

import marshmallow as ma

from mes.core.fields import Count
from mes.core.inputs import MAX_PAGE


class PageQuerySchema(ma.Schema):
    page = Count(load_default=1, max=MAX_PAGE)
    page_size = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=500))


class ErrorSchema(ma.Schema):
    code = ma.fields.String()
    message = ma.fields.String()
    errors = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()))
