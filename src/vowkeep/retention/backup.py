"""Backups of the data database (RET-4): a consistent snapshot that holds no key.

The data database is copied while the instance serves — SQLite through its online backup API, PostgreSQL through
`pg_dump` — and the key store is not: it is a separate database, backed up apart with the master key. Erasing a
subject destroys its data key, so a backup taken before the erasure, restored later beside the current key store,
still holds the subject's ciphertext but nothing can open it (crypto-shredding). `restore` goes further and erases
such subjects again, so a restored database does not bring them back to life: every subject whose key is gone has
its unreadable items deleted and is marked erased.

Restoring rolls the data — and the audit log with it — back to the backup. The restore appends an audit record
saying so and moves the key store's audit checkpoint to the restored chain's head, after checking that the key store
belongs to this data (the chain's head verifies under the key store's audit key); `vowkeep audit verify` then passes
on the restored chain.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url

from vowkeep.store.tables import audit_log, items, policy_versions, subjects

PG_DUMP_MAGIC = b"PGDMP"
SQLITE_MAGIC = b"SQLite format 3\x00"


class BackupError(Exception):
    """A backup or restore that cannot be done as asked; the message says why."""


@dataclass
class BackupResult:
    path: Path
    bytes: int
    kind: str  # sqlite | pg_dump


@dataclass
class RestoreResult:
    kind: str
    subjects: int
    re_erased: int
    audit_head: int


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError("an in-memory database cannot be backed up")
    return Path(parsed.database)


def _libpq_url(url: str) -> str:
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def backup(database_url: str, target: Path, *, force: bool = False) -> BackupResult:
    """Write a consistent snapshot of the data database to `target` (never the key store)."""
    target = Path(target)
    if target.exists() and not force:
        raise BackupError(f"{target} exists; pass --force to replace it")
    if not target.parent.exists():
        raise BackupError(f"{target.parent} does not exist")
    source = _sqlite_file(database_url)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    if source is not None:
        if not source.exists():
            raise BackupError(f"{source} does not exist")
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        dst = sqlite3.connect(partial)
        try:
            # The online backup API copies a consistent snapshot while others keep writing.
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no WAL beside it
        finally:
            dst.close()
            src.close()
        kind = "sqlite"
    else:
        pg_dump = shutil.which("pg_dump")
        if pg_dump is None:
            raise BackupError("pg_dump is not installed: install the PostgreSQL client tools to back up PostgreSQL")
        _run([pg_dump, "--format=custom", "--no-owner", f"--file={partial}", _libpq_url(database_url)], "pg_dump")
        kind = "pg_dump"
    os.chmod(partial, 0o600)
    partial.replace(target)
    return BackupResult(target, target.stat().st_size, kind)


def _run(args: list[str], tool: str) -> None:
    result = subprocess.run(args, capture_output=True, text=True, check=False)  # noqa: S603 — fixed tool, no shell
    if result.returncode != 0:
        # The tools' messages name objects, never row values; keep the last lines.
        detail = " ".join(result.stderr.strip().splitlines()[-3:])
        raise BackupError(f"{tool} failed ({result.returncode}): {detail}")


def file_kind(path: Path) -> str:
    """`sqlite` or `pg_dump`, from the file's first bytes; BackupError for anything else."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc.strerror}") from None
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "pg_dump"
    raise BackupError(f"{path} is not a vowkeep backup (neither an SQLite database nor a pg_dump archive)")


def _holds_instance(engine: Engine) -> bool:
    """Whether the database already holds a published declaration (a live instance)."""
    from sqlalchemy import inspect

    with engine.connect() as conn:
        if "policy_versions" not in inspect(conn).get_table_names():
            return False
        return bool(conn.execute(select(func.count()).select_from(policy_versions)).scalar_one())


