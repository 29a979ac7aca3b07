"""Every read for a consent-based purpose had a consent at that moment (USE-3, SHR-6, NTC-2): each allowed read in
the audit log, checked against the consent ledger as it stood then and the declaration then in force."""

from __future__ import annotations

import bisect
from datetime import datetime

from sqlalchemy import select

from vowkeep.consent import ledger
from vowkeep.store.tables import audit_log, consent_records
from vowkeep.verify.context import Context
from vowkeep.verify.result import CheckResult, Finding, outcome, plural

# Audit actions of the gate's reads (`Vault.read(action=…)`): each decrypted values for its purpose.
READ_ACTIONS = ("read", "disclose", "export", "report")


class _Ledger:
    """The ledger per (subject, purpose), to ask what the choice was at a given moment."""

    def __init__(self, rows):
        self._times: dict[tuple[str, str], list[datetime]] = {}
        self._states: dict[tuple[str, str], list[ledger.ConsentState]] = {}
        for row in rows:
            key = (row.subject_id, row.purpose)
            self._times.setdefault(key, []).append(row.recorded_at)
            # The method stays as stored (whatever its spelling): only the choice and the version decide.
            self._states.setdefault(key, []).append(
                ledger.ConsentState(ledger.Choice(row.choice), row.policy_version, row.method, row.recorded_at)
            )

    def at(self, subject_id: str, purpose: str, moment: datetime) -> ledger.ConsentState | None:
        times = self._times.get((subject_id, purpose))
        if not times:
            return None
        index = bisect.bisect_right(times, moment) - 1
        return self._states[(subject_id, purpose)][index] if index >= 0 else None


def consent_at_read(ctx: Context) -> CheckResult:
    consent_based = sorted(
        {p.key for v in ctx.versions for p in ctx.policy_at(v.published_at).purposes if p.consent_based}
    )
    if not consent_based:
        with ctx.engine.connect() as conn:
            conn.rollback()
        return outcome(
            "consent-at-read",
            "Consent at every consent-based read",
            ("USE-3",),
            [],
            ok="no purpose is consent-based in any published version: nothing to check",
            bad="",
        )
    with ctx.engine.connect() as conn:
        reads = conn.execute(
            select(audit_log.c.seq, audit_log.c.at, audit_log.c.action, audit_log.c.purpose, audit_log.c.subject_id)
            .where(
                audit_log.c.decision == "allow",
                audit_log.c.action.in_(READ_ACTIONS),
                audit_log.c.subject_id.is_not(None),
                audit_log.c.purpose.in_(consent_based),
            )
            .order_by(audit_log.c.seq)
        ).all()
        records = conn.execute(
            select(
                consent_records.c.subject_id,
                consent_records.c.purpose,
                consent_records.c.choice,
                consent_records.c.method,
                consent_records.c.policy_version,
                consent_records.c.recorded_at,
            )
            .where(consent_records.c.subject_id.is_not(None), consent_records.c.purpose.in_(consent_based))
            .order_by(consent_records.c.recorded_at, consent_records.c.id)
        ).all()
        conn.rollback()
    book = _Ledger(records)
    findings = []
    checked = 0
    for read in reads:
        declared = ctx.policy_at(read.at).purpose_by_key.get(read.purpose)
        if declared is None or not declared.consent_based:
            continue
        checked += 1
        state = book.at(read.subject_id, read.purpose, read.at)
        reconsent = ctx.reconsent_since_at(read.at).get(read.purpose)
        ok, rule = ledger.allows(declared.consent, state, reconsent_since=reconsent)
        if not ok:
            had = f"the ledger then said '{state.choice.value}'" if state else "the ledger then held no choice"
            findings.append(
                Finding(
                    f"audit record {read.seq}: {read.action} of subject {read.subject_id} for '{read.purpose}' "
                    f"({declared.consent.value}) without consent — {had} ({rule})",
                    {"seq": read.seq, "subject": read.subject_id, "purpose": read.purpose},
                )
            )
    return outcome(
        "consent-at-read",
        "Consent at every consent-based read",
        ("USE-3", "SHR-6", "NTC-2"),
        findings,
        ok=f"{plural(checked, 'read')} for consent-based purposes, each with a consent on record at that moment",
        bad="{n} read(s) without a consent at that moment",
    )
