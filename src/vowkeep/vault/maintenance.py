"""Upkeep of the vault: anchoring the audit chain's head in the key store, folding the WAL after an erasure."""

from __future__ import annotations

from sqlalchemy import select

from vowkeep.store.tables import audit_log


def checkpoint_audit(instance, job) -> None:
    """Record the audit chain's head in the key store, so a truncated log tail is detected (SEC-3)."""
    from vowkeep.store import jobs

    instance.vault.settle_audit()  # the head to anchor includes the reads waiting in the audit journal
    with instance.engine.begin() as conn:
        head = conn.execute(select(audit_log.c.seq, audit_log.c.mac).order_by(audit_log.c.seq.desc()).limit(1)).first()
        if head is not None:
            last = instance.keystore.last_audit_checkpoint()
            if last is None or last[0] != head.seq:
                instance.keystore.record_audit_checkpoint(head.seq, head.mac)
        jobs.complete(conn, job=job)


def fold_data_wal(instance, job) -> None:
    """After an erasure: fold the data database's WAL into the file, so the erased rows leave the WAL too."""
    from vowkeep.store import jobs
    from vowkeep.store.engine import checkpoint

    checkpoint(instance.engine)
    with instance.engine.begin() as conn:
        jobs.complete(conn, job=job)
