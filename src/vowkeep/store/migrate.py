"""Bring a database to the newest schema with alembic (programmatically; no alembic.ini needed)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def _config(which: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS / which))
    return config


def upgrade(engine: Engine, which: str = "data") -> None:
    """Apply every pending migration of the `data` or `keystore` database."""
    config = _config(which)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def revision(engine: Engine, which: str, message: str) -> None:
    """Autogenerate a migration from the tables (a development tool)."""
    config = _config(which)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.revision(config, message=message, autogenerate=True)


def is_current(engine: Engine, which: str = "data") -> bool:
    """Whether the database is at the newest schema."""
    heads = set(ScriptDirectory.from_config(_config(which)).get_heads())
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    return current == heads
