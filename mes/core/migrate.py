"""Running the Alembic migrations from the app (``mes db upgrade``) and from tests."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from flask import Flask

from mes.core.db import get_db

_PACKAGE = Path(__file__).resolve().parent.parent


def migrations_dir() -> Path:
    # Source checkout: top-level migrations/; installed wheel: mes/migrations.
    for candidate in (_PACKAGE.parent / "migrations", _PACKAGE / "migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise RuntimeError("migrations folder not found")


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(app: Flask, revision: str = "head") -> None:
    command.upgrade(alembic_config(app.config["DATABASE_URL"]), revision)


def downgrade(app: Flask, revision: str) -> None:
    command.downgrade(alembic_config(app.config["DATABASE_URL"]), revision)


def current_revision(app: Flask) -> str | None:
    with app.app_context(), get_db().engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def is_empty(app: Flask) -> bool:
    return current_revision(app) is None
