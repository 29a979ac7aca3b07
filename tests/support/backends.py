"""Databases for tests: SQLite files in a temporary directory, or fresh databases on the real PostgreSQL server.

PostgreSQL tests use `VOWKEEP_TEST_PG_URL` (default: postgres on 127.0.0.1:5432, trust auth); every test gets a
database of its own, created and dropped around it. Under `CI=true` an unreachable server fails the run instead of
skipping: the PostgreSQL backend must be proven, never silently passed over.
"""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from functools import cache

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ADMIN_URL = os.environ.get("VOWKEEP_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
RUN_ID = uuid.uuid4().hex[:8]


@cache
def postgres_available() -> str | None:
    """None if the server answers, else why not."""
    try:
        engine = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any reason the server cannot be used
        return f"{type(exc).__name__}: {exc}"


def require_postgres() -> None:
    reason = postgres_available()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL is required under CI=true but is unreachable: {reason}")
    pytest.skip(f"PostgreSQL unreachable (runs under CI=true are required to have it): {reason}")


@contextmanager
def postgres_database():
    """A new, empty PostgreSQL database; dropped afterwards. Yields its URL."""
    require_postgres()
    name = f"vowkeep_test_{RUN_ID}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
