"""Bring a database to the newest schema with alembic (programmatically; no alembic.ini needed).

Every process that opens an instance checks its schema, and importing alembic and loading its script directory is a
good part of `vowkeep serve`'s start-up. So the check comes first and needs neither: the heads are read from the
`revision` / `down_revision` lines of the migration files, the database's revision from `alembic_version`. Alembic
is imported only when there is something to apply (tests/test_migrations.py holds the two views of the heads equal).
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

MIGRATIONS = Path(__file__).parent / "migrations"
_ASSIGNMENT = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(.+)$", re.MULTILINE)


def _config(which: str):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS / which))
    return config


@cache
def heads(which: str) -> frozenset[str]:
    """The newest revision(s) of the `data` or `keystore` migrations, read from the migration files."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / which / "versions").glob("*.py"):
        found = dict(_ASSIGNMENT.findall(path.read_text(encoding="utf-8")))
        if "revision" not in found:
            continue
        revisions.add(ast.literal_eval(found["revision"]))
        down = ast.literal_eval(found.get("down_revision", "None"))
        parents.update((down,) if isinstance(down, str) else down or ())
    return frozenset(revisions - parents)


def current(engine: Engine) -> frozenset[str]:
    """The revision(s) the database is at (empty for a new database)."""
    try:
        with engine.connect() as conn:
            return frozenset(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    except DBAPIError:  # no alembic_version table yet
        return frozenset()


def is_current(engine: Engine, which: str = "data") -> bool:
    """Whether the database is at the newest schema."""
    return current(engine) == heads(which)


def upgrade(engine: Engine, which: str = "data") -> None:
    """Apply every pending migration of the `data` or `keystore` database."""
    if is_current(engine, which):
        return
    from alembic import command

    config = _config(which)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def revision(engine: Engine, which: str, message: str) -> None:
    """Autogenerate a migration from the tables (a development tool)."""
    from alembic import command

    config = _config(which)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.revision(config, message=message, autogenerate=True)
