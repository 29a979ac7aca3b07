"""Backups and crypto-shredding (RET-4): `vowkeep backup` snapshots the data database without any key; a subject
erased after the backup stays unreadable when the old backup is restored beside the current key store."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import select

from tests.support.api import REGISTRATION, register
from vowkeep import config
from vowkeep.instance import open_instance
from vowkeep.store.tables import items, subjects
from vowkeep.vault.actors import Actor
from vowkeep.vault.crypto import DecryptionError
from vowkeep.vault.decisions import SUBJECT_RIGHTS

pytestmark = pytest.mark.postgres


def _env(instance) -> dict[str, str]:
    env = {"VOWKEEP_DATA_DIR": str(instance.settings.data_dir)}
    if not instance.settings.is_sqlite:
        env["VOWKEEP_DATABASE_URL"] = instance.settings.database_url
    return env


def _read(instance, subject_id):
    with instance.vault.transaction() as conn:
        return instance.vault.read(conn, actor=Actor.system("test"), purpose=SUBJECT_RIGHTS, subject_id=subject_id)


def test_ret4_an_old_backup_cannot_bring_back_an_erased_subject(client, instance, cli, tmp_path):
    """RET-4: back up, erase a subject, restore the old backup beside the current key store: the erased subject's
    ciphertext cannot be decrypted (and is erased again), everyone else's data reads as before."""
    erased = register(client)
    kept = register(client, {**REGISTRATION, "email": "grace@example.org", "first_name": "Grace"})
    backup_file = tmp_path / "before-erasure.backup"
    made = cli("backup", "--to", backup_file, env=_env(instance))
    assert made.exit_code == 0, made.output
    assert made.stdout.startswith(f"backed up the data database to {backup_file} (")
    assert "the key store is not in it" in made.stderr
    with instance.vault.transaction() as conn:
        instance.vault.erase_subject(conn, actor=Actor.system("rights"), subject_id=erased, reason="erasure-request")
    assert not instance.keystore.has_data_key(erased)

    # The old backup still holds the erased subject's ciphertext, under a key that no longer exists anywhere.
    settings = config.from_env(_env(instance))
    if instance.settings.is_sqlite:
        backup = sqlite3.connect(backup_file)
        rows = backup.execute("SELECT id, category, ciphertext FROM items WHERE subject_id = ?", (erased,)).fetchall()
        assert "data_keys" not in {r[0] for r in backup.execute("SELECT name FROM sqlite_master")}
        backup.close()
        assert len(rows) == 6
        assert b"Ada" not in b"".join(r[2] for r in rows)
    instance.close()

    refused = cli("restore", "--from", backup_file, env=_env(instance))
    assert refused.exit_code == 1
    assert "holds a live instance; pass --force" in refused.stderr
    restored = cli("restore", "--from", backup_file, "--force", env=_env(instance))
    assert restored.exit_code == 0, restored.output
    assert "1 subjects were erased after the backup was taken" in restored.stdout

    reopened = open_instance(settings)
    try:
        assert reopened.keystore.data_key(erased) is None
        with reopened.engine.connect() as conn:
            state = conn.execute(select(subjects.c.state).where(subjects.c.id == erased)).scalar_one()
            left = conn.execute(select(items.c.id).where(items.c.subject_id == erased)).all()
        assert state == "erased" and left == []
        values = {v.field: v.value for v in _read(reopened, kept)}
        assert values["first_name"] == "Grace" and values["email"] == "grace@example.org"
        chain = cli("audit", "verify", env=_env(instance))
        assert chain.exit_code == 0, chain.output
    finally:
        reopened.close()


def test_ret4_restored_ciphertext_of_a_shredded_subject_does_not_decrypt(client, instance, tmp_path):
    """RET-4 at the level of the cipher: the backup's item, with the current key store, raises DecryptionError."""
    from vowkeep.retention.backup import backup, restore_database

    subject_id = register(client)
    backup_file = tmp_path / "snapshot"
    backup(instance.settings.database_url, backup_file)
    with instance.vault.transaction() as conn:
        instance.vault.erase_subject(conn, actor=Actor.system("rights"), subject_id=subject_id, reason="x")
    settings = instance.settings
    instance.close()
    restore_database(settings.database_url, backup_file, force=True)
    reopened = open_instance(settings)
    try:
        with pytest.raises(DecryptionError):
            _read(reopened, subject_id)
    finally:
        reopened.close()


