"""Opting out of mail (RIG-5, RIG-6, USE-4): one action, recorded in the ledger and in the suppression list.

`marketing` withdraws every purpose that sends marketing mail; `all_non_essential` withdraws every purpose of
non-essential communication (marketing mail, and marketing communications such as partners' offers). The
subject's addresses go on the suppression list as blind-index digests, so the opt-out holds even after erasure.
Service messages needed to run an account are not touched (USE-4).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection

from vowkeep.comms import suppression
from vowkeep.consent import ledger
from vowkeep.consent.ledger import Choice, Method
from vowkeep.policy.model import MessageKind, Policy
from vowkeep.vault.actors import Actor
from vowkeep.vault.crypto import DecryptionError
from vowkeep.vault.decisions import SUBJECT_RIGHTS, GateDenied
from vowkeep.vault.gate import SubjectNotFound

SCOPES = suppression.SCOPES
EMAIL = "user.contact.email"


def marketing_purposes(policy: Policy) -> list[str]:
    """Purposes that send marketing mail."""
    return [p.key for p in policy.purposes if p.messages == MessageKind.marketing]


def non_essential_purposes(policy: Policy) -> list[str]:
    """Purposes of non-essential communication: marketing mail and consent-based marketing communications, such
    as partners' offers and contests (RIG-6). Advertising on the website is not a communication."""
    return [
        p.key
        for p in policy.purposes
        if p.messages == MessageKind.marketing
        or (p.consent_based and p.data_use.startswith("marketing.communications"))
    ]


@dataclass
class OptOut:
    subject_id: str
    scope: str
    withdrawn: list[str] = field(default_factory=list)
    suppressed: int = 0


def opt_out(
    conn: Connection,
    *,
    vault,
    subject_id: str,
    scope: str = "marketing",
    method: Method = Method.email_link,
    actor: Actor,
    also: str | None = None,
    evidence: dict | None = None,
) -> OptOut:
    """Withdraw the scope's purposes (and `also`, e.g. the purpose of the mail clicked) and suppress the address."""
    if scope not in SCOPES:
        raise ValueError(f"scope is one of {', '.join(SCOPES)}")
    policy = vault.policy
    purposes = non_essential_purposes(policy) if scope == "all_non_essential" else marketing_purposes(policy)
    if also is not None and also in policy.purpose_by_key and also not in purposes:
        purposes.append(also)
    result = OptOut(subject_id=subject_id, scope=scope)
    addresses = _addresses(conn, vault, subject_id)
    if addresses is None:
        return result  # erased: nothing is held, no mail can go
    for purpose in purposes:
        declared = policy.purpose_by_key[purpose]
        if not declared.consent_based:
            continue
        state = ledger.current(conn, subject_id=subject_id, purpose=purpose)
        if state is not None and state.choice != Choice.given:
            continue
        ledger.record(
            conn,
            purpose=purpose,
            choice=Choice.withdrawn if state is not None else Choice.refused,
            method=method,
            policy_version=vault.policy_version,
            subject_id=subject_id,
            evidence={**(evidence or {}), "scope": scope},
        )
        result.withdrawn.append(purpose)
    for address in addresses:
        if suppression.suppress(conn, vault=vault, address=address, scope=scope, method=method.value):
            result.suppressed += 1
    vault.audit(
        conn,
        actor=actor,
        action="opt-out",
        subject_id=subject_id,
        detail={"scope": scope, "withdrawn": result.withdrawn, "suppressed": result.suppressed},
    )
    return result


def _addresses(conn: Connection, vault, subject_id: str) -> list[str] | None:
    """Every e-mail address held for the subject, read for their rights; None if the subject is gone."""
    try:
        found = vault.read(
            conn,
            actor=Actor.system("unsubscribe"),
            purpose=SUBJECT_RIGHTS,
            subject_id=subject_id,
            categories=[EMAIL],
            action="read:opt-out",
        )
    except (GateDenied, SubjectNotFound, DecryptionError):
        return None
    return sorted({str(item.value) for item in found})