def restore_database(database_url: str, source: Path, *, force: bool = False) -> str:
    """Put a backup in place of the data database; refuse to overwrite a live one without `force`."""
    from vowkeep.store.engine import make_engine

    kind = file_kind(source)
    target_file = _sqlite_file(database_url)
    if (target_file is None) != (kind == "pg_dump"):
        raise BackupError(
            f"{source} is a{'n SQLite' if kind == 'sqlite' else ' pg_dump'} backup, but the data database is "
            f"{'PostgreSQL' if target_file is None else 'SQLite'}"
        )
    if kind == "sqlite":
        check = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            tables = {r[0] for r in check.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            ok = check.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{source} is not a readable SQLite database: {exc}") from None
        finally:
            check.close()
        if "data_keys" in tables:
            raise BackupError(f"{source} holds data keys: it is a key store, not a data backup")
        if not ok or not {"policy_versions", "items", "subjects", "audit_log"} <= tables:
            raise BackupError(f"{source} is not a vowkeep data backup")
    engine = make_engine(database_url)
    try:
        if (target_file is None or target_file.exists()) and _holds_instance(engine) and not force:
            raise BackupError("the data database holds a live instance; pass --force to replace it with the backup")
    finally:
        engine.dispose()
    if kind == "sqlite":
        target_file.parent.mkdir(parents=True, exist_ok=True)
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        dst = sqlite3.connect(target_file, timeout=30)
        try:
            dst.execute("PRAGMA journal_mode=WAL")
            # Page by page into the live file, under its own locks: readers never see a half-written database.
            src.backup(dst)
            dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            dst.close()
            src.close()
        os.chmod(target_file, 0o600)
    else:
        pg_restore = shutil.which("pg_restore")
        if pg_restore is None:
            raise BackupError("pg_restore is not installed: install the PostgreSQL client tools to restore")
        _run(
            [
                pg_restore,
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                f"--dbname={_libpq_url(database_url)}",
                str(source),
            ],
            "pg_restore",
        )
    return kind


def settle(instance) -> tuple[int, int, int]:
    """After a restore: erase again every subject whose key is gone, anchor the audit chain; returns
    (subjects, re-erased, audit head)."""
    from vowkeep import clock
    from vowkeep.vault import audit
    from vowkeep.vault.actors import Actor

    vault = instance.vault
    key = instance.keystore.system_key(audit.AUDIT_KEY_NAME)
    if vault.journal is not None:
        with instance.engine.begin() as conn:
            vault.journal.skip_to_end(conn)
    with instance.engine.connect() as conn:
        chain = audit.verify(conn, key)
        if not chain.ok:
            raise BackupError(
                f"the restored audit chain does not verify under this key store's audit key ({chain.reason}): the "
                "key store may belong to another instance. Nothing was erased; check VOWKEEP_KEYSTORE_URL and the "
                "master key, or `vowkeep audit verify`."
            )
        live = list(
            conn.execute(select(subjects.c.id).where(subjects.c.state != "erased").order_by(subjects.c.id)).scalars()
        )
        held_erased = list(
            conn.execute(
                select(subjects.c.id)
                .where(subjects.c.state == "erased")
                .where(select(func.count()).where(items.c.subject_id == subjects.c.id).scalar_subquery() > 0)
            ).scalars()
        )
    candidates = live + held_erased
    keyed = set()
    for start in range(0, len(candidates), 5000):
        keyed |= set(instance.keystore.key_ages(candidates[start : start + 5000]))
    shredded = [s for s in candidates if s not in keyed]
    actor = Actor.system("restore")
    with vault.transaction() as conn:
        if shredded:
            for subject_id in shredded:
                rows = conn.execute(
                    select(items.c.id, items.c.subject_id, items.c.category).where(items.c.subject_id == subject_id)
                ).all()
                vault.expire_items(
                    conn, actor=actor, rows=[tuple(r) for r in rows], reason="key-destroyed", action="erase"
                )
            vault.close_subjects(conn, actor=actor, subject_ids=shredded, reason="key-destroyed")
        before = instance.keystore.last_audit_checkpoint()
        vault.audit(
            conn,
            actor=actor,
            action="restore",
            detail={
                "restored_head": chain.head_seq,
                "checkpoint_before": before[0] if before else None,
                "re_erased": len(shredded),
                "at": clock.now().isoformat(),
            },
        )
    with instance.engine.connect() as conn:
        head = conn.execute(select(audit_log.c.seq, audit_log.c.mac).order_by(audit_log.c.seq.desc()).limit(1)).first()
    instance.keystore.record_audit_checkpoint(head.seq, head.mac)
    vault.fold_wal()
    return len(live) + len(held_erased), len(shredded), head.seq
