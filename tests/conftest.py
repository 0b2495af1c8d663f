"""Fixtures: an app with a fresh, migrated database per test (SQLite always; PostgreSQL too when
MES_TEST_DATABASE_URL is set), clients logged in per role, and a small plant to work on."""
from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from mes.app import create_app
from mes.core import migrate

PG_URL = os.environ.get("MES_TEST_DATABASE_URL")
#: Every database test runs on SQLite, and on PostgreSQL when MES_TEST_DATABASE_URL is set
#: (marked ``postgres``, so ``-m "not postgres"`` leaves them out).
BACKENDS = ["sqlite"] + ([pytest.param("postgresql", marks=pytest.mark.postgres)] if PG_URL else [])
PASSWORD = "correct-horse-1"
HEAD = ScriptDirectory.from_config(migrate.alembic_config("sqlite://")).get_current_head()


def _pg_admin():  # type: ignore[no-untyped-def]
    return create_engine(make_url(PG_URL).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")


def pg_url_for(name: str) -> str:
    return make_url(PG_URL).set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file; every test gets a copy (migrating per test would be slow)."""
    folder = tmp_path_factory.mktemp("template")
    app = create_app({"DATABASE_URL": f"sqlite:///{folder / 'mes.db'}", "INSTANCE_PATH": str(folder), "SECRET_KEY": "t"})
    migrate.upgrade(app)
    app.extensions["mes.db"].dispose()
    return folder / "mes.db"


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    name = f"mes_template_{uuid.uuid4().hex[:8]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    app = create_app({"DATABASE_URL": pg_url_for(name), "SECRET_KEY": "t"})
    migrate.upgrade(app)
    app.extensions["mes.db"].dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        shutil.copy(template, tmp_path / "mes.db")
        yield f"sqlite:///{tmp_path / 'mes.db'}"
        return
    template = request.getfixturevalue("pg_template")
    name = f"mes_test_{uuid.uuid4().hex[:10]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield pg_url_for(name)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in its own app context, as in production, even
    while the test holds one open to call services directly."""

    def open(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        with self.application.app_context():
            return super().open(*args, **kwargs)


def make_app(database_url: str, tmp_path: Path, **overrides):  # type: ignore[no-untyped-def]
    config = {
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(tmp_path),
        "SECRET_KEY": "test-secret",
        "TESTING": True,
        "WTF_CSRF_ENABLED": False,
        "PLANT_TIMEZONE": "Asia/Shanghai",
    }
    config.update(overrides)
    application = create_app(config)
    application.test_client_class = IsolatedClient
    return application


@pytest.fixture
def app(database_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    application = make_app(database_url, tmp_path)
    with application.app_context():
        yield application
    application.extensions["mes.db"].dispose()


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def users(app) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """One user per role (username = role name), plus a second worker."""
    from mes.admin import services
    from mes.core.models import Role

    ids = {}
    for role in Role:
        ids[role.value] = services.create_user(services.UserInput(
            username=role.value, display_name=role.value.title(), roles=[role], password=PASSWORD,
            employee_no="7001" if role == Role.WORKER else None,
            badge="BADGE-WORKER" if role == Role.WORKER else None, pin="2468" if role == Role.WORKER else None,
        ))
    ids["worker2"] = services.create_user(services.UserInput(
        username="worker2", display_name="Worker Two", roles=[Role.WORKER], employee_no="7002", badge="BADGE-2", pin="1357",
    ))
    return ids


def login(client, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 303, response.data
    return response


@pytest.fixture
def as_role(app, users):  # type: ignore[no-untyped-def]
    """``as_role("planner")`` gives a client logged in as that role (workers by badge)."""

    def make(role: str):  # type: ignore[no-untyped-def]
        c = app.test_client()
        if role.startswith("worker"):
            badge = "BADGE-WORKER" if role == "worker" else "BADGE-2"
            r = c.post("/floor/login", data={"badge-badge": badge})
            assert r.status_code == 303, r.data
        else:
            login(c, role)
        return c

    return make


@pytest.fixture
def plant(app):  # type: ignore[no-untyped-def]
    """A small shop: two work centers (turning with an old and a new lathe, milling with one mill),
    two product families, product P-1 with a released two-step routing, P-2 without one."""
    from types import SimpleNamespace

    from mes.core.db import transaction
    from mes.machines.models import Machine, WorkCenter
    from mes.routing import services as routing
    from mes.routing.models import Product, ProductFamily
    from mes.operations.rules import MachineTime, OperationInput

    with transaction() as s:
        turn = WorkCenter(code="TURN", name="Turning", default_changeover_minutes=30)
        mill = WorkCenter(code="MILL", name="Milling", default_changeover_minutes=20)
        s.add_all([turn, mill])
        s.flush()
        old = Machine(code="L-OLD", name="Old lathe", work_center_id=turn.id, year_built=1990)
        new = Machine(code="L-NEW", name="New lathe", work_center_id=turn.id, year_built=2020, has_data_connection=True)
        m1 = Machine(code="M-1", name="Mill", work_center_id=mill.id, year_built=2010)
        fa, fb = ProductFamily(code="FA", name="Family A"), ProductFamily(code="FB", name="Family B")
        s.add_all([old, new, m1, fa, fb])
        s.flush()
        p1 = Product(code="P-1", name="Shaft", family_id=fa.id)
        p2 = Product(code="P-2", name="Flange", family_id=fb.id)
        s.add_all([p1, p2])
        s.flush()
        ids = dict(turn=turn.id, mill=mill.id, old=old.id, new=new.id, m1=m1.id, fa=fa.id, fb=fb.id, p1=p1.id, p2=p2.id)
    routing_id = routing.create_version(ids["p1"])
    routing.add_operation(routing_id, None, OperationInput(
        name="Turn", work_center_id=ids["turn"],
        machines=[MachineTime(ids["old"], Decimal(30), Decimal("4.0")), MachineTime(ids["new"], Decimal(15), Decimal("2.0"))],
    ))
    routing.add_operation(routing_id, None, OperationInput(
        name="Mill", work_center_id=ids["mill"], setup_minutes=Decimal(20), run_minutes=Decimal("3.5"),
    ))
    routing.release(routing_id, None)
    return SimpleNamespace(routing_id=routing_id, **ids)


@pytest.fixture
def make_order(app, plant):  # type: ignore[no-untyped-def]
    """Create (and by default release) a work order for P-1."""
    import datetime as dt

    from mes.core.db import session
    from mes.orders import services
    from mes.orders.models import WorkOrder

    def make(quantity: int = 10, release: bool = True, product_id: int | None = None, **kw):  # type: ignore[no-untyped-def]
        order_id = services.create(services.WorkOrderInput(
            product_id=product_id or plant.p1, quantity=quantity,
            due_date=kw.pop("due_date", dt.date.today() + dt.timedelta(days=7)), **kw,
        ))
        if release:
            services.release(order_id, None)
        session().rollback()  # a new read transaction sees the latest commits
        return session().get(WorkOrder, order_id)

    return make


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test under tests/browser drives Chromium: mark it, so ``-m "not browser"`` works."""
    browser_dir = Path(__file__).resolve().parent / "browser"
    for item in items:
        if browser_dir in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)
