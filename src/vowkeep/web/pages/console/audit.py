"""Console: the audit log, newest first, and the state of its hash chain (SEC-3), verified on each visit with
`vault.audit.verify` — the check `vowkeep audit verify` runs."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select

from vowkeep.store.tables import audit_log
from vowkeep.vault.audit import verify
from vowkeep.web.pages.console import ConsoleUser, console_page, section

router = APIRouter(prefix="/admin/audit", tags=["console"], include_in_schema=False)
PAGE = 100


@router.get("")
def audit_page(
    request: Request,
    before: int | None = Query(None, ge=1, description="Only records with a smaller sequence number (paging)."),
    user: ConsoleUser = Depends(section("audit")),
):
    instance = request.app.state.instance
    instance.vault.settle_audit()  # reads waiting in the audit journal are part of the log
    query = select(audit_log).order_by(audit_log.c.seq.desc()).limit(PAGE)
    if before is not None:
        query = query.where(audit_log.c.seq < before)
    with instance.engine.connect() as conn:
        rows = conn.execute(query).all()
        chain = verify(
            conn, instance.keystore.system_key("audit-chain"), checkpoint=instance.keystore.last_audit_checkpoint()
        )
    records = [
        {
            "seq": r.seq,
            "at": r.at.isoformat(timespec="seconds"),
            "actor": r.actor,
            "action": r.action,
            "purpose": r.purpose,
            "subject_id": r.subject_id,
            "categories": [c for c in (r.categories or "").split(",") if c],
            "decision": r.decision,
            "rule": r.rule,
        }
        for r in rows
    ]
    return console_page(
        request,
        user,
        "admin/audit.html",
        current="audit",
        records=records,
        chain=chain,
        older=records[-1]["seq"] if len(records) == PAGE else None,
    )
