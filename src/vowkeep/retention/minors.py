"""Minors (MIN-1, MIN-2, MIN-3): the age gate at registration, guardian consent, and reports of a minor.

The age gate applies to collection points that register subjects and declare an `age_check`, when the declaration
sets a minimum age. By `date_of_birth`, the age is computed from the point's date-of-birth field; by
`attestation`, the submission carries `age_attestation: true` ("I am at least N"). Below the minimum the
submission is refused and nothing is stored but one more in the count of refusals per collection point and day.

Where `minors.guardian_may_consent` allows it, a parent or legal guardian registers a dependant below the minimum
age by adding `guardian_consent: {"relationship": "parent" | "legal_guardian", "purposes": [...]}`. Their consent
is recorded in the consent ledger as such (`method="guardian"`, the relationship in the evidence) for the listed
purposes of the collection point — by default those that need no consent of their own: running the service the
dependant is registered for, never its marketing unless the guardian names it.

A report that a subject is a minor (MIN-2) deactivates the account at once (no processing) and erases it through
a job. An operator's report is acted on at once; a report from the public form (`/report-minor`, which anyone can
use) is erased after `FORM_REVIEW` unless an operator dismisses it as mistaken, or confirms it sooner — so that
a stranger cannot delete someone else's account by naming their address, while the possible minor's data is no
longer processed from the moment of the report.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, Engine, insert, select, update

from vowkeep import clock
from vowkeep.consent import ledger
from vowkeep.policy.model import AgeCheck, CollectionPoint, Policy
from vowkeep.policy.taxonomy import covers
from vowkeep.store import jobs
from vowkeep.store.tables import age_refusals, minor_reports, subjects
from vowkeep.vault.actors import Actor
from vowkeep.vault.decisions import SUBJECT_RIGHTS
from vowkeep.vault.gate import SubjectNotFound, SubjectState, Vault
from vowkeep.vault.intake import CleanSubmission, FieldProblem, SubmissionError

DATE_OF_BIRTH = "user.demographic.date_of_birth"
ATTESTATION_FIELD = "age_attestation"
GUARDIAN_FIELD = "guardian_consent"
RELATIONSHIPS = ("parent", "legal_guardian")
FORM_REVIEW = timedelta(days=3)
ERASE_JOB = "minors.erase"
MINORS = Actor.system("minors")
REPORT_STATES = ("pending", "confirmed", "dismissed", "erased", "unmatched")


class BelowMinimumAge(Exception):
    """A registration below the declared minimum age: refused, and only counted."""

    def __init__(self, point: str, minimum: int):
        super().__init__(
            f"'{point}' registers people aged {minimum} or over; the submission was refused and not stored"
        )
        self.point, self.minimum = point, minimum


class MinorReportError(ValueError):
    """A report that cannot be filed or resolved as asked; the message says why."""


class MinorReportNotFound(LookupError):
    """No report with that id."""


@dataclass
class GuardianConsent:
    relationship: str
    purposes: list[str]


@dataclass
class AgeClaims:
    """What a submission says about age besides its declared fields."""

    attestation: bool | None = None
    guardian: GuardianConsent | None = None


@dataclass
class AgeVerdict:
    """The age gate's answer: not gated, old enough, or a dependant a guardian consents for."""

    checked: bool = False
    dependant: bool = False
    guardian: GuardianConsent | None = None


def applies(policy: Policy, point: CollectionPoint) -> bool:
    """Whether the age gate guards this collection point."""
    return point.registers_subject and point.age_check != AgeCheck.none and policy.minors.minimum_age > 0


