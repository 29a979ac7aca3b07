"""Disclosures (SHR-1, SHR-2, SHR-4): personal data leaves only to a declared recipient, through the gate, on record.

A disclosure names a recipient, a purpose, categories and subjects. The gate decides it as it decides any read:
the recipient must be declared for that purpose and those categories, and the actor must serve the purpose.
A routine disclosure is released at once. A legal request (subpoena, court order, an authority's demand) and any
disclosure to a recipient the declaration marks `requires_approval` wait, recorded with their reference and
scope, until an operator other than the one who filed it approves; then they can be released, once. Every
disclosure — pending, denied or released — is in the register; a subject sees the released ones about them.
References, scopes and reasons are sealed under the system key: they can name people.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, func, insert, select, update

from vowkeep import clock
from vowkeep.policy.model import RecipientKind
from vowkeep.store.tables import disclosure_subjects, disclosures, subjects
from vowkeep.vault.actors import Actor
from vowkeep.vault.gate import SubjectNotFound

LEGAL_KINDS = ("subpoena", "court_order", "authority")
MAX_SUBJECTS = 1000
SEAL_LABEL = "disclosure"


class DisclosureError(Exception):
    """A disclosure that cannot be filed or acted on as asked; `status` is the HTTP status to answer with."""

    status = 422
    code = "invalid_disclosure"

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.status = status or self.status
        self.code = code or self.code


@dataclass
class Disclosure:
    id: str
    recipient: str
    recipient_kind: str
    purpose: str | None
    categories: list[str]
    legal_basis: str
    kind: str
    legal_kind: str | None
    state: str
    subject_ids: list[str]
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    released_by: str | None
    released_at: datetime | None
    details: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        """The register entry (for operators and services holding the `disclosures` permission)."""
        return {
            "id": self.id,
            "recipient": self.recipient,
            "recipient_kind": self.recipient_kind,
            "purpose": self.purpose,
            "categories": self.categories,
            "legal_basis": self.legal_basis,
            "kind": self.kind,
            "legal_request": (
                {
                    "kind": self.legal_kind,
                    "reference": self.details.get("reference"),
                    "scope": self.details.get("scope"),
                    "authority": self.details.get("authority"),
                }
                if self.kind == "legal"
                else None
            ),
            "reference": self.details.get("reference"),
            "state": self.state,
            "subject_ids": self.subject_ids,
            "requested_by": self.requested_by,
            "requested_at": self.requested_at.isoformat(),
            "decided_by": self.decided_by,
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
            "denial_reason": self.details.get("denial_reason"),
            "released_by": self.released_by,
            "released_at": self.released_at.isoformat() if self.released_at else None,
        }


def _load(conn: Connection, vault, row) -> Disclosure:
    subject_ids = list(
        conn.execute(
            select(disclosure_subjects.c.subject_id)
            .where(disclosure_subjects.c.disclosure_id == row.id)
            .order_by(disclosure_subjects.c.subject_id)
        ).scalars()
    )
    return Disclosure(
        id=row.id,
        recipient=row.recipient,
        recipient_kind=row.recipient_kind,
        purpose=row.purpose,
        categories=row.categories.split(),
        legal_basis=row.legal_basis,
        kind=row.kind,
        legal_kind=row.legal_kind,
        state=row.state,
        subject_ids=subject_ids,
        requested_by=row.requested_by,
        requested_at=row.requested_at,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        released_by=row.released_by,
        released_at=row.released_at,
        details=vault.unseal_for(None, row.sealed, SEAL_LABEL),
    )


def get_or_raise(conn: Connection, *, vault, disclosure_id: str) -> Disclosure:
    row = conn.execute(select(disclosures).where(disclosures.c.id == disclosure_id)).first()
    if row is None:
        raise DisclosureError("no such disclosure", status=404, code="not_found")
    return _load(conn, vault, row)


def register(
    conn: Connection,
    *,
    vault,
    state: str | None = None,
    recipient: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Disclosure]:
    """The register, newest first."""
    query = select(disclosures).order_by(disclosures.c.requested_at.desc(), disclosures.c.id)
    if state:
        query = query.where(disclosures.c.state == state)
    if recipient:
        query = query.where(disclosures.c.recipient == recipient)
    return [_load(conn, vault, row) for row in conn.execute(query.limit(limit).offset(offset))]


def _clean_text(value: str | None, name: str, *, required: bool = False, limit: int = 2000) -> str | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise DisclosureError(f"`{name}` is required")
        return None
    if len(text) > limit:
        raise DisclosureError(f"`{name}` is longer than {limit} characters")
    return text


def file(
    conn: Connection,
    *,
    vault,
    actor: Actor,
    recipient: str,
    purpose: str,
    categories: list[str],
    subject_ids: list[str],
    legal_basis: str | None = None,
    reference: str | None = None,
    legal: dict | None = None,
) -> tuple[Disclosure, list[dict] | None]:
    """File a disclosure; a routine one is released at once and its data returned, the others wait for approval."""
    categories = sorted({c.strip() for c in categories if c and c.strip()})
    subject_ids = list(dict.fromkeys(s.strip() for s in subject_ids if s and s.strip()))
    if not categories:
        raise DisclosureError("name at least one category to disclose")
    if not subject_ids:
        raise DisclosureError("name at least one subject")
    if len(subject_ids) > MAX_SUBJECTS:
        raise DisclosureError(f"a disclosure covers at most {MAX_SUBJECTS} subjects")
    declared = vault.policy.recipient_by_key.get(recipient)
    details: dict = {"reference": _clean_text(reference, "reference", limit=500)}
    legal_kind = None
    if legal is not None:
        if declared is not None and declared.kind != RecipientKind.authority:
            raise DisclosureError(
                f"a legal request is answered to an authority; recipient '{recipient}' is a {declared.kind.value}"
            )
        legal_kind = legal.get("kind")
        if legal_kind not in LEGAL_KINDS:
            raise DisclosureError(f"a legal request's kind is one of: {', '.join(LEGAL_KINDS)}")
        details.update(
            reference=_clean_text(legal.get("reference"), "legal_request.reference", required=True, limit=500),
            scope=_clean_text(legal.get("scope"), "legal_request.scope", required=True),
            authority=_clean_text(legal.get("authority"), "legal_request.authority", limit=500),
        )
    # SHR-1: the declaration decides; a refusal is audited (even though the unit of work rolls back) and raised.
    vault.authorize(conn, actor=actor, action="disclose", purpose=purpose, categories=categories, recipient=recipient)
    found = set(conn.execute(select(subjects.c.id).where(subjects.c.id.in_(subject_ids))).scalars())
    if len(found) != len(subject_ids):
        raise SubjectNotFound(next(s for s in subject_ids if s not in found))
    needs_approval = legal is not None or declared.requires_approval
    basis = legal_basis or (
        "legal_obligation" if legal is not None else vault.policy.purpose_by_key[purpose].legal_basis
    )
    now = clock.now()
    disclosure_id = uuid.uuid4().hex
    conn.execute(
        insert(disclosures).values(
            id=disclosure_id,
            recipient=recipient,
            recipient_kind=declared.kind.value,
            purpose=purpose,
            categories=" ".join(categories),
            legal_basis=str(basis)[:64],
            kind="legal" if legal is not None else "routine",
            legal_kind=legal_kind,
            sealed=vault.seal_for(None, details, SEAL_LABEL),
            state="pending" if needs_approval else "approved",
            subject_count=len(subject_ids),
            requested_by=actor.label,
            requested_at=now,
        )
    )
    conn.execute(insert(disclosure_subjects), [{"disclosure_id": disclosure_id, "subject_id": s} for s in subject_ids])
    vault.audit(
        conn,
        actor=actor,
        action="disclosure:file",
        purpose=purpose,
        categories=categories,
        detail={"disclosure": disclosure_id, "recipient": recipient, "subjects": len(subject_ids)},
    )
    if needs_approval:
        return get_or_raise(conn, vault=vault, disclosure_id=disclosure_id), None
    return release(conn, vault=vault, disclosure_id=disclosure_id, actor=actor)


def approve(conn: Connection, *, vault, disclosure_id: str, actor: Actor) -> Disclosure:
    """An operator approves a pending disclosure (SHR-4); never the one who filed it."""
    found = get_or_raise(conn, vault=vault, disclosure_id=disclosure_id)
    if found.state != "pending":
        raise DisclosureError(
            f"the disclosure is {found.state}; only a pending one can be approved", status=409, code="wrong_state"
        )
    if found.requested_by == actor.label:
        raise DisclosureError(
            "a disclosure is approved by an operator other than the one who filed it", status=403, code="forbidden"
        )
    _decide(conn, disclosure_id, "approved", actor)
    vault.audit(
        conn,
        actor=actor,
        action="disclosure:approve",
        purpose=found.purpose,
        categories=found.categories,
        detail={"disclosure": disclosure_id, "recipient": found.recipient},
    )
    return get_or_raise(conn, vault=vault, disclosure_id=disclosure_id)


def deny(conn: Connection, *, vault, disclosure_id: str, actor: Actor, reason: str) -> Disclosure:
    """An operator refuses a pending disclosure, with a reason; nothing is released."""
    reason = _clean_text(reason, "reason", required=True)
    found = get_or_raise(conn, vault=vault, disclosure_id=disclosure_id)
    if found.state not in ("pending", "approved"):
        raise DisclosureError(
            f"the disclosure is {found.state}; it can no longer be denied", status=409, code="wrong_state"
        )
    details = {**found.details, "denial_reason": reason}
    _decide(conn, disclosure_id, "denied", actor, sealed=vault.seal_for(None, details, SEAL_LABEL))
    vault.audit(
        conn,
        actor=actor,
        action="disclosure:deny",
        purpose=found.purpose,
        categories=found.categories,
        detail={"disclosure": disclosure_id, "recipient": found.recipient},
    )
    return get_or_raise(conn, vault=vault, disclosure_id=disclosure_id)


def _decide(conn: Connection, disclosure_id: str, state: str, actor: Actor, **values) -> None:
    conn.execute(
        update(disclosures)
        .where(disclosures.c.id == disclosure_id)
        .values(state=state, decided_by=actor.label, decided_at=clock.now(), **values)
    )


def release(conn: Connection, *, vault, disclosure_id: str, actor: Actor) -> tuple[Disclosure, list[dict]]:
    """Read an approved disclosure's data through the gate for its recipient, once; returns it per subject."""
    found = get_or_raise(conn, vault=vault, disclosure_id=disclosure_id)
    if found.state != "approved":
        word = {"pending": "waits for an operator's approval", "released": "was already released"}.get(
            found.state, f"is {found.state}"
        )
        raise DisclosureError(f"the disclosure {word}", status=409, code="wrong_state")
    data = []
    for subject_id in found.subject_ids:
        values = vault.read(
            conn,
            actor=actor,
            purpose=found.purpose,
            subject_id=subject_id,
            categories=found.categories,
            recipient=found.recipient,
            action="disclose",
        )
        data.append({"subject_id": subject_id, "items": [{**v.meta(), "value": v.value} for v in values]})
    now = clock.now()
    conn.execute(
        update(disclosures)
        .where(disclosures.c.id == disclosure_id, disclosures.c.state == "approved")
        .values(state="released", released_by=actor.label, released_at=now)
    )
    return get_or_raise(conn, vault=vault, disclosure_id=disclosure_id), data


