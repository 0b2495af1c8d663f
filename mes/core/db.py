"""Database setup: the declarative base, the engine, and one transaction per user action.

SQLite runs in WAL mode with a busy timeout and foreign keys on every connection; its write
transactions start with ``BEGIN IMMEDIATE`` so that a read-then-write waits for the lock instead
of failing with "database is locked", and its reads run without a transaction so that no old
snapshot keeps the WAL from being checkpointed. PostgreSQL is used when ``MES_DATABASE_URL`` says so.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy import Enum as SAEnum
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

# Named constraints so that Alembic's batch mode on SQLite can drop and recreate them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every backend (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def str_enum(enum_cls: type, length: int = 16) -> SAEnum:
    """A ``StrEnum`` column stored as its value in a VARCHAR (no native enum: values grow)."""
    return SAEnum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime()}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def private_sqlite_file(database: str | None) -> None:
    """The database file readable by the app's user only, created so before SQLite opens it:
    SQLite gives its -wal and -shm files the database file's permissions."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    try:
        if not path.exists():
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            if file.exists():
                os.chmod(file, 0o600)
    except OSError:  # another user's file (a shared deployment): leave it as its owner set it
        pass


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine configured for the shop's two backends."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        private_sqlite_file(parsed.database)
        engine = create_engine(url, connect_args={"timeout": 10, "check_same_thread": False}, **kwargs)
        _configure_sqlite(engine)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = str(parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False))
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (pysqlite's implicit BEGIN comes too late and
        # is always DEFERRED).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Reads open no transaction: each statement sees the latest commit and lets go of its
        # snapshot when it ends. A read transaction held across a request (a view reads, a
        # service writes, the view renders) would keep every checkpoint from finishing: the
        # WAL would grow without end and each commit would pay a sync of it.
        if conn.get_execution_options().get("mes_write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """The engine and session factories of one app, kept in ``app.extensions``."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(
            self.engine.execution_options(mes_write=True), expire_on_commit=False
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def read_session(self) -> Session:
        return self._read()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Session]:
        """One write transaction: committed when the block ends, rolled back on any error."""
        session = self._write()
        try:
            with session.begin():
                yield session
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def init_app(app: Flask) -> Database:
    database = Database(app.config["DATABASE_URL"])
    app.extensions["mes.db"] = database

    def _close_read_session(_exc: BaseException | None = None) -> None:
        session = g.pop("mes_read_session", None)
        if session is not None:
            session.close()

    # Per request as well: an app context can outlive requests (CLI, tests), but a request must
    # never see the previous request's session or its snapshot.
    app.teardown_request(_close_read_session)
    app.teardown_appcontext(_close_read_session)

    return database


def get_db() -> Database:
    return current_app.extensions["mes.db"]


def session() -> Session:
    """The request's read session (closed when the app context ends).

    Views use it for look-ups; every change goes through :func:`transaction` in a service.
    """
    if "mes_read_session" not in g:
        g.mes_read_session = get_db().read_session()
    return g.mes_read_session


@contextlib.contextmanager
def transaction() -> Iterator[Session]:
    """Open the one write transaction of a user action (``with transaction() as s:``)."""
    with get_db().transaction() as write_session:
        yield write_session
    # The request's read session may hold a snapshot from before this write (SQLite WAL keeps
    # one per read transaction): end it so what the view renders next includes the change.
    read = g.get("mes_read_session")
    if read is not None:
        read.rollback()
