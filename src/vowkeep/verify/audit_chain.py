"""The audit log is whole (SEC-3): every record's MAC chains to the one before, and nothing after the last
checkpoint the key store recorded is missing."""

from __future__ import annotations

from vowkeep.vault import audit
from vowkeep.verify.context import Context
from vowkeep.verify.result import CheckResult, Finding, outcome, plural

NAME, TITLE, PROMISES = "audit-chain", "Audit chain intact", ("SEC-3",)


def audit_chain(ctx: Context) -> CheckResult:
    keystore = ctx.instance.keystore
    with ctx.engine.connect() as conn:
        report = audit.verify(
            conn, keystore.system_key(audit.AUDIT_KEY_NAME), checkpoint=keystore.last_audit_checkpoint()
        )
        conn.rollback()
    findings = []
    if not report.ok:
        findings.append(
            Finding(
                f"chain broken at record {report.first_bad_seq}: {report.reason}", {"seq": report.first_bad_seq or 0}
            )
        )
    return outcome(
        NAME,
        TITLE,
        PROMISES,
        findings,
        ok=f"{plural(report.records, 'record')} chained, head {report.head_seq}",
        bad="audit chain broken",
    )
