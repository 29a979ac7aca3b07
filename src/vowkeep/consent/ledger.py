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
