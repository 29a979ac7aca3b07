"""The consent ledger: append-only records (given, refused, withdrawn); the current state is the latest one.

The gate asks `allows(...)` on every read for a consent-based purpose (USE-3): an opt-in purpose needs a given
consent, an opt-out purpose stops at a refusal or withdrawal, and a withdrawal acts at once because the state is
read from the ledger on each call, never cached.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Connection, insert, select

from vowkeep import clock
from vowkeep.policy.model import ConsentMode
from vowkeep.store.tables import consent_records


class Choice(StrEnum):
    given = "given"
    refused = "refused"
    withdrawn = "withdrawn"


class Method(StrEnum):
    form = "form"
    banner = "banner"
    email_link = "email_link"
    api = "api"
    gpc = "gpc"
    guardian = "guardian"
    operator = "operator"
    request = "request"
    center = "center"


@dataclass(frozen=True)
class ConsentRecord:
    """One line of the ledger, as stored."""

    id: int
    subject_id: str | None
    visitor_id: str | None
    purpose: str
    choice: Choice
    method: Method
    policy_version: int
    evidence: dict
    recorded_at: datetime

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "subject_id": self.subject_id,
            "visitor_id": self.visitor_id,
            "purpose": self.purpose,
            "choice": self.choice.value,
            "method": self.method.value,
            "policy_version": self.policy_version,
            "evidence": self.evidence,
            "recorded_at": self.recorded_at.isoformat(),
        }


@dataclass(frozen=True)
class ConsentState:
    choice: Choice
    policy_version: int
    method: Method
    recorded_at: datetime


def record(
    conn: Connection,
    *,
    purpose: str,
    choice: Choice,
    method: Method,
    policy_version: int,
    subject_id: str | None = None,
    visitor_id: str | None = None,
    evidence: dict | None = None,
) -> int:
    """Append a choice to the ledger (in the caller's transaction); returns the record id."""
    if subject_id is None and visitor_id is None:
        raise ValueError("a consent record belongs to a subject or a visitor")
    result = conn.execute(
        insert(consent_records).values(
            subject_id=subject_id,
            visitor_id=visitor_id,
            purpose=purpose,
            choice=Choice(choice).value,
            method=Method(method).value,
            policy_version=policy_version,
            evidence=evidence or {},
            recorded_at=clock.now(),
        )
    )
    return result.inserted_primary_key[0]


def current(conn: Connection, *, subject_id: str, purpose: str) -> ConsentState | None:
    """The subject's latest choice for a purpose, or None if they never made one."""
    row = conn.execute(
        select(
            consent_records.c.choice,
            consent_records.c.policy_version,
            consent_records.c.method,
            consent_records.c.recorded_at,
        )
        .where(consent_records.c.subject_id == subject_id, consent_records.c.purpose == purpose)
        .order_by(consent_records.c.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return ConsentState(Choice(row.choice), row.policy_version, Method(row.method), row.recorded_at)


_CURRENT = (
    "SELECT choice, policy_version, method, recorded_at FROM consent_records"
    " WHERE subject_id = ? AND purpose = ? ORDER BY id DESC LIMIT 1"
)


def current_fast(fast, *, subject_id: str, purpose: str) -> ConsentState | None:
    """`current`, as prepared SQL: the gate asks it on every read for a consent-based purpose."""
    row = fast.one(_CURRENT, (subject_id, purpose))
    if row is None:
        return None
    return ConsentState(Choice(row[0]), row[1], Method(row[2]), fast.time_out(row[3]))


def allows(mode: ConsentMode, state: ConsentState | None, *, reconsent_since: int | None = None) -> tuple[bool, str]:
    """Whether the consent state lets a purpose with `mode` proceed; (allowed, rule)."""
    if mode == ConsentMode.none:
        return True, "allowed"
    if mode == ConsentMode.opt_in:
        if state is None or state.choice != Choice.given:
            return False, "consent-required"
        if reconsent_since is not None and state.policy_version < reconsent_since:
            # NTC-2: the purpose changed materially after this consent was given.
            return False, "reconsent-required"
        return True, "allowed"
    if state is not None and state.choice in (Choice.refused, Choice.withdrawn):
        return False, "objection"
    return True, "allowed"


def _record(row) -> ConsentRecord:
    return ConsentRecord(
        row.id,
        row.subject_id,
        row.visitor_id,
        row.purpose,
        Choice(row.choice),
        Method(row.method),
        row.policy_version,
        row.evidence or {},
        row.recorded_at,
    )


def history(
    conn: Connection,
    *,
    subject_id: str | None = None,
    visitor_id: str | None = None,
    purpose: str | None = None,
    limit: int | None = None,
) -> list[ConsentRecord]:
    """Every record of a subject or a visitor (optionally of one purpose), oldest first."""
    if (subject_id is None) == (visitor_id is None):
        raise ValueError("give a subject or a visitor")
    query = select(consent_records)
    if subject_id is not None:
        query = query.where(consent_records.c.subject_id == subject_id)
    else:
        query = query.where(consent_records.c.visitor_id == visitor_id)
    if purpose is not None:
        query = query.where(consent_records.c.purpose == purpose)
    query = query.order_by(consent_records.c.id)
    if limit is not None:
        query = query.limit(limit)
    return [_record(r) for r in conn.execute(query)]


def get_record(conn: Connection, *, record_id: int) -> ConsentRecord | None:
    row = conn.execute(select(consent_records).where(consent_records.c.id == record_id)).first()
    return _record(row) if row else None


def latest_by_purpose(
    conn: Connection, *, subject_id: str | None = None, visitor_id: str | None = None
) -> dict[str, ConsentRecord]:
    """The latest record per purpose of a subject or a visitor: the current state of each of their choices."""
    latest: dict[str, ConsentRecord] = {}
    for record in history(conn, subject_id=subject_id, visitor_id=visitor_id):
        latest[record.purpose] = record
    return latest


_VISITOR_CURRENT = (
    "SELECT choice, policy_version FROM consent_records WHERE visitor_id = ? AND purpose = ? ORDER BY id DESC LIMIT 1"
)


def visitor_choice_fast(fast, *, visitor_id: str, purpose: str) -> tuple[Choice, int] | None:
    """A banner visitor's latest (choice, policy version) for a purpose, as prepared SQL (asked per tracked event)."""
    row = fast.one(_VISITOR_CURRENT, (visitor_id, purpose))
    return (Choice(row[0]), row[1]) if row else None


def adopt_visitor(conn: Connection, *, visitor_id: str, subject_id: str) -> list[int]:
    """Copy a banner visitor's current choices to a subject who became known; returns the new record ids.

    Append-only: each copy is a new record naming the original in its evidence. A purpose the subject chose on
    after the visitor's choice keeps the subject's own, newer choice.
    """
    mine = latest_by_purpose(conn, subject_id=subject_id)
    copied = []
    for purpose, theirs in latest_by_purpose(conn, visitor_id=visitor_id).items():
        if theirs.subject_id == subject_id or (purpose in mine and mine[purpose].id > theirs.id):
            continue
        copied.append(
            record(
                conn,
                purpose=purpose,
                choice=theirs.choice,
                method=theirs.method,
                policy_version=theirs.policy_version,
                subject_id=subject_id,
                visitor_id=visitor_id,
                evidence={**theirs.evidence, "copied_from": theirs.id, "chosen_at": theirs.recorded_at.isoformat()},
            )
        )
    return copied
