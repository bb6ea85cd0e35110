"""Database engine and sessions for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlmodel import Session, create_engine

# How long a request waits for SQLite's write lock before it fails (503 at the API).
SQLITE_BUSY_TIMEOUT_SECONDS = 30
# How long opening a PostgreSQL connection may take: an unreachable server answers 503
# after this, instead of holding the request for the operating system's TCP timeout.
CONNECT_TIMEOUT_SECONDS = 5
# Set on a connection to begin a plain (deferred) SQLite transaction that reads only.
READ_ONLY = "homeward_read_only"
# Connections per engine: PostgreSQL's pool, and SQLite's (whose writers queue anyway).
POOL_SIZE = 10
MAX_OVERFLOW = 10


def concurrent_sessions(url: str) -> int:
    """How many request sessions a process should hold at once on this database.

    Below the pool's size, so that no request waits for a connection while holding
    locks, and far below the API's thread pool (40): a request that holds the database
    must always find a thread to carry on with. SQLite runs one write transaction at a
    time, and every request's transaction writes, so its requests queue in the process
    instead of polling the file lock against each other.
    """
    if make_url(url).get_backend_name() == "sqlite":
        return 1
    return POOL_SIZE + MAX_OVERFLOW - 4


@cache
def engine_for(url: str) -> Engine:
    """One engine per URL per process."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            # A directory that cannot be made shows as "unable to open database file" at
            # the first connection (503), not as an error of the process.
            with contextlib.suppress(OSError):
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
            pool_pre_ping=True,
            pool_size=POOL_SIZE,
            max_overflow=MAX_OVERFLOW,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=POOL_SIZE,
        max_overflow=MAX_OVERFLOW,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS},
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, issue BEGIN, so that every transaction takes the
    # write lock up front (below) and SQLite never fails a read-then-write upgrade.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    if connection.get_execution_options().get(READ_ONLY):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A unit of work: commits on success, rolls back on any error."""
    with Session(engine_for(url), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def ping(url: str, *, timeout_seconds: float) -> None:
    """Raise unless the database answers a trivial read within about `timeout_seconds`.

    Reads only, so that it never waits for SQLite's write lock; on SQLite it reads the
    schema, which needs the file itself (SELECT 1 would not touch it).
    """
    engine = engine_for(url)
    milliseconds = max(1, int(timeout_seconds * 1000))
    if engine.dialect.name == "sqlite":
        with engine.connect().execution_options(**{READ_ONLY: True}) as connection:
            connection.exec_driver_sql(f"PRAGMA busy_timeout={milliseconds}")
            try:
                connection.execute(text("SELECT count(*) FROM sqlite_master")).one()
            finally:
                connection.rollback()
                connection.exec_driver_sql(
                    f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}"
                )
        return
    with engine.connect() as connection:
        connection.execute(text(f"SET LOCAL statement_timeout = {milliseconds}"))
        connection.execute(text("SELECT 1")).one()
        connection.rollback()
