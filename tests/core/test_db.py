"""The database layer: SQLite pragmas on every connection, BEGIN IMMEDIATE for writes, UTC times."""
from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select, text

from mes.core.db import Database, get_db, transaction
from mes.machines.models import WorkCenter


def test_connections_are_configured(app):
    db = get_db()
    if db.dialect == "postgresql":
        assert db.engine.dialect.driver == "psycopg"
        with db.engine.connect() as conn:
            assert conn.execute(text("SHOW server_version_num")).scalar() >= "150000"
        return
    for _ in range(2):  # a second pooled connection gets them too
        with db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_foreign_keys_are_enforced(app):
    from sqlalchemy.exc import IntegrityError

    from mes.machines.models import Machine

    with pytest.raises(IntegrityError):
        with transaction() as s:
            s.add(Machine(code="X", name="X", work_center_id=999))


def test_concurrent_read_then_write_waits_instead_of_failing(app):
    """Writers that each read then write, the way services do (the row read FOR UPDATE): on SQLite
    BEGIN IMMEDIATE makes the next one wait for the lock (a deferred BEGIN would fail at once with
    "database is locked"); on PostgreSQL the row lock serializes them. No update is lost."""
    db = Database(app.config["DATABASE_URL"])
    with transaction() as s:
        s.add(WorkCenter(code="WC", name="counter", default_changeover_minutes=0))
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def bump() -> None:
        try:
            barrier.wait()
            for _ in range(10):
                with db.transaction() as s:
                    wc = s.scalar(select(WorkCenter).where(WorkCenter.code == "WC").with_for_update())
                    wc.default_changeover_minutes += 1
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.dispose()
    assert errors == []
    with get_db().read_session() as s:
        assert s.scalar(select(WorkCenter.default_changeover_minutes).where(WorkCenter.code == "WC")) == 40


def test_datetimes_come_back_as_utc(app):
    from mes.machines.models import Machine, MachineDowntime

    shanghai = dt.timezone(dt.timedelta(hours=8))
    with transaction() as s:
        wc = WorkCenter(code="W", name="W")
        s.add(wc)
        s.flush()
        m = Machine(code="M", name="M", work_center_id=wc.id)
        s.add(m)
        s.flush()
        s.add(MachineDowntime(machine_id=m.id, starts_at=dt.datetime(2026, 1, 1, 8, 0, tzinfo=shanghai)))
    with get_db().read_session() as s:
        value = s.scalar(select(MachineDowntime.starts_at))
    assert value == dt.datetime(2026, 1, 1, 0, 0, tzinfo=dt.UTC)
    assert value.tzinfo is not None


def test_naive_datetimes_are_refused(app):
    from sqlalchemy.exc import StatementError

    from mes.core.models import LoginThrottle

    with pytest.raises(StatementError):
        with transaction() as s:
            s.add(LoginThrottle(key="k", window_started_at=dt.datetime(2026, 1, 1)))


def test_failed_transaction_saves_nothing(app):
    with pytest.raises(RuntimeError):
        with transaction() as s:
            s.add(WorkCenter(code="HALF", name="half saved?"))
            s.flush()
            raise RuntimeError("boom")
    with get_db().read_session() as s:
        assert s.scalar(select(WorkCenter).where(WorkCenter.code == "HALF")) is None


def test_a_read_left_open_does_not_keep_the_wal_from_being_checkpointed(sqlite_template, tmp_path):
    """A request reads (its session stays open until the request ends) while writes commit: the
    read must not pin an old snapshot, or no checkpoint could finish, the WAL would grow without
    end and every commit would pay a sync of it. (SQLite's WAL: PostgreSQL has no such file.)"""
    import shutil

    from mes.core.db import session
    from tests.conftest import make_app

    shutil.copy(sqlite_template, tmp_path / "mes.db")
    app = make_app(f"sqlite:///{tmp_path / 'mes.db'}", tmp_path)
    with app.app_context():
        db = get_db()
        with transaction() as s:
            s.add(WorkCenter(code="WC", name="Cell"))
        assert session().scalar(select(WorkCenter.name).where(WorkCenter.code == "WC")) == "Cell"
        with db.transaction() as s:  # another request's write, the read session still open
            s.scalar(select(WorkCenter).where(WorkCenter.code == "WC")).name = "Cell 2"
        with db.engine.connect() as conn:
            busy, _frames, _done = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
        assert busy == 0
        assert session().scalar(select(WorkCenter.name).where(WorkCenter.code == "WC")) == "Cell 2"
        db.dispose()
