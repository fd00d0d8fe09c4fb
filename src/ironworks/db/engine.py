"""Engine and transactions.

``Database`` wraps one SQLAlchemy engine. ``read()`` opens a plain transaction; ``write()`` opens one that
takes SQLite's write lock at BEGIN (``BEGIN IMMEDIATE``) so that concurrent writers queue on the busy timeout
instead of failing half way with "database is locked". On PostgreSQL both are ordinary transactions.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from ironworks.db import limits

SQLITE_BUSY_TIMEOUT_MS = 30_000


def _prepare_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               pool_size=20, max_overflow=20, json_serializer=_json_dumps,
                               json_deserializer=orjson.loads)
        _prepare_sqlite(engine)
        return engine
    engine = create_engine(url, pool_size=20, max_overflow=20, pool_pre_ping=True, json_serializer=_json_dumps,
                           json_deserializer=orjson.loads)
    if engine.dialect.driver == "psycopg":
        from psycopg.types.json import set_json_loads

        @event.listens_for(engine, "connect")
        def _fast_json(dbapi_conn: Any, _record: Any) -> None:
            set_json_loads(orjson.loads, dbapi_conn)

    return engine


class Database:
    """One engine, two kinds of transaction. Repositories take a ``Database``; routes never see a session."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        limits.install(engine)  # values the columns cannot hold are a 400 before they reach the database
        self.is_sqlite = engine.dialect.name == "sqlite"
        self._reader = sessionmaker(bind=engine, expire_on_commit=False)
        writer_bind = engine.execution_options(sqlite_immediate=True) if self.is_sqlite else engine
        self._writer = sessionmaker(bind=writer_bind, expire_on_commit=False)
        #: SQLite has one writer at a time; queueing writers of this process on a lock is much faster than
        #: letting them poll SQLite's busy handler (which sleeps up to 100 ms per try)
        self._write_lock: contextlib.AbstractContextManager[object] = (
            threading.RLock() if self.is_sqlite else contextlib.nullcontext()
        )

    @classmethod
    def from_url(cls, url: str) -> Database:
        return cls(make_engine(url))

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        with self._reader() as session, session.begin():
            yield session

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        with self._write_lock, self._writer() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
