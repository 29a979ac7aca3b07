"""SEC-3 on SQLite: a gated read's record is durable before the value is returned, even though it reaches the MAC
chain a moment later, by way of the audit journal (vault/journal.py).

The reads here run in a separate process that is killed with SIGKILL right after its last read returns: whatever
survives is what the journal made durable. Tampering with the journal before its records are folded in is caught
by `vowkeep audit verify`, like tampering with the chain itself.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

from sqlalchemy import func, select

from tests.support.api import operator_headers, register
from vowkeep.store.tables import audit_log
from vowkeep.vault import journal as journal_module
from vowkeep.vault.actors import Actor, ActorKind
from vowkeep.vault.journal import journal_path

_READER = textwrap.dedent(
    """
    import os, signal, sys
    from vowkeep import config
    from vowkeep.instance import open_instance
    from vowkeep.vault.actors import Actor, ActorKind

    data_dir, actor_name, count, *subject_ids = sys.argv[1:]
    instance = open_instance(config.from_env({"VOWKEEP_DATA_DIR": data_dir}))
    actor = Actor(ActorKind.operator, actor_name, role="support_agent")
    for i in range(int(count)):
        instance.vault.read_now(actor=actor, purpose="support", subject_id=subject_ids[i % len(subject_ids)])
    print("read", flush=True)
    if os.environ.get("CRASH"):
        os.kill(os.getpid(), signal.SIGKILL)  # no close(), no fold, no atexit: a crash
    instance.close()
    """
)


def _person(client, n: int) -> str:
    return register(
        client,
        {
            "email": f"journal{n}@example.org",
            "first_name": "Jo",
            "last_name": "Urnal",
            "date_of_birth": "1990-01-01",
            "password": "long enough pw",
        },
    )


def _reads_in_another_process(instance, actor: str, count: int, subject_ids: list[str], *, crash: bool):
    env = {**os.environ, **({"CRASH": "1"} if crash else {})}
    env.pop("VOWKEEP_DATABASE_URL", None)
    run = subprocess.Popen(
        [sys.executable, "-c", _READER, str(instance.settings.data_dir), actor, str(count), *subject_ids],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    return run


def _finish(run) -> None:
    out, err = run.communicate(timeout=120)
    assert "read" in out, err
    if run.returncode not in (0, -signal.SIGKILL):
        raise AssertionError(err)


def _reads_of(instance, actor: str) -> int:
    instance.vault.settle_audit()
    with instance.engine.connect() as conn:
        return conn.execute(
            select(func.count()).select_from(audit_log).where(audit_log.c.actor == f"operator:{actor}")
        ).scalar_one()


def _verify(cli, instance):
    return cli("audit", "verify", "--data-dir", instance.settings.data_dir)


def test_sec3_read_record_survives_a_crash_right_after_the_read(client, instance, cli):
    """SEC-3: the process is killed as soon as its reads return; every one of their records reaches the chain."""
    subject = _person(client, 1)
    run = _reads_in_another_process(instance, "crashed", 50, [subject], crash=True)
    _finish(run)
    assert run.returncode == -signal.SIGKILL
    assert _reads_of(instance, "crashed") == 50
    result = _verify(cli, instance)
    assert result.exit_code == 0, result.output


def test_sec3_journal_holds_no_personal_values(client, instance):
    """SEC-3 / SEC-1: the journal names actor, purpose, subject and categories, never a value."""
    subject = _person(client, 2)
    _finish(_reads_in_another_process(instance, "reader", 5, [subject], crash=True))
    text = journal_path(instance.settings.data_dir / "vowkeep.db").read_bytes()
    assert subject.encode() in text
    assert b"journal2@example.org" not in text and b"Urnal" not in text


def test_sec3_altered_journal_line_breaks_the_chain(client, instance, cli):
    """SEC-3: a journal line edited before it is folded in does not authenticate; verify names the record."""
    subject, other = _person(client, 3), _person(client, 4)
    _finish(_reads_in_another_process(instance, "edited", 3, [subject], crash=True))
    path = journal_path(instance.settings.data_dir / "vowkeep.db")
    data = path.read_bytes()
    assert data.count(subject.encode()) == 3
    path.write_bytes(data.replace(subject.encode(), other.encode(), 1))  # hide whose data was read
    result = _verify(cli, instance)
    assert result.exit_code == 1
    assert "1 line(s) of the audit journal were altered" in result.stderr
    assert _reads_of(instance, "edited") == 2  # the two intact lines are in the chain; the altered one is not


def test_sec3_removed_journal_line_breaks_the_chain(client, instance, cli):
    """SEC-3: deleting a record from the journal leaves a gap in its writer's count, which verify reports."""
    subject = _person(client, 5)
    _finish(_reads_in_another_process(instance, "deleted", 4, [subject], crash=True))
    path = journal_path(instance.settings.data_dir / "vowkeep.db")
    lines = path.read_bytes().splitlines(keepends=True)
    ours = [i for i, line in enumerate(lines) if b"operator:deleted" in line]
    del lines[ours[1]]
    path.write_bytes(b"".join(lines))
    result = _verify(cli, instance)
    assert result.exit_code == 1
    assert "1 record(s) of writer" in result.stderr and "removed from the audit journal" in result.stderr


def test_sec3_two_processes_share_the_journal(client, instance, cli):
    """SEC-3: two processes reading at once both land every record, once each, in one intact chain."""
    subjects = [_person(client, 10 + i) for i in range(3)]
    runs = [_reads_in_another_process(instance, f"proc{i}", 300, subjects, crash=i == 0) for i in range(2)]
    for run in runs:
        _finish(run)
    assert _reads_of(instance, "proc0") == 300
    assert _reads_of(instance, "proc1") == 300
    assert _reads_of(instance, "proc1") == 300  # folding again adds nothing
    result = _verify(cli, instance)
    assert result.exit_code == 0, result.output


def test_sec3_journal_is_emptied_once_folded_and_the_chain_goes_on(client, instance, cli, monkeypatch):
    """SEC-3: once a large journal is folded it starts again (a new epoch); nothing is folded twice or lost."""
    monkeypatch.setattr(journal_module, "ROTATE_BYTES", 2000)
    subject = _person(client, 20)
    actor = Actor(ActorKind.operator, "rotating", role="support_agent")
    path = journal_path(instance.settings.data_dir / "vowkeep.db")
    epochs = set()
    for _ in range(3):
        for _ in range(30):
            instance.vault.read_now(actor=actor, purpose="support", subject_id=subject)
        epochs.add(path.read_bytes().split(b"\n", 1)[0])
        instance.vault.settle_audit()
        assert len(path.read_bytes().splitlines()) == 1  # only the new epoch line is left
    assert len(epochs) == 3
    assert _reads_of(instance, "rotating") == 90
    result = _verify(cli, instance)
    assert result.exit_code == 0, result.output


def test_sec3_api_audit_log_shows_a_read_at_once(client, instance):
    """SEC-3: `GET /api/v1/audit` right after a read lists it (the journal is folded before the log is read)."""
    subject = _person(client, 30)
    actor = Actor(ActorKind.operator, "instant", role="support_agent")
    instance.vault.read_now(actor=actor, purpose="support", subject_id=subject)
    officer = operator_headers(client, instance, "privacy_officer", "olga")
    response = client.get("/api/v1/audit", params={"actor": "operator:instant"}, headers=officer)
    assert response.status_code == 200, response.text
    records = response.json()["records"]
    assert [(r["action"], r["subject_id"], r["purpose"]) for r in records] == [("read", subject, "support")]
    assert json.dumps(records).find("journal30@example.org") == -1