def take_claims(policy: Policy, point: CollectionPoint, body: object) -> tuple[object, AgeClaims]:
    """Split the age fields (`age_attestation`, `guardian_consent`) off a submission to a gated point."""
    if not applies(policy, point) or not isinstance(body, dict):
        return body, AgeClaims()
    body = dict(body)
    claims = AgeClaims()
    problems = []
    if point.age_check == AgeCheck.attestation and ATTESTATION_FIELD in body:
        attestation = body.pop(ATTESTATION_FIELD)
        if not isinstance(attestation, bool):
            problems.append(FieldProblem(ATTESTATION_FIELD, "must be true or false", "age-attestation"))
        else:
            claims.attestation = attestation
    if GUARDIAN_FIELD in body:
        raw = body.pop(GUARDIAN_FIELD)
        if not policy.minors.guardian_may_consent:
            problems.append(
                FieldProblem(GUARDIAN_FIELD, "this privacy policy does not let a guardian consent", "guardian-consent")
            )
        elif raw is not None:
            guardian, problem = _guardian(point, raw)
            if problem:
                problems.append(problem)
            claims.guardian = guardian
    if problems:
        raise SubmissionError(problems)
    return body, claims


def _guardian(point: CollectionPoint, raw: object) -> tuple[GuardianConsent | None, FieldProblem | None]:
    def bad(message: str):
        return None, FieldProblem(GUARDIAN_FIELD, message, "guardian-consent")

    if not isinstance(raw, dict) or set(raw) - {"relationship", "purposes"}:
        return bad('must be {"relationship": "parent" or "legal_guardian", "purposes": [...]}')
    relationship = raw.get("relationship")
    if relationship not in RELATIONSHIPS:
        return bad(f"relationship must be one of: {', '.join(RELATIONSHIPS)}")
    purposes = raw.get("purposes")
    if purposes is None:
        return GuardianConsent(relationship, []), None
    if not isinstance(purposes, list) or not all(isinstance(p, str) for p in purposes):
        return bad("purposes must be a list of purpose keys")
    outside = [p for p in purposes if p not in point.purposes]
    if outside:
        return bad(f"purposes must be among this form's: {', '.join(point.purposes)}")
    return GuardianConsent(relationship, list(dict.fromkeys(purposes))), None


def age_on(born: date, today: date) -> int:
    """Age in whole years on `today`."""
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def check_age(
    engine: Engine, policy: Policy, point: CollectionPoint, submission: CleanSubmission, claims: AgeClaims
) -> AgeVerdict:
    """The age gate (MIN-1): pass, pass as a guardian's dependant (MIN-3), or count the refusal and raise."""
    if not applies(policy, point):
        return AgeVerdict()
    minimum = policy.minors.minimum_age
    today = clock.now().date()
    if point.age_check == AgeCheck.date_of_birth:
        name = next((f.name for f in point.fields if covers(DATE_OF_BIRTH, f.category)), None)
        value = submission.values.get(name) if name else None
        if value is None:
            raise SubmissionError(
                [FieldProblem(name or "date_of_birth", f"is needed to check the minimum age of {minimum}", "age-check")]
            )
        born = date.fromisoformat(str(value))
        if born > today:
            raise SubmissionError([FieldProblem(name, "is in the future", "type-date")])
        old_enough = age_on(born, today) >= minimum
    else:
        if claims.attestation is None and claims.guardian is None:
            raise SubmissionError(
                [
                    FieldProblem(
                        ATTESTATION_FIELD, f"is required: confirm (true) that you are {minimum} or over", "age-check"
                    )
                ]
            )
        old_enough = claims.attestation is True
    if old_enough:
        return AgeVerdict(checked=True)
    if claims.guardian is not None:
        return AgeVerdict(checked=True, dependant=True, guardian=claims.guardian)
    count_refusal(engine, point=point.key, day=today)
    raise BelowMinimumAge(point.key, minimum)


def count_refusal(engine: Engine, *, point: str, day: date) -> None:
    """One more refusal for the point and day, in a transaction of its own (the submission stores nothing)."""
    with engine.begin() as conn:
        changed = conn.execute(
            update(age_refusals)
            .where(age_refusals.c.day == day, age_refusals.c.collection_point == point)
            .values(count=age_refusals.c.count + 1)
        ).rowcount
        if not changed:
            conn.execute(insert(age_refusals).values(day=day, collection_point=point, count=1))


def refusal_counts(conn: Connection, *, since: date | None = None) -> list[dict]:
    query = select(age_refusals).order_by(age_refusals.c.day, age_refusals.c.collection_point)
    if since is not None:
        query = query.where(age_refusals.c.day >= since)
    return [
        {"day": r.day.isoformat(), "collection_point": r.collection_point, "count": r.count}
        for r in conn.execute(query)
    ]


