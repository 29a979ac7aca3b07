"""The privacy inbox (NTC-3): questions and complaints about privacy, tracked until an operator answers them.

Anyone may write — a person signed in to the privacy centre, or anyone through the public contact form. The asker's
address, the message and the answer are personal data, so they are sealed: under the person's data key when they
wrote from the centre (an erasure of their data makes the inquiry unreadable with the rest, RIG-3), under the system
key otherwise (as rights requests seal their notes); the table keeps only the kind, the state and the times. The
due date is the declaration's response deadline for rights requests. An answer is mailed to the asker through the
outbox and audited.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, case, func, insert, select, update

from vowkeep import clock
from vowkeep.comms import outbox
from vowkeep.store.tables import inquiries
from vowkeep.vault.actors import Actor
from vowkeep.vault.crypto import DecryptionError
from vowkeep.vault.decisions import SUBJECT_RIGHTS

KINDS = ("question", "complaint")
STATES = ("open", "answered")
CHANNELS = ("center", "public")
MAX_MESSAGE = 5000
SEAL_LABEL = "inquiry"


class InquiryError(ValueError):
    """An inquiry that cannot be opened or answered as asked; the message says why (never a value)."""


class InquiryNotFound(LookupError):
    """No inquiry with that id."""


@dataclass
class Inquiry:
    id: str
    kind: str
    state: str
    channel: str
    subject_id: str | None
    received_at: datetime
    due_at: datetime
    answered_at: datetime | None
    answered_by: str | None
    # Unsealed only when asked for (the console's view of one inquiry, the asker's own list).
    email: str | None = None
    message: str | None = None
    answer: str | None = None
    # The asker's data was erased since: the texts went with their data key.
    erased: bool = False

    @property
    def overdue(self) -> bool:
        return self.state == "open" and self.due_at < clock.now()

    @property
    def age_days(self) -> int:
        return (clock.now() - self.received_at).days


def _text(value: object, name: str, limit: int = MAX_MESSAGE) -> str:
    text = str(value or "").strip()
    if not text:
        raise InquiryError(f"the {name} is empty")
    if len(text) > limit:
        raise InquiryError(f"the {name} is longer than {limit} characters")
    return text


def _address(text: object) -> str:
    from email_validator import EmailNotValidError, validate_email

    if not isinstance(text, str) or not text.strip() or len(text) > 320:
        raise InquiryError("give the e-mail address the answer should go to")
    try:
        return validate_email(text.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise InquiryError("the e-mail address is not valid") from None


def _load(row, vault, *, unseal: bool) -> Inquiry:
    found = Inquiry(
        id=row.id,
        kind=row.kind,
        state=row.state,
        channel=row.channel,
        subject_id=row.subject_id,
        received_at=row.received_at,
        due_at=row.due_at,
        answered_at=row.answered_at,
        answered_by=row.answered_by,
    )
    if unseal:
        try:
            sealed = vault.unseal_for(row.subject_id, bytes(row.sealed), SEAL_LABEL)
        except DecryptionError:
            found.erased = True
            return found
        found.email, found.message, found.answer = sealed["email"], sealed["message"], sealed.get("answer")
    return found


def open_inquiry(
    conn: Connection,
    *,
    vault,
    kind: str,
    email: str,
    message: str,
    channel: str,
    actor: Actor,
    subject_id: str | None = None,
) -> Inquiry:
    """Record a question or complaint (in the caller's transaction); audited without its text."""
    if kind not in KINDS:
        raise InquiryError(f"the kind is one of: {', '.join(KINDS)}")
    if channel not in CHANNELS:
        raise InquiryError(f"the channel is one of: {', '.join(CHANNELS)}")
    address = _address(email)
    text = _text(message, "message")
    now = clock.now()
    inquiry_id = uuid.uuid4().hex
    conn.execute(
        insert(inquiries).values(
            id=inquiry_id,
            kind=kind,
            state="open",
            channel=channel,
            subject_id=subject_id,
            sealed=vault.seal_for(subject_id, {"email": address, "message": text}, SEAL_LABEL),
            received_at=now,
            due_at=vault.policy.rights.response_deadline.add_to(now),
        )
    )
    vault.audit(
        conn,
        actor=actor,
        action="inquiry:open",
        purpose=SUBJECT_RIGHTS,
        subject_id=subject_id,
        detail={"inquiry": inquiry_id, "kind": kind, "channel": channel},
    )
    return get_or_raise(conn, vault=vault, inquiry_id=inquiry_id)


def get_or_raise(conn: Connection, *, vault, inquiry_id: str, unseal: bool = False) -> Inquiry:
    row = conn.execute(select(inquiries).where(inquiries.c.id == inquiry_id)).first()
    if row is None:
        raise InquiryNotFound("no such inquiry")
    return _load(row, vault, unseal=unseal)


def list_inquiries(conn: Connection, *, vault, state: str | None = None, limit: int = 200) -> list[Inquiry]:
    """Open ones first, soonest due first; then answered ones, latest answer first. No text is unsealed."""
    query = select(inquiries).order_by(
        case((inquiries.c.state == "open", 0), else_=1),
        case((inquiries.c.state == "open", inquiries.c.due_at), else_=None),
        inquiries.c.answered_at.desc(),
        inquiries.c.id,
    )
    if state is not None:
        if state not in STATES:
            raise InquiryError(f"the state is one of: {', '.join(STATES)}")
        query = query.where(inquiries.c.state == state)
    return [_load(row, vault, unseal=False) for row in conn.execute(query.limit(limit))]


def of_subjects(conn: Connection, *, vault, subject_ids: list[str]) -> list[Inquiry]:
    """A signed-in person's own inquiries (those sent from the centre for their subjects), with the texts."""
    if not subject_ids:
        return []
    rows = conn.execute(
        select(inquiries).where(inquiries.c.subject_id.in_(subject_ids)).order_by(inquiries.c.received_at.desc())
    ).all()
    return [_load(row, vault, unseal=True) for row in rows]


def count_open(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(inquiries).where(inquiries.c.state == "open")).scalar_one()


def read(conn: Connection, *, vault, inquiry_id: str, actor: Actor) -> Inquiry:
    """One inquiry with its texts, for the operator answering it; the view is audited."""
    found = get_or_raise(conn, vault=vault, inquiry_id=inquiry_id, unseal=True)
    vault.audit(
        conn,
        actor=actor,
        action="inquiry:read",
        purpose=SUBJECT_RIGHTS,
        subject_id=found.subject_id,
        detail={"inquiry": inquiry_id},
    )
    return found


def answer(conn: Connection, *, instance, inquiry_id: str, text: str, actor: Actor) -> Inquiry:
    """Answer an open inquiry: it is closed, the answer is mailed to the asker, and it is audited."""
    vault = instance.vault
    reply = _text(text, "answer")
    found = get_or_raise(conn, vault=vault, inquiry_id=inquiry_id, unseal=True)
    if found.state != "open":
        raise InquiryError("this inquiry was already answered")
    if found.erased:
        raise InquiryError("the asker's data was erased since, with their address: there is no one to answer")
    now = clock.now()
    texts = {"email": found.email, "message": found.message, "answer": reply}
    sealed = vault.seal_for(found.subject_id, texts, SEAL_LABEL)
    changed = conn.execute(
        update(inquiries)
        .where(inquiries.c.id == inquiry_id, inquiries.c.state == "open")
        .values(state="answered", sealed=sealed, answered_at=now, answered_by=actor.label)
    ).rowcount
    if changed != 1:
        raise InquiryError("this inquiry was already answered")
    outbox.queue(
        conn,
        vault=vault,
        template="inquiry_answer",
        kind="system",
        to_address=found.email,
        context={
            "organization": vault.policy.organization.name,
            "kind": found.kind,
            "received": f"{found.received_at:%d %B %Y}",
            "reference": found.id,
            "answer": reply,
            "center": f"{instance.settings.base_url}/center",
        },
    )
    vault.audit(
        conn,
        actor=actor,
        action="inquiry:answer",
        purpose=SUBJECT_RIGHTS,
        subject_id=found.subject_id,
        detail={"inquiry": inquiry_id, "kind": found.kind},
    )
    return get_or_raise(conn, vault=vault, inquiry_id=inquiry_id)
