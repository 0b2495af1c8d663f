"""The application factory: every process (web, CLI, tests) builds its app here, and here every
package's blueprints are collected."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from flask_wtf import CSRFProtect

import mes.models  # noqa: F401  (configure every mapper before first use)
from mes import config as config_module
from mes.admin.views import bp as admin_bp
from mes.admin.views import setup_bp
from mes.api import init_api
from mes.core import audit, auth, converters, db, headers, i18n, inputs, web
from mes.core import settings as plant_settings
from mes.core.views import bp as core_bp
from mes.machines.services import OPEN_WORK
from mes.machinedata.facts import offered_counts
from mes.machinedata.views import andon_bp
from mes.machinedata.views import bp as machinedata_bp
from mes.machines.views import bp as machines_bp
from mes.orders import numbering
from mes.orders.queries import LABOUR, PLANNED_TIMES
from mes.orders.views import bp as orders_bp
from mes.reports.views import bp as reports_bp
from mes.imports.views import bp as imports_bp
from mes.routing.views import bp as routing_bp
from mes.scheduling.machine_work import open_work
from mes.scheduling.services import RUN_PROCESS, published_times, run_here
from mes.scheduling.views import bp as scheduling_bp
from mes.quality.inspections import check_first_article
from mes.quality.views import bp as quality_bp
from mes.shopfloor.services import FIRST_ARTICLE, MACHINE_COUNTS, labour_of_order
from mes.shopfloor.views import bp as shopfloor_bp

_PACKAGE = Path(__file__).resolve().parent
BLUEPRINTS = (core_bp, setup_bp, reports_bp, admin_bp, machines_bp, routing_bp, imports_bp, orders_bp, scheduling_bp, shopfloor_bp,
              machinedata_bp, andon_bp, quality_bp)


def _templates_dir() -> str:
    # Source checkout: the top-level templates/ folder; installed wheel: mes/templates.
    for candidate in (_PACKAGE.parent / "templates", _PACKAGE / "templates"):
        if candidate.is_dir():
            return str(candidate)
    raise RuntimeError("templates folder not found")


def solve_schedule_in_process(config: dict[str, Any], args: tuple[Any, ...]) -> None:
    """A schedule run's own process: an app of the same configuration, then the run."""
    run_here(create_app(config), args)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """A configured application: database, audit hooks, i18n, CSRF, login, every blueprint."""
    settings = config_module.load(config)
    app = Flask(
        "mes",
        template_folder=_templates_dir(),
        static_folder="static",
        instance_path=settings["INSTANCE_PATH"],
        instance_relative_config=False,
    )
    app.config.update(settings)
    numbering.check_format(app.config["ORDER_NUMBER_FORMAT"])  # a typo fails at start, not at the first order
    converters.init_app(app)
    db.init_app(app)
    audit.install(db.Base)
    i18n.init_app(app)
    CSRFProtect(app)
    auth.init_app(app)
    inputs.init_app(app)
    plant_settings.init_app(app)
    for bp in BLUEPRINTS:
        app.register_blueprint(bp)
    # Lower packages that show what a higher one knows get its reader here, not by importing it.
    app.extensions[PLANNED_TIMES] = published_times
    app.extensions[RUN_PROCESS] = solve_schedule_in_process
    app.extensions[OPEN_WORK] = open_work
    app.extensions[LABOUR] = labour_of_order
    app.extensions[MACHINE_COUNTS] = offered_counts
    app.extensions[FIRST_ARTICLE] = check_first_article
    init_api(app)
    # After the API: flask-smorest installs an app-wide HTTP error handler that ours replaces.
    web.init_app(app)
    headers.init_app(app)
    return app
