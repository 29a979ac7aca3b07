"""`GET /api/v1/audit`: the audit log for operators who may read it, and `GET /api/v1/audit/verify` (SEC-3)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from vowkeep.instance import Instance
from vowkeep.store.tables import audit_log
from vowkeep.vault.audit import verify
from vowkeep.web.deps import Caller, current_caller, get_instance

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("")
def list_records(
    subject_id: str | None = Query(None),
    actor: str | None = Query(None, description="Audit label, e.g. `operator:alice`."),
    since: datetime | None = Query(None),
    until: datetime | None = Query(None),
    after: int = Query(0, ge=0, description="Only records with a larger sequence number (for paging)."),
    limit: int = Query(100, ge=1, le=1000),
    caller: Caller = Depends(current_caller),
    instance: Instance = Depends(get_instance),
):
    """Audit records, oldest first: who did what, for which purpose, to whom, which categories — never values."""
    caller.require("read_audit")
    instance.vault.settle_audit()  # reads waiting in the audit journal are part of the log
    query = select(audit_log).where(audit_log.c.seq > after).order_by(audit_log.c.seq).limit(limit)
    for column, value in ((audit_log.c.subject_id, subject_id), (audit_log.c.actor, actor)):
        if value is not None:
            query = query.where(column == value)
    if since is not None:
        query = query.where(audit_log.c.at >= since)
    if until is not None:
        query = query.where(audit_log.c.at <= until)
    with instance.engine.connect() as conn:
        rows = conn.execute(query).all()
    records = [
        {
            "seq": r.seq,
            "at": r.at.isoformat(),
            "actor": r.actor,
            "action": r.action,
            "purpose": r.purpose,
            "subject_id": r.subject_id,
            "categories": [c for c in r.categories.split(",") if c],
            "decision": r.decision,
            "rule": r.rule,
            "detail": r.detail,
        }
        for r in rows
    ]
    return {"records": records, "next_after": records[-1]["seq"] if len(records) == limit else None}


@router.get("/verify")
def verify_chain(caller: Caller = Depends(current_caller), instance: Instance = Depends(get_instance)):
    """Walk the whole chain now; `ok: false` names the first bad record."""
    caller.require("read_audit")
    instance.vault.settle_audit()  # reads waiting in the audit journal are part of the log
    with instance.engine.connect() as conn:
        report = verify(
            conn, instance.keystore.system_key("audit-chain"), checkpoint=instance.keystore.last_audit_checkpoint()
        )
    return {
        "ok": report.ok,
        "records": report.records,
        "first_bad_seq": report.first_bad_seq,
        "reason": report.reason or None,
    }
