"""The schema comes only from the migrations: empty to head, back to empty, and head matches the
models exactly, on SQLite and (when configured) PostgreSQL."""
from __future__ import annotations

import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from mes.app import create_app
from mes.core import migrate
from mes.core.db import get_db
from mes.models import metadata
from tests.conftest import BACKENDS, HEAD, PG_URL, _pg_admin, pg_url_for


@pytest.fixture(params=BACKENDS)
def empty_app(request, tmp_path):  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'empty.db'}"
        name = None
    else:
        name = f"mes_mig_{uuid.uuid4().hex[:8]}"
        with _pg_admin().connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = pg_url_for(name)
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "t"})
    with app.app_context():
        yield app
        get_db().dispose()
    if name:
        with _pg_admin().connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_upgrade_from_empty_to_head_matches_the_models(empty_app):
    assert migrate.current_revision(empty_app) is None
    migrate.upgrade(empty_app)
    assert migrate.current_revision(empty_app) == HEAD
    with get_db().engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    assert diff == []


def test_downgrade_to_empty_and_up_again(empty_app):
    migrate.upgrade(empty_app)
    migrate.downgrade(empty_app, "base")
    with get_db().engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(empty_app)
    assert migrate.current_revision(empty_app) == HEAD


def test_postgresql_is_configured_in_ci():
    """CI sets MES_TEST_DATABASE_URL so that every database test also runs on PostgreSQL."""
    if os.environ.get("CI"):
        assert PG_URL, "CI must set MES_TEST_DATABASE_URL"
        assert any(getattr(b, "values", (b,))[0] == "postgresql" for b in BACKENDS)
