"""Every disclosure went to a declared recipient, of categories declared for it and for its purpose, under the
declaration in force when it was filed (SHR-1, SHR-2, SHR-3): the register, the aggregate report runs, and the
audit log's records of data read for a recipient."""

from __future__ import annotations

from sqlalchemy import select

from vowkeep.policy.model import RecipientKind
from vowkeep.policy.taxonomy import covers
from vowkeep.store.tables import audit_log, disclosures, report_runs
from vowkeep.vault.decisions import decide_recipient
from vowkeep.verify.context import Context
from vowkeep.verify.result import CheckResult, Finding, outcome, plural

RELEASED = ("approved", "released")


def _problem(policy, recipient: str, purpose: str | None, categories: list[str], kind: str) -> str | None:
    declared = policy.recipient_by_key.get(recipient)
    if declared is None:
        return f"recipient '{recipient}' is not declared"
    if kind == "transfer":
        if declared.kind != RecipientKind.acquirer:
            return f"a business transfer went to '{recipient}', a {declared.kind.value}, not an acquirer"
        outside = [c for c in categories if not any(covers(d, c) for d in declared.categories)]
        return f"'{recipient}' is not declared to receive {', '.join(outside)}" if outside else None
    if purpose is None or purpose not in policy.purpose_by_key:
        return f"purpose '{purpose}' is not declared"
    undeclared = [c for c in categories if not policy.purpose_covers(purpose, c)]
    if undeclared:
        return f"purpose '{purpose}' does not declare {', '.join(undeclared)}"
    decision = decide_recipient(policy, recipient, purpose, tuple(categories))
    return None if decision.allowed else decision.reason


def disclosures_declared(ctx: Context) -> CheckResult:
    findings: list[Finding] = []
    with ctx.engine.connect() as conn:
        register = conn.execute(
            select(
                disclosures.c.id,
                disclosures.c.recipient,
                disclosures.c.purpose,
                disclosures.c.categories,
                disclosures.c.kind,
                disclosures.c.state,
                disclosures.c.requested_at,
            ).order_by(disclosures.c.requested_at, disclosures.c.id)
        ).all()
        runs = conn.execute(
            select(report_runs.c.id, report_runs.c.at, report_runs.c.report, report_runs.c.recipient)
        ).all()
        reads = conn.execute(
            select(
                audit_log.c.seq,
                audit_log.c.at,
                audit_log.c.purpose,
                audit_log.c.subject_id,
                audit_log.c.categories,
                audit_log.c.detail,
            ).where(audit_log.c.action == "disclose", audit_log.c.decision == "allow")
        ).all()
        conn.rollback()
    released = [r for r in register if r.state in RELEASED]
    for row in released:
        policy = ctx.policy_at(row.requested_at)
        problem = _problem(policy, row.recipient, row.purpose, row.categories.split(), row.kind)
        if problem:
            findings.append(
                Finding(
                    f"disclosure {row.id} ({row.state}) to '{row.recipient}': {problem}",
                    {"disclosure": row.id, "recipient": row.recipient},
                )
            )
    for run in runs:
        policy = ctx.policy_at(run.at)
        recipient = policy.recipient_by_key.get(run.recipient)
        report = policy.report_by_key.get(run.report)
        if recipient is None or recipient.aggregate_only is None:
            findings.append(
                Finding(
                    f"report run {run.id} went to '{run.recipient}', not a declared aggregate-only recipient",
                    {"report_run": run.id, "recipient": run.recipient},
                )
            )
        elif report is None or report.recipient != run.recipient:
            findings.append(
                Finding(
                    f"report run {run.id} ('{run.report}') is not a report declared for '{run.recipient}'",
                    {"report_run": run.id, "recipient": run.recipient},
                )
            )
    for record in reads:
        recipient = (record.detail or {}).get("recipient")
        if not recipient:
            continue
        policy = ctx.policy_at(record.at)
        categories = [c for c in record.categories.split(",") if c]
        problem = _problem(policy, recipient, record.purpose, categories, "routine")
        if problem:
            findings.append(
                Finding(
                    f"audit record {record.seq}: data of subject {record.subject_id} was read for '{recipient}': "
                    f"{problem}",
                    {"seq": record.seq, "subject": record.subject_id or "", "recipient": recipient},
                )
            )
    return outcome(
        "disclosures",
        "Disclosures only to declared recipients",
        ("SHR-1", "SHR-2", "SHR-3"),
        findings,
        ok=f"{plural(len(released), 'released disclosure')}, {plural(len(runs), 'report run')} and "
        f"{plural(len(reads), 'disclosure read')} — all to declared recipients, of declared categories",
        bad="{n} disclosure(s) outside the declaration",
    )
