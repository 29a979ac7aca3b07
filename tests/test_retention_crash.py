"""The sweeper survives `kill -9` (RET-1): killed in the middle of a real `vowkeep sweep` process and run again,
it ends exactly where one uninterrupted run ends, and at no moment is anything half-deleted."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from benchmarks.sweep import build
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from tests.support import backends
from vowkeep.store.engine import checkpoint, make_engine
from vowkeep.store.keystore_tables import data_keys
from vowkeep.store.tables import anonymised_counts, blind_index, items, subjects

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
ITEMS = 24_000  # 12,000 expire: 120 batches of 100


def _sweep_process(data_dir: Path, database_url: str | None, *, batch_size: int = 100) -> subprocess.Popen:
    env = {**os.environ, "VOWKEEP_DATA_DIR": str(data_dir)}
    env.pop("VOWKEEP_DATABASE_URL", None)
    if database_url:
        env["VOWKEEP_DATABASE_URL"] = database_url
    command = "from vowkeep.cli import main; main()"
    return subprocess.Popen(
        [sys.executable, "-c", command, "sweep", "--batch-size", str(batch_size)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _url(data_dir: Path, database_url: str | None) -> str:
    return database_url or f"sqlite:///{data_dir / 'vowkeep.db'}"


def _state(data_dir: Path, database_url: str | None) -> dict:
    """Everything a sweep changes, in a comparable form."""
    engine = make_engine(_url(data_dir, database_url))
    keys = make_engine(f"sqlite:///{data_dir / 'keys.db'}")
    try:
        with engine.connect() as conn:
            state = {
                "items": set(conn.execute(select(items.c.id)).scalars()),
                "subjects": dict(conn.execute(select(subjects.c.id, subjects.c.state)).all()),
                "index": set(conn.execute(select(blind_index.c.item_id)).scalars()),
                "anonymised": set(conn.execute(select(anonymised_counts)).all()),
            }
        with keys.connect() as conn:
            state["keys"] = set(conn.execute(select(data_keys.c.subject_id)).scalars())
    finally:
        engine.dispose()
        keys.dispose()
    return state


def _nothing_half_done(data_dir: Path, database_url: str | None) -> None:
    """At any moment: every index row has its item, no live subject is left without items (a subject is emptied
    and closed in one transaction), and no erased subject keeps an item (nothing is held here)."""
    engine = make_engine(_url(data_dir, database_url))
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
            dangling = conn.execute(
                select(func.count()).select_from(blind_index).where(~blind_index.c.item_id.in_(select(items.c.id)))
            ).scalar_one()
            assert dangling == 0
            with_items = select(items.c.subject_id).distinct()
            empty_live = conn.execute(
                select(func.count()).where(subjects.c.state != "erased", ~subjects.c.id.in_(with_items))
            ).scalar_one()
            assert empty_live == 0
            erased_with_items = conn.execute(
                select(func.count()).where(subjects.c.state == "erased", subjects.c.id.in_(with_items))
            ).scalar_one()
            assert erased_with_items == 0
    finally:
        engine.dispose()


def _count_items(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(items)).scalar_one()
    finally:
        engine.dispose()


def _copy_postgres(url: str) -> str:
    """A copy of the database at `url` (PostgreSQL's template copy), dropped by `_drop_postgres`."""
    name = f"{make_url(url).database}_ref_{uuid.uuid4().hex[:6]}"
    admin = create_engine(backends.ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(url).database}"'))
    admin.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _drop_postgres(url: str) -> None:
    admin = create_engine(backends.ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def test_ret1_sweep_killed_mid_run_and_run_again_ends_as_if_run_once(tmp_path, backend):
    """RET-1: `kill -9` a running `vowkeep sweep` after some of its batches committed; check that nothing is
    half-deleted; run it again; the data, the keys and the audit chain are what one uninterrupted run leaves."""
    crashed, reference = tmp_path / "crashed", tmp_path / "reference"
    instance, expired = build(crashed, ITEMS, database_url=backend)
    checkpoint(instance.engine)
    checkpoint(instance.keystore_engine)
    instance.close()
    shutil.copytree(crashed, reference)
    reference_url = _copy_postgres(backend) if backend else None
    try:
        url = _url(crashed, backend)
        before = _count_items(url)
        process = _sweep_process(crashed, backend)
        deadline = time.monotonic() + 120
        killed_at = None
        while time.monotonic() < deadline and process.poll() is None:
            remaining = _count_items(url)
            if before - remaining >= 500:  # five batches or more have committed
                process.send_signal(signal.SIGKILL)
                killed_at = remaining
                break
            time.sleep(0.02)
        process.wait(timeout=30)
        assert killed_at is not None, f"the sweep ended before it could be killed: {process.stderr.read()}"
        assert process.returncode == -signal.SIGKILL
        left = _count_items(url)
        assert before - len(expired) < left <= killed_at, "the kill must land in the middle of the sweep"
        _nothing_half_done(crashed, backend)

        again = _sweep_process(crashed, backend)
        _out, err = again.communicate(timeout=300)
        assert again.returncode == 0, err
        once = _sweep_process(reference, reference_url)
        _out_once, err = once.communicate(timeout=300)
        assert once.returncode == 0, err

        after_crash, after_once = _state(crashed, backend), _state(reference, reference_url)
        assert after_crash == after_once
        assert len(after_crash["items"]) == before - len(expired)
        assert not set(expired) & after_crash["items"]
        _nothing_half_done(crashed, backend)
        for data_dir, database_url in ((crashed, backend), (reference, reference_url)):
            env = {**os.environ, "VOWKEEP_DATA_DIR": str(data_dir)}
            if database_url:
                env["VOWKEEP_DATABASE_URL"] = database_url
            verify = subprocess.run(
                [sys.executable, "-c", "from vowkeep.cli import main; main()", "audit", "verify"],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            assert verify.returncode == 0, verify.stderr
    finally:
        if reference_url:
            _drop_postgres(reference_url)
