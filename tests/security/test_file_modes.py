"""The instance folder, the SQLite database, its WAL and shared-memory files and the secret key
are readable by the app's user only."""
from __future__ import annotations

import os
import stat

from mes.app import create_app
from mes.core import migrate
from mes.core.db import get_db, transaction
from mes.core.models import LoginThrottle


def mode(path) -> int:  # type: ignore[no-untyped-def]
    return stat.S_IMODE(os.stat(path).st_mode)


def test_instance_folder_and_database_files_are_private(tmp_path, monkeypatch):
    monkeypatch.delenv("MES_DATABASE_URL", raising=False)
    monkeypatch.delenv("MES_SECRET_KEY", raising=False)
    old = os.umask(0o022)  # a typical umask: files would be world-readable
    try:
        folder = tmp_path / "instance"
        app = create_app({"INSTANCE_PATH": str(folder)})
        migrate.upgrade(app)
        with app.app_context():
            with transaction() as s:
                s.add(LoginThrottle(key="x", failures=1))
            assert mode(folder) == 0o700
            for name in ("mes.db", "mes.db-wal", "mes.db-shm", "secret_key"):
                assert (folder / name).exists(), name
                assert mode(folder / name) == 0o600, name
            get_db().dispose()
    finally:
        os.umask(old)


def test_an_existing_world_readable_database_is_narrowed(tmp_path):
    db = tmp_path / "mes.db"
    db.touch()
    os.chmod(db, 0o644)
    app = create_app({"DATABASE_URL": f"sqlite:///{db}", "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "t"})
    assert mode(db) == 0o600
    app.extensions["mes.db"].dispose()
