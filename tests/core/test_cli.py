"""The `mes` command as users run it: a separate process, configured by environment variables."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import json
from pathlib import Path

import pytest

from mes.app import create_app
from mes.core.db import get_db
from tests.conftest import HEAD


def mes(env: dict[str, str], *args: str, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mes.cli", *args], env=env, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> dict[str, str]:
    """A fresh, empty database for the command (the fixture's copy already holds the schema)."""
    variables = {**os.environ, "MES_INSTANCE_PATH": str(tmp_path / "instance"), "MES_SECRET_KEY": "cli-test"}
    if database_url.startswith("sqlite"):
        variables.pop("MES_DATABASE_URL", None)  # default: instance/mes.db, created by the command
    else:
        variables["MES_DATABASE_URL"] = database_url
    return variables


def test_db_upgrade_user_add_and_token_create(env, database_url):
    r = mes(env, "db", "upgrade")
    assert r.returncode == 0, r.stderr
    assert HEAD in r.stdout
    r = mes(env, "user", "add", "lina", "--name", "Li Na", "--role", "planner", "--password", "s3cret-pass")
    assert r.returncode == 0, r.stderr
    r = mes(env, "user", "add", "lina", "--role", "planner", "--password", "s3cret-pass")
    assert r.returncode != 0 and "taken" in r.stderr
    r = mes(env, "user", "add", "w1", "--role", "worker", "--pin", "12")
    assert r.returncode != 0 and "PIN" in r.stderr
    r = mes(env, "token", "create", "lina")
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    assert token.startswith("mes_")
    assert mes(env, "token", "create", "nobody").returncode != 0
    app = create_app({"DATABASE_URL": env.get("MES_DATABASE_URL") or f"sqlite:///{env['MES_INSTANCE_PATH']}/mes.db",
                      "INSTANCE_PATH": env["MES_INSTANCE_PATH"], "SECRET_KEY": "x"})
    with app.app_context():
        response = app.test_client().get("/api/v1/work-orders/", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
        get_db().dispose()


def test_secret_key_is_generated_once(tmp_path):
    env = {**os.environ, "MES_INSTANCE_PATH": str(tmp_path)}
    env.pop("MES_SECRET_KEY", None)
    env.pop("MES_DATABASE_URL", None)
    assert mes(env, "db", "current").returncode == 0
    key = (tmp_path / "secret_key").read_text()
    assert len(key) >= 32
    mes(env, "db", "current")
    assert (tmp_path / "secret_key").read_text() == key
    assert oct((tmp_path / "secret_key").stat().st_mode)[-3:] == "600"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_demo_seeds_a_job_shop_and_serves_it(env, database_url):
    port = free_port()
    env = {**env, "MES_MQTT_URL": ""}  # no broker configured: the demo brings its own
    # The MQTT port asked for is taken (as by a factory's own broker): the demo's broker
    # takes a free one, and the machine data still flows.
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    taken_port = taken.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "mes.cli", "demo", "--port", str(port), "--mqtt-port",
                             str(taken_port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        health = None
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    health = json.load(response)
                    break
            except OSError:
                if proc.poll() is not None:
                    break
                time.sleep(0.5)
        assert health is not None, proc.stdout.read() if proc.poll() is not None else "no answer"
        assert health["status"] == "ok" and health["revision"] == HEAD
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as response:
            assert response.status == 200
        # Live machine data out of the box: the embedded broker, the worker and the simulator.
        live = create_app({"DATABASE_URL": env.get("MES_DATABASE_URL") or f"sqlite:///{env['MES_INSTANCE_PATH']}/mes.db",
                           "INSTANCE_PATH": env["MES_INSTANCE_PATH"], "SECRET_KEY": "x"})
        from sqlalchemy import func, select

        from mes.machinedata.models import CounterReading, StateEvent
        with live.app_context():
            counted = (0, 0)
            while time.time() < deadline + 60 and proc.poll() is None and not all(counted):
                s = get_db().read_session()
                counted = (s.scalar(select(func.count()).select_from(StateEvent)),
                           s.scalar(select(func.count()).select_from(CounterReading)))
                s.close()
                time.sleep(1)
            get_db().dispose()
        assert all(counted), counted
    finally:
        proc.terminate()
        output = proc.communicate(timeout=30)[0]
        taken.close()
    assert "demo1234" in output and "planner" in output
    assert f"port {taken_port} is taken" in output

    from sqlalchemy import func, select

    from mes.machines.models import Machine, WorkCenter
    from mes.orders.models import WorkOrder, WorkOrderStatus
    from mes.routing.models import Product, ProductFamily
    from mes.orders.models import ProductionReport
    from mes.core.clock import plant_today

    app = create_app({"DATABASE_URL": env.get("MES_DATABASE_URL") or f"sqlite:///{env['MES_INSTANCE_PATH']}/mes.db",
                      "INSTANCE_PATH": env["MES_INSTANCE_PATH"], "SECRET_KEY": "x"})
    with app.app_context():
        s = get_db().read_session()
        count = lambda model, *where: s.scalar(select(func.count()).select_from(model).where(*where))  # noqa: E731
        assert 12 <= count(Machine) <= 20 and 5 <= count(WorkCenter) <= 8
        assert count(Machine, Machine.has_data_connection.is_(False)) >= 5
        assert 35 <= count(Product) <= 50 and count(ProductFamily) == 8
        assert 100 <= count(WorkOrder) <= 150
        today = plant_today()
        assert count(WorkOrder, WorkOrder.due_date < today, WorkOrder.status.in_(["released", "in_progress"])) > 0
        assert count(WorkOrder, WorkOrder.status == WorkOrderStatus.IN_PROGRESS) > 0
        assert count(WorkOrder, WorkOrder.status.in_(["completed", "closed"])) > 0
        assert count(ProductionReport) > 0
        assert s.scalar(select(func.max(WorkOrder.due_date))) <= today + __import__("datetime").timedelta(days=22)
        s.close()
        get_db().dispose()
    # A second start finds the plant and does not seed it twice.
    r = mes(env, "demo", "--no-serve")
    assert r.returncode == 0 and "seeding" not in r.stdout
