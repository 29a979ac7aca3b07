"""Group commit (SEC-3, USE-1): concurrent standalone reads share commits (PostgreSQL) or the audit journal
(SQLite), yet every read is audited before it returns and a denial reaches only its own caller."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from tests.support.api import REGISTRATION, register
from vowkeep.store.tables import audit_log
from vowkeep.vault.actors import Actor, ActorKind
from vowkeep.vault.audit import verify
from vowkeep.vault.decisions import GateDenied

pytestmark = pytest.mark.postgres


def test_concurrent_reads_are_each_audited_and_the_chain_holds(client, instance):
    subjects = [register(client, {**REGISTRATION, "email": f"g{i}@example.org"}) for i in range(5)]
    support = Actor(ActorKind.operator, "sam", role="support_agent")
    marketer = Actor(ActorKind.operator, "mo", role="marketer")
    instance.vault.settle_audit()
    with instance.engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(audit_log)).scalar_one()
    results: dict[str, int] = {"ok": 0, "denied": 0}
    errors: list[BaseException] = []
    lock = threading.Lock()

    def reader(k: int):
        for j in range(40):
            subject = subjects[(k + j) % len(subjects)]
            # One reader in four asks for something its role may not read: its denial must not spoil the batch.
            actor = marketer if (k + j) % 4 == 0 else support
            try:
                values = instance.vault.read_now(actor=actor, purpose="support", subject_id=subject)
                assert {v.field for v in values} >= {"email", "first_name"}
                with lock:
                    results["ok"] += 1
            except GateDenied as denied:
                assert denied.rule == "role-purpose" and actor is marketer
                with lock:
                    results["denied"] += 1
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=reader, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert results["ok"] + results["denied"] == 320 and results["denied"] == 80
    instance.vault.settle_audit()  # SQLite: the records wait in the audit journal (no-op on PostgreSQL)
    with instance.engine.connect() as conn:
        rows = conn.execute(
            select(audit_log.c.decision, func.count()).where(audit_log.c.seq > before).group_by(audit_log.c.decision)
        ).all()
        report = verify(conn, instance.keystore.system_key("audit-chain"))
    assert dict(rows) == {"allow": 240, "deny": 80}
    assert report.ok, report.reason


def test_a_read_returns_only_after_its_audit_record_is_committed(client, instance):
    """The caller gets data only once the record of its read is durable: on PostgreSQL another connection already
    sees it; on SQLite it is in the audit journal, and in the chain as soon as anyone reads the log (a crash right
    after the read loses nothing: tests/test_audit_journal.py)."""
    subject_id = register(client)
    values = instance.vault.read_now(actor=Actor.system("t"), purpose="account", subject_id=subject_id)
    assert values
    if instance.vault.journal is not None:
        assert instance.vault.journal.written >= 1
    instance.vault.settle_audit()
    with instance.engine.connect() as conn:
        last = conn.execute(select(audit_log).order_by(audit_log.c.seq.desc()).limit(1)).first()
    assert (last.actor, last.action, last.subject_id) == ("system:t", "read", subject_id)