def test_ret4_backup_and_restore_say_what_was_wrong(instance, cli, tmp_path):
    target = tmp_path / "b"
    assert cli("backup", "--to", target, env=_env(instance)).exit_code == 0
    again = cli("backup", "--to", target, env=_env(instance))
    assert again.exit_code == 1 and "exists; pass --force" in again.stderr
    assert cli("backup", "--to", target, "--force", env=_env(instance)).exit_code == 0
    nowhere = cli("backup", "--to", tmp_path / "missing" / "b", env=_env(instance))
    assert nowhere.exit_code == 1 and "does not exist" in nowhere.stderr
    junk = tmp_path / "junk"
    junk.write_text("not a backup")
    bad = cli("restore", "--from", junk, "--force", env=_env(instance))
    assert bad.exit_code == 1 and "is not a vowkeep backup" in bad.stderr
    keys = instance.settings.data_dir / "keys.db"
    if instance.settings.is_sqlite:
        refused = cli("restore", "--from", keys, "--force", env=_env(instance))
        assert refused.exit_code == 1 and "is a key store, not a data backup" in refused.stderr
    assert cli("restore", "--from", tmp_path / "none", env=_env(instance)).exit_code == 1


def test_ret4_restore_into_an_empty_data_directory(cli, tmp_path, sample_policy_path):
    """RET-4: a backup restored where there is no data database yet needs no --force; the instance opens on it
    (SQLite: the data directory keeps its key store and master key)."""
    from tests.support import instances

    instance, _ = instances.create(tmp_path / "data", sample_policy_path)
    try:
        with instance.vault.transaction() as conn:
            from vowkeep.vault.intake import check_submission

            point = instance.vault.policy.collection_point_by_key["inquiry"]
            submission = check_submission(point, {"email": "eve@example.org", "message": "hello"})
            subject_id = instance.vault.collect(
                conn, actor=Actor.system("t"), point=point, submission=submission
            ).subject_id
        backup_file = tmp_path / "b"
        assert cli("backup", "--to", backup_file, env=_env(instance)).exit_code == 0
    finally:
        instance.close()
    data_dir = tmp_path / "data"
    for name in ("vowkeep.db", "vowkeep.db-wal", "vowkeep.db-shm"):
        (data_dir / name).unlink(missing_ok=True)
    env = {"VOWKEEP_DATA_DIR": str(data_dir)}
    restored = cli("restore", "--from", backup_file, env=env)
    assert restored.exit_code == 0, restored.output
    reopened = open_instance(config.from_env(env))
    try:
        assert {v.field: v.value for v in _read(reopened, subject_id)}["message"] == "hello"
    finally:
        reopened.close()


def test_ret4_postgresql_backups_need_pg_dump(monkeypatch, tmp_path):
    """RET-4: without the PostgreSQL client tools the backup says what to install."""
    from vowkeep.retention import backup as backups

    monkeypatch.setattr(backups.shutil, "which", lambda name: None)
    with pytest.raises(backups.BackupError, match="pg_dump is not installed"):
        backups.backup("postgresql://postgres@127.0.0.1:5432/nothing", tmp_path / "b")
    dump = tmp_path / "dump"
    dump.write_bytes(b"PGDMP\x01\x0e\x00rest")
    with pytest.raises(backups.BackupError, match="is a pg_dump backup, but the data database is SQLite"):
        backups.restore_database(f"sqlite:///{tmp_path / 'x.db'}", dump)


def test_ret4_erasure_folds_the_key_stores_wal_at_once_and_the_data_wal_in_the_worker(client, instance):
    """RET-4: once an erasure commits, no wrapped copy of the destroyed key is left in `keys.db-wal` (folded on the
    erasure's path); the data database's WAL, which holds only ciphertext under that key, is folded by a job the
    erasure queued, so the erased rows leave `vowkeep.db-wal` too without the erasure waiting for it (SQLite)."""
    from vowkeep.store.keystore_tables import data_keys
    from vowkeep.store.tables import jobs
    from vowkeep.vault.gate import FOLD_WAL_JOB
    from vowkeep.worker import Worker

    subject_id = register(client, {**REGISTRATION, "email": "shred@example.org"})
    with instance.keystore.engine.connect() as conn:
        wrapped = conn.execute(select(data_keys.c.wrapped).where(data_keys.c.subject_id == subject_id)).scalar_one()
    with instance.engine.connect() as conn:
        sealed = list(conn.execute(select(items.c.ciphertext).where(items.c.subject_id == subject_id)).scalars())
    with instance.vault.transaction() as conn:
        instance.vault.erase_subject(conn, actor=Actor.system("rights"), subject_id=subject_id, reason="erasure")
    data_dir = instance.settings.data_dir
    keys_wal = data_dir / "keys.db-wal"
    assert not instance.keystore.has_data_key(subject_id)
    assert not keys_wal.exists() or bytes(wrapped) not in keys_wal.read_bytes()

    def fold_jobs():
        with instance.engine.connect() as conn:
            return conn.execute(select(jobs.c.state).where(jobs.c.kind == FOLD_WAL_JOB)).scalars().all()

    if not instance.settings.is_sqlite:
        assert fold_jobs() == []  # PostgreSQL has no WAL file of ours to fold
        return
    assert fold_jobs() == ["queued"]
    Worker(instance).run_until_idle()
    assert fold_jobs() == ["done"]
    wal = (data_dir / "vowkeep.db-wal").read_bytes() if (data_dir / "vowkeep.db-wal").exists() else b""
    assert sealed and not any(bytes(value) in wal for value in sealed)