def record_transfer(
    conn: Connection,
    *,
    vault,
    actor: Actor,
    recipient: str,
    categories: list[str],
    subject_ids: list[str],
    reference: str | None,
    approved_by: str | None,
) -> str:
    """Enter a business transfer (SHR-8) in the register: the export of the data set to an acquirer."""
    declared = vault.policy.recipient_by_key[recipient]
    now = clock.now()
    disclosure_id = uuid.uuid4().hex
    conn.execute(
        insert(disclosures).values(
            id=disclosure_id,
            recipient=recipient,
            recipient_kind=declared.kind.value,
            purpose=None,
            categories=" ".join(sorted(set(categories))),
            legal_basis="business_transfer",
            kind="transfer",
            sealed=vault.seal_for(None, {"reference": reference}, SEAL_LABEL),
            state="released",
            subject_count=len(subject_ids),
            requested_by=actor.label,
            requested_at=now,
            decided_by=approved_by,
            decided_at=now if approved_by else None,
            released_by=actor.label,
            released_at=now,
        )
    )
    for start in range(0, len(subject_ids), 5000):
        chunk = subject_ids[start : start + 5000]
        conn.execute(insert(disclosure_subjects), [{"disclosure_id": disclosure_id, "subject_id": s} for s in chunk])
    return disclosure_id


def for_subject(conn: Connection, *, policy, subject_id: str) -> list[dict]:
    """The released disclosures about a subject (SHR-2), as the subject sees them: who, what, why, when."""
    rows = conn.execute(
        select(disclosures)
        .join(disclosure_subjects, disclosure_subjects.c.disclosure_id == disclosures.c.id)
        .where(disclosure_subjects.c.subject_id == subject_id, disclosures.c.state == "released")
        .order_by(disclosures.c.released_at)
    ).all()
    out = []
    for row in rows:
        declared = policy.recipient_by_key.get(row.recipient)
        out.append(
            {
                "id": row.id,
                "recipient": row.recipient,
                "recipient_name": declared.name if declared else row.recipient,
                "recipient_kind": row.recipient_kind,
                "kind": row.kind,
                "legal_request": row.legal_kind,
                "purpose": row.purpose,
                "categories": row.categories.split(),
                "legal_basis": row.legal_basis,
                "released_at": row.released_at.isoformat() if row.released_at else None,
            }
        )
    return out


def count_by_state(conn: Connection) -> dict[str, int]:
    return dict(conn.execute(select(disclosures.c.state, func.count()).group_by(disclosures.c.state)).all())