def record_guardian_consent(
    conn: Connection, *, vault: Vault, subject_id: str, point: CollectionPoint, verdict: AgeVerdict
) -> list[str]:
    """Record a guardian's consent for a dependant, purpose by purpose (MIN-3); returns the purposes."""
    if not verdict.dependant or verdict.guardian is None:
        return []
    policy = vault.policy
    purposes = verdict.guardian.purposes or [
        p for p in point.purposes if p in policy.purpose_by_key and not policy.purpose_by_key[p].consent_based
    ]
    evidence = {
        "guardian": True,
        "relationship": verdict.guardian.relationship,
        "dependant_below_minimum_age": policy.minors.minimum_age,
        "collection_point": point.key,
        "age_check": point.age_check.value,
    }
    for purpose in purposes:
        ledger.record(
            conn,
            purpose=purpose,
            choice=ledger.Choice.given,
            method=ledger.Method.guardian,
            policy_version=vault.policy_version,
            subject_id=subject_id,
            evidence=evidence,
        )
    vault.audit(
        conn,
        actor=MINORS,
        action="consent",
        subject_id=subject_id,
        detail={"method": "guardian", "relationship": verdict.guardian.relationship, "purposes": purposes},
    )
    return purposes


# --- reports of a minor (MIN-2) ----------------------------------------------------------------


@dataclass(frozen=True)
class MinorReport:
    id: str
    subject_id: str | None
    channel: str
    reported_by: str
    reported_at: datetime
    state: str
    erase_at: datetime | None
    resolved_by: str | None
    resolved_at: datetime | None

    def as_dict(self) -> dict:
        def iso(moment):
            return moment.isoformat() if moment else None

        return {
            "id": self.id,
            "subject_id": self.subject_id,
            "channel": self.channel,
            "reported_by": self.reported_by,
            "reported_at": iso(self.reported_at),
            "state": self.state,
            "erase_at": iso(self.erase_at),
            "resolved_by": self.resolved_by,
            "resolved_at": iso(self.resolved_at),
        }


def get_report_or_raise(conn: Connection, *, report_id: str) -> MinorReport:
    row = conn.execute(select(minor_reports).where(minor_reports.c.id == report_id)).first()
    if row is None:
        raise MinorReportNotFound(report_id)
    return MinorReport(**row._mapping)


def list_reports(conn: Connection, *, state: str | None = None, limit: int = 500) -> list[MinorReport]:
    query = select(minor_reports).order_by(minor_reports.c.reported_at.desc(), minor_reports.c.id).limit(limit)
    if state is not None:
        query = query.where(minor_reports.c.state == state)
    return [MinorReport(**r._mapping) for r in conn.execute(query)]


def _file(conn: Connection, *, vault: Vault, actor: Actor, subject_id: str | None, channel: str) -> MinorReport:
    now = clock.now()
    report_id = uuid.uuid4().hex
    if subject_id is None:
        state, erase_at = "unmatched", None
    else:
        state = "confirmed" if channel == "operator" else "pending"
        erase_at = now if channel == "operator" else now + FORM_REVIEW
        current = conn.execute(select(subjects.c.state).where(subjects.c.id == subject_id)).scalar()
        if current == SubjectState.active or current == SubjectState.restricted:
            vault.set_state(conn, actor=actor, subject_id=subject_id, state=SubjectState.deactivated, reason="minor")
        jobs.enqueue(conn, kind=ERASE_JOB, payload={"report_id": report_id}, run_at=erase_at)
    conn.execute(
        insert(minor_reports).values(
            id=report_id,
            subject_id=subject_id,
            channel=channel,
            reported_by=actor.label,
            reported_at=now,
            state=state,
            erase_at=erase_at,
        )
    )
    vault.audit(
        conn,
        actor=actor,
        action="minor-report",
        subject_id=subject_id,
        detail={"report_id": report_id, "channel": channel, "state": state},
    )
    return get_report_or_raise(conn, report_id=report_id)


