"""SEC-3: the audit log is a MAC chain; `vowkeep audit verify` catches edits, deletions, reordering and cuts.
SEC-5: `vowkeep audit touched` lists what an actor reached in a window."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import delete, select, update

from tests.support.api import operator_headers, register
from vowkeep.store.tables import audit_log

pytestmark = pytest.mark.postgres


def _activity(client, instance, n=3):
    headers = operator_headers(client, instance, "support_agent", "auditee")
    subjects = [
        register(
            client,
            {
                "email": f"p{i}@example.org",
                "first_name": "P",
                "last_name": "Q",
                "date_of_birth": "1990-01-01",
                "password": "long enough pw",
            },
        )
        for i in range(n)
    ]
    for s in subjects:
        assert client.get(f"/api/v1/subjects/{s}", params={"purpose": "support"}, headers=headers).status_code == 200
    instance.vault.settle_audit()  # SQLite: the reads' records into the chain, so that tests may tamper with them
    return subjects


def _verify(cli, instance):
    return cli(
        "audit",
        "verify",
        "--data-dir",
        instance.settings.data_dir,
        env={"VOWKEEP_DATABASE_URL": instance.settings.database_url},
    )


def test_sec3_untouched_chain_verifies(client, instance, cli):
    _activity(client, instance)
    result = _verify(cli, instance)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("audit chain intact:")


def test_sec3_edited_record_is_named(client, instance, cli):
    """SEC-3: editing any field of a record breaks the chain at that record."""
    _activity(client, instance)
    with instance.engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 4).values(actor="operator:someone-else"))
    result = _verify(cli, instance)
    assert result.exit_code == 1
    assert "audit chain BROKEN at record 4: record 4 was altered or moved" in result.stderr


def test_sec3_deleted_record_is_named(client, instance, cli):
    _activity(client, instance)
    with instance.engine.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq == 3))
    result = _verify(cli, instance)
    assert result.exit_code == 1
    assert "record 3 is missing" in result.stderr


def test_sec3_reordered_records_are_caught(client, instance, cli):
    _activity(client, instance)
    with instance.engine.begin() as conn:
        rows = {r.seq: r for r in conn.execute(select(audit_log).where(audit_log.c.seq.in_([2, 3])))}
        for seq, other in ((2, 3), (3, 2)):
            values = {k: v for k, v in rows[other]._mapping.items() if k != "seq"}
            conn.execute(update(audit_log).where(audit_log.c.seq == seq).values(**values))
    result = _verify(cli, instance)
    assert result.exit_code == 1
    assert "BROKEN at record 2" in result.stderr


def test_sec3_cut_tail_is_caught_by_the_checkpoint(client, instance, cli):
    """SEC-3: deleting the newest records and rewinding the head is caught by the key store's checkpoint."""
    from vowkeep.worker import Worker

    _activity(client, instance)
    worker = Worker(instance)
    worker.schedule_periodic()
    worker.run_until_idle()
    with instance.engine.begin() as conn:
        head = conn.execute(select(audit_log).order_by(audit_log.c.seq.desc()).limit(1)).first()
        conn.execute(delete(audit_log).where(audit_log.c.seq > head.seq - 2))
    result = _verify(cli, instance)
    assert result.exit_code == 1
    assert "were removed (a checkpoint saw" in result.stderr


def test_sec3_audit_holds_no_values(client, instance):
    _activity(client, instance)
    with instance.engine.connect() as conn:
        text = " ".join(str(tuple(r)) for r in conn.execute(select(audit_log)))
    assert "@example.org" not in text


def test_sec5_touched_lists_subjects_and_categories_of_an_actor(client, instance, cli):
    """SEC-5: for an actor and a window, which subjects and categories it touched."""
    subjects = _activity(client, instance)
    env = {"VOWKEEP_DATABASE_URL": instance.settings.database_url}
    result = cli(
        "audit",
        "touched",
        "--actor",
        "operator:auditee",
        "--since",
        "2000-01-01",
        "--json",
        "--data-dir",
        instance.settings.data_dir,
        env=env,
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert {s["subject_id"] for s in report["subjects"]} == set(subjects)
    assert report["subjects"][0]["categories"] == ["user.contact.email", "user.name.first", "user.name.last"]
    assert report["subjects"][0]["actions"] == ["read"]
    future = cli(
        "audit",
        "touched",
        "--actor",
        "auditee",
        "--since",
        "2999-01-01",
        "--data-dir",
        instance.settings.data_dir,
        env=env,
    )
    assert "touched no personal data" in future.stdout
    bad = cli(
        "audit", "touched", "--actor", "x", "--since", "yesterday", "--data-dir", instance.settings.data_dir, env=env
    )
    assert bad.exit_code == 1 and "--since must be an ISO-8601" in bad.stderr


def test_sec3_audit_api_lists_records_and_verifies_for_auditors_only(client, instance):
    subjects = _activity(client, instance, n=2)
    officer = operator_headers(client, instance, "privacy_officer", "olga")
    support = operator_headers(client, instance, "support_agent", "sue")
    assert client.get("/api/v1/audit", headers=support).status_code == 403
    listed = client.get("/api/v1/audit", params={"subject_id": subjects[0]}, headers=officer)
    assert listed.status_code == 200
    actions = [(r["actor"], r["action"], r["decision"]) for r in listed.json()["records"]]
    assert ("operator:auditee", "read", "allow") in actions
    assert all("@" not in str(r) for r in listed.json()["records"])
    assert client.get("/api/v1/audit/verify", headers=officer).json()["ok"] is True
    with instance.engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 2).values(rule="forged"))
    broken = client.get("/api/v1/audit/verify", headers=officer).json()
    assert broken["ok"] is False and broken["first_bad_seq"] == 2
