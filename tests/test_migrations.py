"""The schema check that every process runs on opening an instance: it reads the migration files and
`alembic_version` itself, and brings alembic in only when a migration is pending."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from vowkeep.store import migrate

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize("which", ["data", "keystore"])
def test_heads_read_from_the_files_are_alembics_heads(which):
    config = Config()
    config.set_main_option("script_location", str(migrate.MIGRATIONS / which))
    assert migrate.heads(which) == frozenset(ScriptDirectory.from_config(config).get_heads())


def test_a_new_database_is_migrated_and_then_left_alone(tmp_path, backend):
    engine = create_engine(backend or f"sqlite:///{tmp_path / 'new.db'}")
    try:
        assert migrate.current(engine) == frozenset() and not migrate.is_current(engine, "data")
        migrate.upgrade(engine, "data")
        assert migrate.is_current(engine, "data") and migrate.current(engine) == migrate.heads("data")
        with engine.begin() as conn:  # one revision behind: the next upgrade applies the newest migration again
            conn.execute(text("DROP TABLE audit_journal_writers"))
            conn.execute(text("DROP TABLE audit_journal_state"))
            conn.execute(text("UPDATE alembic_version SET version_num = '0005_inbox'"))
        assert not migrate.is_current(engine, "data")
        migrate.upgrade(engine, "data")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM audit_journal_state")).scalar() == 0
        assert migrate.is_current(engine, "data")
    finally:
        engine.dispose()


def test_opening_a_current_instance_does_not_import_alembic(instance):
    """Start-up of `vowkeep serve` on an existing instance: no migration pending, so no alembic."""
    probe = textwrap.dedent(
        """
        import os, sys
        from vowkeep import config
        from vowkeep.instance import open_instance
        open_instance(config.from_env(os.environ)).close()
        print("alembic" in sys.modules)
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOWKEEP_")}
    env |= {"VOWKEEP_DATA_DIR": str(instance.settings.data_dir), "VOWKEEP_DATABASE_URL": instance.settings.database_url}
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "False"
