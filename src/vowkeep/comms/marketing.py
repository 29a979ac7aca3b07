"""Marketing campaigns: one message per subject whose consent for the purpose allows it (USE-3).

The audience is every live subject with an e-mail address collected for the purpose (COL-7) whose current choice
lets the purpose run — an opt-in purpose needs a given consent (and a new one after a material change, NTC-2), an
opt-out purpose stops at an objection. The worker checks the gate and the suppression list again at send time.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, or_, select

from vowkeep.comms import outbox
from vowkeep.consent import ledger
from vowkeep.policy.model import MessageKind
from vowkeep.store.tables import items, subjects
from vowkeep.vault.actors import Actor

EMAIL = "user.contact.email"
TEMPLATE = "marketing"


class CampaignError(ValueError):
    """A campaign that cannot be sent as asked (the purpose sends no marketing mail, say)."""


@dataclass
class Campaign:
    purpose: str
    queued: int
    without_consent: int


def audience(conn: Connection, *, vault, purpose: str) -> tuple[list[str], int]:
    """(subjects the purpose may mail, how many were left out for want of consent)."""
    declared = vault.policy.purpose_by_key[purpose]
    rows = conn.execute(
        select(items.c.subject_id, items.c.purposes)
        .join(subjects, subjects.c.id == items.c.subject_id)
        .where(
            subjects.c.state == "active",
            or_(items.c.category == EMAIL, items.c.category.like(EMAIL + ".%")),
        )
        .order_by(items.c.subject_id)
    ).all()
    candidates = sorted({r.subject_id for r in rows if purpose in r.purposes.split()})
    since = vault.policy_state.reconsent_since.get(purpose)
    chosen, refused = [], 0
    for subject_id in candidates:
        state = ledger.current(conn, subject_id=subject_id, purpose=purpose)
        if ledger.allows(declared.consent, state, reconsent_since=since)[0]:
            chosen.append(subject_id)
        else:
            refused += 1
    return chosen, refused


def queue_campaign(conn: Connection, *, vault, actor: Actor, purpose: str, subject_line: str, body: str) -> Campaign:
    """Queue a marketing message for a purpose to its audience (in the caller's transaction); audited."""
    declared = vault.policy.purpose_by_key.get(purpose)
    if declared is None:
        raise CampaignError(f"purpose '{purpose}' is not declared")
    if declared.messages != MessageKind.marketing:
        raise CampaignError(f"purpose '{purpose}' does not declare marketing messages")
    chosen, refused = audience(conn, vault=vault, purpose=purpose)
    context = {"subject": subject_line, "body": body, "organization": vault.policy.organization.name}
    for subject_id in chosen:
        outbox.queue(
            conn, vault=vault, template=TEMPLATE, kind="marketing", context=context, subject_id=subject_id,
            purpose=purpose,
        )  # fmt: skip
    vault.audit(conn, actor=actor, action="campaign", purpose=purpose, detail={"queued": len(chosen)})
    return Campaign(purpose=purpose, queued=len(chosen), without_consent=refused)
