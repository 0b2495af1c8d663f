"""The JSON API under /api/v1: collects every package's API blueprint into one OpenAPI document
(bearer tokens and JSON errors are in mes.core.api)."""
from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from mes.core.api import SECURITY_SCHEME
from mes.imports.api import blp as imports_blp
from mes.machines.api import blp as machines_blp
from mes.orders.api import blp as orders_blp
from mes.quality.api import blp as quality_blp
from mes.routing.api import blp as routings_blp
from mes.scheduling.api import blp as schedules_blp
from mes.shopfloor.api import blp as floor_blp

api = Api()


def init_api(app: Flask) -> None:
    api.init_app(app, spec_kwargs={"security": [{"bearerAuth": []}]})
    api.spec.components.security_scheme("bearerAuth", SECURITY_SCHEME)
    csrf = app.extensions["csrf"]
    for blp in (orders_blp, routings_blp, machines_blp, imports_blp, floor_blp, quality_blp, schedules_blp):
        api.register_blueprint(blp)
        csrf.exempt(blp)
