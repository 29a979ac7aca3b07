"""No subject below the minimum age (MIN-1, MIN-2, MIN-3): every stored date of birth of a live subject is at least
the declared minimum age ago, unless a guardian consented for them; a subject reported as a minor is not processed
and is erased by the time the report set."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from vowkeep.retention.minors import DATE_OF_BIRTH, age_on
from vowkeep.store.tables import consent_records, minor_reports, subjects
from vowkeep.vault.inspect import open_items
from vowkeep.verify.context import Context
from vowkeep.verify.result import CheckResult, Finding, not_applicable, outcome, plural

NAME, TITLE, PROMISES = "minimum-age", "No subject below the minimum age", ("MIN-1", "MIN-2", "MIN-3")


def minimum_age(ctx: Context) -> CheckResult:
    minimum = ctx.policy.minors.minimum_age
    if minimum <= 0:
        return not_applicable(NAME, TITLE, PROMISES, "the declaration sets no minimum age")
    with ctx.engine.connect() as conn:
        state = dict(conn.execute(select(subjects.c.id, subjects.c.state)).all())
        guarded = set(
            conn.execute(
                select(consent_records.c.subject_id).where(consent_records.c.method == "guardian").distinct()
            ).scalars()
        )
        reports = conn.execute(
            select(minor_reports.c.id, minor_reports.c.subject_id, minor_reports.c.state, minor_reports.c.erase_at)
            .where(minor_reports.c.state.in_(("pending", "confirmed")), minor_reports.c.subject_id.is_not(None))
            .order_by(minor_reports.c.reported_at)
        ).all()
        conn.rollback()
    today = ctx.now.date()
    findings = []
    checked = 0
    for opened in open_items(ctx.vault, categories=[DATE_OF_BIRTH]):
        if state.get(opened.subject_id) in (None, "erased") or opened.problem is not None:
            continue  # erased subjects are not processed; unreadable values are the encryption check's finding
        checked += 1
        try:
            born = date.fromisoformat(str(opened.value))
        except ValueError:
            continue
        if age_on(born, today) < minimum and opened.subject_id not in guarded:
            findings.append(
                Finding(
                    f"subject {opened.subject_id} ({state[opened.subject_id]}) is below the minimum age of {minimum} "
                    f"by their date of birth (item {opened.item_id}), and no guardian consented",
                    {"subject": opened.subject_id, "item": opened.item_id},
                )
            )
    for report in reports:
        subject_state = state.get(report.subject_id)
        if subject_state == "erased":
            continue
        refs = {"minor_report": report.id, "subject": report.subject_id}
        if subject_state == "active":
            findings.append(
                Finding(
                    f"subject {report.subject_id} was reported as a minor (report {report.id}) and is still active",
                    refs,
                )
            )
        if report.erase_at is not None and report.erase_at < ctx.now - ctx.grace:
            findings.append(
                Finding(
                    f"subject {report.subject_id}, reported as a minor (report {report.id}, {report.state}), was due "
                    f"for erasure at {report.erase_at.isoformat()} and is not erased",
                    refs,
                )
            )
    return outcome(
        NAME,
        TITLE,
        PROMISES,
        findings,
        ok=f"{plural(checked, 'date of birth', 'dates of birth')} of live subjects, all {minimum} or over "
        f"(or with a guardian's consent); {plural(len(reports), 'open minor report')} acted on",
        bad="{n} subject(s) below the minimum age or not acted on",
    )