def report_by_operator(conn: Connection, *, vault: Vault, actor: Actor, subject_id: str) -> MinorReport:
    """An operator found a subject to be a minor: deactivate now, erase now (through the job)."""
    state = conn.execute(select(subjects.c.state).where(subjects.c.id == subject_id)).scalar()
    if state is None:
        raise SubjectNotFound(subject_id)
    if state == SubjectState.erased:
        raise MinorReportError("the subject was already erased")
    return _file(conn, vault=vault, actor=actor, subject_id=subject_id, channel="operator")


def report_by_form(conn: Connection, *, vault: Vault, email: str) -> list[MinorReport]:
    """Someone used the public form: every live subject with that address is deactivated, erased after review."""
    reporter = Actor.system("report-minor-form")
    found = vault.find_subjects(
        conn, actor=reporter, purpose=SUBJECT_RIGHTS, category="user.contact.email", value=email
    )
    if not found:
        return [_file(conn, vault=vault, actor=reporter, subject_id=None, channel="form")]
    return [_file(conn, vault=vault, actor=reporter, subject_id=s, channel="form") for s in found]


def confirm(conn: Connection, *, vault: Vault, actor: Actor, report_id: str) -> MinorReport:
    """An operator confirms a pending report: the subject is erased now."""
    report = get_report_or_raise(conn, report_id=report_id)
    if report.state != "pending":
        raise MinorReportError(f"the report is {report.state}, not pending")
    now = clock.now()
    conn.execute(
        update(minor_reports)
        .where(minor_reports.c.id == report_id)
        .values(state="confirmed", erase_at=now, resolved_by=actor.label, resolved_at=now)
    )
    jobs.enqueue(conn, kind=ERASE_JOB, payload={"report_id": report_id})
    vault.audit(
        conn, actor=actor, action="minor-confirm", subject_id=report.subject_id, detail={"report_id": report_id}
    )
    return get_report_or_raise(conn, report_id=report_id)


def dismiss(conn: Connection, *, vault: Vault, actor: Actor, report_id: str) -> MinorReport:
    """An operator finds a pending report mistaken: the account is active again, nothing is erased."""
    report = get_report_or_raise(conn, report_id=report_id)
    if report.state != "pending":
        raise MinorReportError(f"the report is {report.state}, not pending")
    now = clock.now()
    conn.execute(
        update(minor_reports)
        .where(minor_reports.c.id == report_id)
        .values(state="dismissed", erase_at=None, resolved_by=actor.label, resolved_at=now)
    )
    row = conn.execute(
        select(subjects.c.state, subjects.c.state_reason).where(subjects.c.id == report.subject_id)
    ).first()
    others = conn.execute(
        select(minor_reports.c.id).where(
            minor_reports.c.subject_id == report.subject_id,
            minor_reports.c.state.in_(("pending", "confirmed")),
        )
    ).first()
    if row is not None and row.state == SubjectState.deactivated and row.state_reason == "minor" and others is None:
        vault.set_state(
            conn, actor=actor, subject_id=report.subject_id, state=SubjectState.active, reason="minor-report-dismissed"
        )
    vault.audit(
        conn, actor=actor, action="minor-dismiss", subject_id=report.subject_id, detail={"report_id": report_id}
    )
    return get_report_or_raise(conn, report_id=report_id)


def run_erase(instance, job) -> None:
    """`minors.erase`: erase the reported subject once its report is confirmed or its review time is up."""
    vault = instance.vault
    with vault.transaction() as conn:
        report_id = str(job.payload.get("report_id", ""))
        row = conn.execute(select(minor_reports).where(minor_reports.c.id == report_id)).first()
        due = row is not None and row.state in ("pending", "confirmed") and row.erase_at is not None
        if due and row.erase_at <= clock.now() and row.subject_id is not None:
            state = conn.execute(select(subjects.c.state).where(subjects.c.id == row.subject_id)).scalar()
            if state != SubjectState.erased:
                vault.erase_subject(conn, actor=MINORS, subject_id=row.subject_id, reason="minor")
            conn.execute(update(minor_reports).where(minor_reports.c.id == report_id).values(state="erased"))
        jobs.complete(conn, job=job)
