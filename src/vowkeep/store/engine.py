"""Database engines: SQLite in WAL mode by default, PostgreSQL (psycopg 3) to scale out.

SQLite connections begin every transaction with `BEGIN IMMEDIATE`: vowkeep's transactions nearly all write
(even a read appends its audit record), and taking the write lock up front avoids the busy-snapshot errors a
deferred transaction meets when it upgrades to a writer. `secure_delete` overwrites deleted content so erased
values do not linger in free pages.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    # In WAL mode NORMAL survives a crash of the process (commits are in the WAL before COMMIT returns);
    # only a power loss can lose the last transactions. VOWKEEP_SQLITE_SYNCHRONOUS=FULL trades speed for that.
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA secure_delete=ON",
    "PRAGMA busy_timeout=30000",
)


def make_engine(url: str, *, synchronous: str | None = None, pool_size: int = 10) -> Engine:
    """An engine for `url`; SQLite gets WAL, immediate transactions and secure delete.

    `hide_parameters`: statement parameters never appear in exception messages, which end up in logs and in jobs'
    last errors (vowkeep sends no plaintext personal data to SQL, and this keeps it that way if that ever slips).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, pool_size=pool_size, max_overflow=20, pool_pre_ping=False, hide_parameters=True)
        _configure_sqlite(engine, synchronous)
        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(parsed, pool_size=pool_size, max_overflow=20, pool_pre_ping=True, hide_parameters=True)
    raise ValueError(f"unsupported database URL scheme '{parsed.drivername}': use sqlite:/// or postgresql://")


def _configure_sqlite(engine: Engine, synchronous: str | None) -> None:
    import os

    mode = (synchronous or os.environ.get("VOWKEEP_SQLITE_SYNCHRONOUS") or "NORMAL").upper()
    if mode not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
        raise ValueError(f"VOWKEEP_SQLITE_SYNCHRONOUS must be NORMAL, FULL or EXTRA, not {mode!r}")
    engine.vowkeep_synchronous = mode  # what the audit journal beside the database must match

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the driver, decide when transactions begin (the pysqlite recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma if "synchronous" not in pragma else f"PRAGMA synchronous={mode}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection):
        # Straight to the driver: exec_driver_sql would cost ten times what SQLite needs for this.
        conn.connection.dbapi_connection.execute("BEGIN IMMEDIATE")


def sqlite_file(engine: Engine) -> Path | None:
    """The database file of a SQLite engine (None for PostgreSQL and in-memory databases)."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return None
    return Path(engine.url.database)


def durable_writes(engine: Engine) -> bool:
    """Whether commits on this SQLite engine reach the disk before they return (synchronous FULL or EXTRA)."""
    return getattr(engine, "vowkeep_synchronous", "NORMAL") in ("FULL", "EXTRA")


def read_connection(engine: Engine) -> sqlite3.Connection:
    """A plain sqlite3 connection to the engine's database that can only read, in autocommit mode: each statement
    sees the latest committed state and takes no lock a writer would wait for (WAL)."""
    path = sqlite_file(engine)
    if path is None:
        raise ValueError("read connections are for SQLite database files")
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA query_only=ON")
    return conn


def is_sqlite(conn_or_engine) -> bool:
    return conn_or_engine.dialect.name == "sqlite"


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """One unit of work: commits on success, rolls back on any exception."""
    with engine.begin() as conn:
        yield conn


def checkpoint(engine: Engine) -> None:
    """Fold the SQLite WAL into the database and truncate it, so erased values leave the WAL file too."""
    if engine.dialect.name != "sqlite":
        return
    raw = engine.raw_connection()
    try:
        # Outside any transaction: a checkpoint inside BEGIN IMMEDIATE could not truncate the WAL.
        raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()
