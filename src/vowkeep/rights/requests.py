"""Data-subject requests, end to end: filing, identity verification, review with deadlines, decisions, outcome mail.

Anyone may ask (RIG-10): the person through the API or the privacy centre, an operator who received the request
by e-mail or phone, or an authorized agent through the Data Rights Protocol. The requester's address is sealed
under the system key; a one-time code goes to it (RIG-8), and only once the code comes back is the request matched
to subjects through the blind index — so a request never reveals whether an address is known, and nothing is
fulfilled before verification. The due date comes from the declaration's response deadline (RIG-9); with
`review: automatic` a verified request is fulfilled at once, with `case_by_case` it waits for an operator holding
`review_requests`, who approves or denies it with a reason. The requester is told the outcome by e-mail.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, case, func, insert, select, update

from vowkeep import clock
from vowkeep.comms import outbox
from vowkeep.policy.model import ConsentMode, FieldType, Right
from vowkeep.rights import RIGHTS_ACTOR, fulfilment, verification
from vowkeep.rights.errors import (
    ChannelNotOffered,
    RequestError,
    RequestNotFound,
    RightNotOffered,
    TooManyRequests,
    VerificationFailed,
    WrongState,
)
from vowkeep.rights.states import FINAL, OPEN, State, move
from vowkeep.sharing import processors
from vowkeep.store import jobs
from vowkeep.store.tables import request_history, request_subjects, rights_requests
from vowkeep.vault import blind
from vowkeep.vault.actors import Actor, ActorKind
from vowkeep.vault.decisions import SUBJECT_RIGHTS
from vowkeep.vault.intake import SubmissionError, check_field_value

KINDS = (*(r.value for r in Right), "reactivate")
LABELS = {
    "access": "access",
    "rectify": "correction",
    "erase": "erasure",
    "deactivate": "deactivation",
    "restrict": "restriction",
    "object": "objection",
    "portability": "data portability",
    "reactivate": "reactivation",
}
DENIALS = ("no_match", "insuf_verification", "claim_not_covered", "suspected_fraud", "too_many_requests", "other")
SEAL_LABEL = "request"
# A request whose requester never proves their address expires after this.
VERIFY_WINDOW = timedelta(days=7)
# How long a decided request's token (and an access report) stays usable.
KEEP_AFTER_DECISION = timedelta(days=30)
MAX_PER_ADDRESS_PER_DAY = 5
MAX_NOTE = 2000
# Who acts when the person who asked acts: identified only by holding the code or the request's token.
REQUESTER = Actor(ActorKind.subject, "requester")


@dataclass
class RightsRequest:
    id: str
    kind: str
    state: str
    channel: str
    purposes: list[str]
    filed_by: str
    agent_id: str | None
    agent_request_id: str | None
    regime: str | None
    status_callback: str | None
    received_at: datetime
    due_at: datetime
    verified_at: datetime | None
    verified_by: str | None
    decided_at: datetime | None
    decided_by: str | None
    denial: str | None
    outcome: dict
    token_hash: bytes | None
    token_expires_at: datetime | None
    updated_at: datetime
    subject_ids: list[str] = field(default_factory=list)
    details: dict = field(default_factory=dict)

    @property
    def open(self) -> bool:
        return self.state in OPEN

    @property
    def overdue(self) -> bool:
        return self.open and self.due_at < clock.now()

    @property
    def label(self) -> str:
        return LABELS.get(self.kind, self.kind)

    def summary(self) -> dict:
        """What an operator's queue shows: no personal values."""
        now = clock.now()
        return {
            "id": self.id,
            "right": self.kind,
            "state": self.state,
            "channel": self.channel,
            "purposes": self.purposes,
            "received_at": self.received_at.isoformat(),
            "due_at": self.due_at.isoformat(),
            "overdue": self.overdue,
            "days_left": (self.due_at - now).days if self.open else None,
            "verified_at": self.verified_at.isoformat() if self.verified_at else None,
            "verified_by": self.verified_by,
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
            "decided_by": self.decided_by,
            "denial": self.denial,
            "subject_ids": self.subject_ids,
            "filed_by": self.filed_by,
            "agent_id": self.agent_id,
        }

    def for_requester(self) -> dict:
        """What the verified requester sees of their request."""
        return {
            "id": self.id,
            "right": self.kind,
            "state": self.state,
            "received_at": self.received_at.isoformat(),
            "due_at": self.due_at.isoformat(),
            "verified_at": self.verified_at.isoformat() if self.verified_at else None,
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
            "denial": self.denial,
            "denial_reason": self.details.get("denial_reason"),
            "purposes": self.purposes,
            "outcome": self.outcome,
        }


def _load(conn: Connection, vault, row, *, details: bool = True) -> RightsRequest:
    subject_ids = list(
        conn.execute(
            select(request_subjects.c.subject_id)
            .where(request_subjects.c.request_id == row.id)
            .order_by(request_subjects.c.subject_id)
        ).scalars()
    )
    return RightsRequest(
        id=row.id,
        kind=row.kind,
        state=row.state,
        channel=row.channel,
        purposes=list(row.purposes or []),
        filed_by=row.filed_by,
        agent_id=row.agent_id,
        agent_request_id=row.agent_request_id,
        regime=row.regime,
        status_callback=row.status_callback,
        received_at=row.received_at,
        due_at=row.due_at,
        verified_at=row.verified_at,
        verified_by=row.verified_by,
        decided_at=row.decided_at,
        decided_by=row.decided_by,
        denial=row.denial,
        outcome=row.outcome or {},
        token_hash=bytes(row.token_hash) if row.token_hash is not None else None,
        token_expires_at=row.token_expires_at,
        updated_at=row.updated_at,
        subject_ids=subject_ids,
        details=vault.unseal_for(None, row.sealed, SEAL_LABEL) if details else {},
    )


def get_or_raise(conn: Connection, *, vault, request_id: str) -> RightsRequest:
    row = conn.execute(select(rights_requests).where(rights_requests.c.id == request_id)).first()
    if row is None:
        raise RequestNotFound("no such request")
    return _load(conn, vault, row)


def list_requests(
    conn: Connection,
    *,
    vault,
    state: str | None = None,
    kind: str | None = None,
    overdue: bool | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[RightsRequest]:
    """The review queue: overdue requests first, then open ones by due date, then decided ones, newest first."""
    now = clock.now()
    is_open = rights_requests.c.state.in_([s.value for s in OPEN])
    late = and_(is_open, rights_requests.c.due_at < now)
    query = select(rights_requests).order_by(
        case((late, 0), (is_open, 1), else_=2),
        case((is_open, rights_requests.c.due_at), else_=None),
        rights_requests.c.received_at.desc(),
        rights_requests.c.id,
    )
    if state:
        query = query.where(rights_requests.c.state == state)
    if kind:
        query = query.where(rights_requests.c.kind == kind)
    if overdue is True:
        query = query.where(late)
    elif overdue is False:
        query = query.where(~late)
    rows = conn.execute(query.limit(limit).offset(offset)).all()
    return [_load(conn, vault, row, details=False) for row in rows]


def history(conn: Connection, *, request_id: str) -> list[dict]:
    rows = conn.execute(
        select(request_history).where(request_history.c.request_id == request_id).order_by(request_history.c.id)
    ).all()
    return [
        {"at": r.at.isoformat(), "from": r.from_state, "to": r.to_state, "actor": r.actor, "note": r.note} for r in rows
    ]


# --- filing -------------------------------------------------------------------------------------------------------


def offered(policy) -> list[str]:
    """The rights this declaration offers; reactivation comes with deactivation or restriction."""
    rights = [r.value for r in policy.rights.offered]
    if "deactivate" in rights or "restrict" in rights:
        rights.append("reactivate")
    return rights


def normalise_email(text: object) -> str:
    from email_validator import EmailNotValidError, validate_email

    if not isinstance(text, str) or not text.strip() or len(text) > 320:
        raise RequestError("`email` must be the requester's e-mail address, where the verification code is sent")
    try:
        return validate_email(text.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise RequestError("`email` is not a valid e-mail address") from None


def _digest(vault, address: str) -> bytes:
    return blind.digest(vault.keystore.system_key(blind.INDEX_KEY_NAME), "email", address)


def _check_purposes(policy, purposes: list[str]) -> list[str]:
    if not purposes:
        raise RequestError("an objection names the purposes objected to in `purposes`")
    checked = []
    for key in purposes:
        declared = policy.purpose_by_key.get(key) if isinstance(key, str) else None
        if declared is None:
            raise RequestError(f"'{key}' is not a declared purpose")
        if declared.consent == ConsentMode.none:
            raise RequestError(
                f"purpose '{key}' rests on {declared.legal_basis.value.replace('_', ' ')}, not on consent: an "
                "objection cannot stop it; ask for erasure, deactivation or restriction instead"
            )
        checked.append(key)
    return sorted(set(checked))


def _check_values(policy, values: object) -> dict:
    if not isinstance(values, dict) or not values:
        raise RequestError("a correction gives the corrected values in `values`, by field name")
    problems = []
    for name, raw in values.items():
        points = [p for p in policy.collection_points if any(f.name == name for f in p.fields)]
        if not points:
            problems.append({"field": name, "message": "is not a declared field", "rule": "undeclared-field"})
            continue
        if any(f.type == FieldType.password for p in points for f in p.fields if f.name == name):
            problems.append(
                {"field": name, "message": "a password is changed in the account, not by request", "rule": "password"}
            )
            continue
        try:
            for point in points:
                check_field_value(point, name, raw)
        except SubmissionError as exc:
            problems.extend(p.as_dict() for p in exc.problems)
    if problems:
        raise RequestError("the corrected values were refused; nothing was stored", problems=problems)
    return dict(values)


def file(
    conn: Connection,
    *,
    instance,
    kind: str,
    email: str,
    channel: str,
    actor: Actor,
    purposes: list[str] | None = None,
    values: dict | None = None,
    note: str | None = None,
    agent_id: str | None = None,
    agent_request_id: str | None = None,
    regime: str | None = None,
    status_callback: str | None = None,
    agent_verified: bool = False,
    verified_by: str | None = None,
) -> RightsRequest:
    """File a request (in the caller's transaction) and send the verification code to `email`.

    `verified_by` names a proof of the address already made — `agent` (an authorized agent's attestation) or
    `center` (the person signed in to the privacy centre with a mailed code): then no code is sent.
    """
    if agent_verified:
        verified_by = "agent"
    vault = instance.vault
    policy = vault.policy
    if kind not in KINDS:
        raise RequestError(f"'{kind}' is not a right; rights are: {', '.join(KINDS)}")
    if kind not in offered(policy):
        raise RightNotOffered(
            f"this business does not offer the right '{kind}' (offered: {', '.join(offered(policy))})", right=kind
        )
    if channel not in [c.value for c in policy.rights.channels]:
        channels = ", ".join(c.value for c in policy.rights.channels)
        raise ChannelNotOffered(f"requests are not taken by '{channel}' here (channels: {channels})")
    contact = normalise_email(email)
    purposes = _check_purposes(policy, list(purposes or [])) if kind == "object" else []
    details: dict = {"contact": contact}
    if kind == "rectify":
        details["values"] = _check_values(policy, values)
    if note is not None and str(note).strip():
        if len(str(note)) > MAX_NOTE:
            raise RequestError(f"`note` is longer than {MAX_NOTE} characters")
        details["note"] = str(note).strip()
    digest = _digest(vault, contact)
    now = clock.now()
    # The limit keeps codes from being mailed again and again to someone's address; a person signed in to the
    # privacy centre already proved the address and is sent no code.
    recent = (
        0
        if verified_by == "center"
        else conn.execute(
            select(func.count())
            .select_from(rights_requests)
            .where(rights_requests.c.contact_digest == digest, rights_requests.c.received_at > now - timedelta(days=1))
        ).scalar_one()
    )
    if recent >= MAX_PER_ADDRESS_PER_DAY:
        raise TooManyRequests("too many requests for this address today; please wait a day, or reply to our e-mail")
    request_id = uuid.uuid4().hex
    conn.execute(
        insert(rights_requests).values(
            id=request_id,
            kind=kind,
            state=State.received.value,
            channel=channel,
            purposes=purposes,
            contact_digest=digest,
            sealed=vault.seal_for(None, details, SEAL_LABEL),
            filed_by=actor.label,
            agent_id=agent_id,
            agent_request_id=agent_request_id,
            regime=regime,
            status_callback=status_callback,
            received_at=now,
            due_at=policy.rights.response_deadline.add_to(now),
            outcome={},
            updated_at=now,
        )
    )
    conn.execute(
        insert(request_history).values(
            request_id=request_id, at=now, from_state=None, to_state="received", actor=actor.label, note=f"by {channel}"
        )
    )
    vault.audit(
        conn,
        actor=actor,
        action="request:file",
        purpose=SUBJECT_RIGHTS,
        detail={"request": request_id, "right": kind, "channel": channel},
    )
    request = get_or_raise(conn, vault=vault, request_id=request_id)
    if verified_by is not None:
        move(
            conn,
            request_id=request_id,
            current="received",
            to="in_review",
            actor=actor.label,
            note=_VERIFIED_NOTES[verified_by],
            verified_at=now,
            verified_by=verified_by,
        )
        request = get_or_raise(conn, vault=vault, request_id=request_id)
        return _verified(conn, instance=instance, request=request)
    _send_code(conn, instance=instance, request=request)
    move(conn, request_id=request_id, current="received", to="verifying", actor=actor.label, note="code sent by e-mail")
    return get_or_raise(conn, vault=vault, request_id=request_id)


_VERIFIED_NOTES = {
    "agent": "identity verified by the authorized agent",
    "center": "identity verified by a sign-in code to the privacy centre",
}
# What a person signed in to the privacy centre gets done at once, whatever the declaration's review: these only
# show, correct or pause their own data and can be undone or asked again. Erasure cannot be undone, so it follows
# the declaration (an operator reviews it under `review: case_by_case`).
SELF_SERVICE = ("access", "portability", "rectify", "deactivate", "reactivate", "object")


def file_in_center(
    conn: Connection,
    *,
    instance,
    kind: str,
    email: str,
    values: dict | None = None,
    purposes: list[str] | None = None,
    note: str | None = None,
) -> tuple[RightsRequest, str]:
    """A request from a person signed in to the privacy centre, whose address a mailed code already proved (RIG-8).

    It is recorded, matched and audited like any request; self-service rights are fulfilled at once, erasure goes
    through the declaration's review. Returns the request and its request-scoped token (for `/requests/{id}`).
    """
    request = file(
        conn,
        instance=instance,
        kind=kind,
        email=email,
        channel="center",
        actor=REQUESTER,
        purposes=purposes,
        values=values,
        note=note,
        verified_by="center",
    )
    if kind in SELF_SERVICE and request.state == State.in_review:
        _fulfil(conn, instance=instance, request=request, actor=REQUESTER)
    token, digest = verification.new_token()
    request = get_or_raise(conn, vault=instance.vault, request_id=request.id)
    expires = (clock.now() if request.state in FINAL else max(clock.now(), request.due_at)) + KEEP_AFTER_DECISION
    conn.execute(
        update(rights_requests)
        .where(rights_requests.c.id == request.id)
        .values(token_hash=digest, token_expires_at=expires)
    )
    return get_or_raise(conn, vault=instance.vault, request_id=request.id), token


def _send_code(conn: Connection, *, instance, request: RightsRequest, ttl: timedelta = verification.CODE_TTL) -> None:
    vault = instance.vault
    code = verification.issue_code(
        conn, key=vault.keystore.system_key(verification.TOKENS_KEY_NAME), request_id=request.id, ttl=ttl
    )
    outbox.queue(
        conn,
        vault=vault,
        template="request_code",
        kind="system",
        to_address=request.details["contact"],
        context={
            "organization": vault.policy.organization.name,
            "right": request.label,
            "code": code,
            "minutes": int(ttl.total_seconds() // 60),
            "link": f"{instance.settings.base_url}/requests/{request.id}/verify?code={code}",
            "request_id": request.id,
        },
    )


# --- verification ---------------------------------------------------------------------------------------------------


@dataclass
class Verified:
    ok: bool
    request: RightsRequest
    token: str | None = None
    problem: str | None = None
    attempts_left: int = 0


def verify(conn: Connection, *, instance, request_id: str, code: str, method: str = "code") -> Verified:
    """Check a code (RIG-8). The attempt is counted whatever happens, so commit even when this says no.

    On a request waiting for verification a good code moves it to review (and, with automatic review, fulfils
    it); on a decided request it opens the outcome again. Either way the requester gets a request-scoped token.
    """
    vault = instance.vault
    request = get_or_raise(conn, vault=vault, request_id=request_id)
    if not isinstance(code, str) or not code.strip().isdigit() or len(code.strip()) > 12:
        raise VerificationFailed("the code is the six digits we sent by e-mail")
    check = verification.check_code(
        conn, key=vault.keystore.system_key(verification.TOKENS_KEY_NAME), request_id=request_id, code=code
    )
    if not check.ok:
        if check.problem == "exhausted" and request.state == State.verifying:
            _decide(
                conn,
                instance=instance,
                request=request,
                to=State.denied,
                actor=RIGHTS_ACTOR,
                note="too many wrong codes",
                denial="insuf_verification",
                reason="The identity check failed: too many wrong codes were entered.",
            )
            request = get_or_raise(conn, vault=vault, request_id=request_id)
        return Verified(False, request, problem=check.problem, attempts_left=check.attempts_left)
    token, digest = verification.new_token()
    now = clock.now()
    expires = (now if request.state in FINAL else max(now, request.due_at)) + KEEP_AFTER_DECISION
    conn.execute(
        update(rights_requests)
        .where(rights_requests.c.id == request_id)
        .values(token_hash=digest, token_expires_at=expires)
    )
    if request.state == State.verifying:
        move(
            conn,
            request_id=request_id,
            current=request.state,
            to="in_review",
            actor=REQUESTER.label,
            note=f"identity verified by {method}",
            verified_at=now,
            verified_by=method,
        )
        request = get_or_raise(conn, vault=vault, request_id=request_id)
        request = _verified(conn, instance=instance, request=request)
    return Verified(True, get_or_raise(conn, vault=vault, request_id=request_id), token=token)


def _verified(conn: Connection, *, instance, request: RightsRequest) -> RightsRequest:
    """A verified request: match it to subjects by address; fulfil it at once if the declaration says so."""
    vault = instance.vault
    found = vault.find_subjects(
        conn,
        actor=RIGHTS_ACTOR,
        purpose=SUBJECT_RIGHTS,
        category="user.contact.email",
        value=request.details["contact"],
    )
    if not found:
        _decide(
            conn,
            instance=instance,
            request=request,
            to=State.denied,
            actor=RIGHTS_ACTOR,
            note="no subject matches the verified address",
            denial="no_match",
            reason="We hold no personal data linked to this e-mail address.",
        )
        return get_or_raise(conn, vault=vault, request_id=request.id)
    conn.execute(insert(request_subjects), [{"request_id": request.id, "subject_id": s, "outcome": {}} for s in found])
    request = get_or_raise(conn, vault=vault, request_id=request.id)
    if vault.policy.rights.review == "automatic":
        try:
            _fulfil(conn, instance=instance, request=request, actor=RIGHTS_ACTOR)
        except RequestError as exc:
            _decide(
                conn,
                instance=instance,
                request=request,
                to=State.denied,
                actor=RIGHTS_ACTOR,
                note="could not be fulfilled",
                denial="other",
                reason=exc.message,
            )
    return get_or_raise(conn, vault=vault, request_id=request.id)


def resend(conn: Connection, *, instance, request_id: str) -> RightsRequest:
    """A new code for a request still waiting for verification (the old one stops working)."""
    request = get_or_raise(conn, vault=instance.vault, request_id=request_id)
    if request.state != State.verifying:
        raise WrongState(f"the request is {request.state.replace('_', ' ')}; it needs no code")
    if verification.codes_issued(conn, request_id=request_id) >= verification.MAX_CODES_PER_REQUEST:
        raise TooManyRequests("no more codes can be sent for this request; please file a new one")
    _send_code(conn, instance=instance, request=request)
    move(
        conn, request_id=request_id, current=request.state, to="verifying", actor=REQUESTER.label, note="new code sent"
    )
    return get_or_raise(conn, vault=instance.vault, request_id=request_id)


# --- review and decisions -------------------------------------------------------------------------------------------


def approve(conn: Connection, *, instance, request_id: str, actor: Actor) -> RightsRequest:
    """An operator approves a verified request: it is fulfilled now (RIG-9)."""
    request = get_or_raise(conn, vault=instance.vault, request_id=request_id)
    if request.state != State.in_review:
        why = "waits for the requester's identity check" if request.state in OPEN else f"is {request.state}"
        raise WrongState(f"the request {why}; only a verified request in review can be approved")
    _fulfil(conn, instance=instance, request=request, actor=actor)
    return get_or_raise(conn, vault=instance.vault, request_id=request_id)


def deny(
    conn: Connection, *, instance, request_id: str, actor: Actor, reason: str, denial: str = "other"
) -> RightsRequest:
    """An operator denies an open request, with the reason the requester will read (RIG-9)."""
    text = (reason or "").strip()
    if not text:
        raise RequestError("a denial needs a reason, which the requester is told")
    if len(text) > MAX_NOTE:
        raise RequestError(f"the reason is longer than {MAX_NOTE} characters")
    if denial not in DENIALS:
        raise RequestError(f"`denial` is one of: {', '.join(DENIALS)}")
    request = get_or_raise(conn, vault=instance.vault, request_id=request_id)
    if request.state not in OPEN:
        raise WrongState(f"the request is already {request.state}")
    _decide(
        conn,
        instance=instance,
        request=request,
        to=State.denied,
        actor=actor,
        note="denied by an operator",
        denial=denial,
        reason=text,
    )
    return get_or_raise(conn, vault=instance.vault, request_id=request_id)


def cancel(conn: Connection, *, instance, request_id: str, actor: Actor, reason: str | None = None) -> RightsRequest:
    """The requester (or their agent) withdraws an open request."""
    request = get_or_raise(conn, vault=instance.vault, request_id=request_id)
    if request.state not in OPEN:
        raise WrongState(f"the request is already {request.state}")
    _decide(
        conn,
        instance=instance,
        request=request,
        to=State.cancelled,
        actor=actor,
        note="withdrawn by the requester",
        reason=(reason or "").strip()[:MAX_NOTE] or None,
    )
    return get_or_raise(conn, vault=instance.vault, request_id=request_id)


def _fulfil(conn: Connection, *, instance, request: RightsRequest, actor: Actor) -> None:
    outcome = fulfilment.fulfil(conn, instance=instance, request=request)
    _decide(
        conn, instance=instance, request=request, to=State.fulfilled, actor=actor, note="fulfilled", outcome=outcome
    )


def _decide(
    conn: Connection,
    *,
    instance,
    request: RightsRequest,
    to: State,
    actor: Actor,
    note: str,
    denial: str | None = None,
    reason: str | None = None,
    outcome: dict | None = None,
) -> None:
    """Close a request: record the decision, tell the requester, tell their agent, and forget the address."""
    vault = instance.vault
    now = clock.now()
    contact = request.details.get("contact")
    kept = {k: v for k, v in request.details.items() if k == "note"}
    if reason:
        kept["denial_reason" if to != State.cancelled else "withdrawal_reason"] = reason
    move(
        conn,
        request_id=request.id,
        current=request.state,
        to=to.value,
        actor=actor.label,
        note=note,
        decided_at=now,
        decided_by=actor.label,
        denial=denial,
        outcome=outcome or {},
        sealed=vault.seal_for(None, kept, SEAL_LABEL),
        contact_digest=None,
        token_expires_at=now + KEEP_AFTER_DECISION if request.token_hash is not None else None,
    )
    decided = get_or_raise(conn, vault=vault, request_id=request.id)
    if contact:
        _mail_outcome(conn, instance=instance, request=decided, contact=contact)
    if request.status_callback:
        jobs.enqueue(conn, kind="drp.callback", payload={"request_id": request.id, "state": to.value})
    vault.audit(
        conn,
        actor=actor,
        action=f"request:{to.value}",
        purpose=SUBJECT_RIGHTS,
        detail={"request": request.id, "right": request.kind, **({"denial": denial} if denial else {})},
    )


def outcome_lines(request: RightsRequest) -> list[str]:
    """The outcome in plain words, for the e-mail and the requester's page."""
    o = request.outcome
    state = request.state
    if state == State.denied:
        return [f"We could not carry out your {request.label} request.", request.details.get("denial_reason", "")]
    if state == State.cancelled:
        return [f"Your {request.label} request was withdrawn; nothing was changed."]
    if state == State.expired:
        return [f"Your {request.label} request expired before the e-mail address was confirmed."]
    lines: list[str] = []
    if request.kind == "erase":
        lines.append(f"We erased your data: {o.get('deleted', 0)} items were deleted.")
        if o.get("held"):
            lines.append(
                "Some data must be kept for a while under a legal or archival hold; it is used for nothing else:"
            )
            lines += [f"- {h['category']} ({h['field']}): {h['reason']}, until {h['ends_at'][:10]}" for h in o["held"]]
        else:
            lines.append("Nothing is kept, and the key that protected your data was destroyed.")
        if o.get("processors"):
            lines.append(f"We told the service providers that hold your data: {', '.join(o['processors'])}.")
    elif request.kind in ("access", "portability"):
        lines.append(f"Your copy of the data we hold about you is ready ({o.get('items', 0)} items).")
    elif request.kind == "rectify":
        lines.append(f"We corrected: {', '.join(o.get('changed', [])) or 'nothing (we hold none of those fields)'}.")
    elif request.kind == "object":
        lines.append(f"Your objection is recorded; we no longer use your data for: {', '.join(o.get('purposes', []))}.")
    elif request.kind == "deactivate":
        lines.append("Your account is deactivated: we do not process your data. Ask us to reactivate it at any time.")
    elif request.kind == "restrict":
        lines.append("Processing of your data is restricted: we keep it but do not use it.")
    elif request.kind == "reactivate":
        lines.append("Your account is active again.")
    return lines


def _mail_outcome(conn: Connection, *, instance, request: RightsRequest, contact: str) -> None:
    vault = instance.vault
    link = None
    if request.state == State.fulfilled and request.kind in ("access", "portability"):
        code = verification.issue_code(
            conn,
            key=vault.keystore.system_key(verification.TOKENS_KEY_NAME),
            request_id=request.id,
            ttl=verification.VIEW_CODE_TTL,
        )
        link = f"{instance.settings.base_url}/requests/{request.id}/verify?code={code}"
    verdicts = {
        State.fulfilled: "done",
        State.denied: "denied",
        State.cancelled: "withdrawn",
        State.expired: "expired",
    }
    outbox.queue(
        conn,
        vault=vault,
        template="request_outcome",
        kind="system",
        to_address=contact,
        context={
            "organization": vault.policy.organization.name,
            "right": request.label,
            "verdict": verdicts[State(request.state)],
            "lines": [line for line in outcome_lines(request) if line],
            "link": link,
            "request_id": request.id,
        },
    )


def processor_statuses(conn: Connection, *, request_id: str) -> list[dict]:
    return processors.statuses(conn, request_id=request_id)


def retry_processors(conn: Connection, *, request_id: str) -> int:
    """Queue failed processor deliveries of a request again; returns how many."""
    from vowkeep.store.tables import webhook_deliveries

    failed = list(
        conn.execute(
            select(webhook_deliveries.c.id).where(
                webhook_deliveries.c.request_id == request_id, webhook_deliveries.c.state == "failed"
            )
        ).scalars()
    )
    for delivery_id in failed:
        conn.execute(update(webhook_deliveries).where(webhook_deliveries.c.id == delivery_id).values(state="pending"))
        jobs.enqueue(
            conn, kind=processors.JOB_KIND, payload={"delivery_id": delivery_id}, max_attempts=processors.MAX_ATTEMPTS
        )
    return len(failed)


# --- results and housekeeping ---------------------------------------------------------------------------------------


def token_valid(request: RightsRequest, token: str | None) -> bool:
    """Whether `token` is this request's live request-scoped token (constant-time)."""
    if request.token_expires_at is None or request.token_expires_at <= clock.now():
        return False
    return verification.token_matches(token, request.token_hash)


def results(conn: Connection, *, vault, request: RightsRequest) -> list[dict]:
    """The sealed reports of a fulfilled access or portability request, one per subject still readable."""
    from vowkeep.vault.crypto import DecryptionError

    rows = conn.execute(
        select(request_subjects.c.subject_id, request_subjects.c.sealed_result)
        .where(request_subjects.c.request_id == request.id, request_subjects.c.sealed_result.is_not(None))
        .order_by(request_subjects.c.subject_id)
    ).all()
    out = []
    for row in rows:
        try:
            out.append(vault.unseal_for(row.subject_id, bytes(row.sealed_result), fulfilment.RESULT_LABEL))
        except DecryptionError:
            continue  # the subject was erased since: nothing of them is readable any more
    return out


def housekeeping(instance, job) -> None:
    """Periodic: expire requests never verified, and drop reports kept past their time (data minimisation)."""
    vault = instance.vault
    now = clock.now()
    with vault.transaction() as conn:
        stale = conn.execute(
            select(rights_requests).where(
                rights_requests.c.state.in_(["received", "verifying"]),
                rights_requests.c.received_at < now - VERIFY_WINDOW,
            )
        ).all()
        for row in stale:
            request = _load(conn, vault, row)
            move(
                conn,
                request_id=request.id,
                current=request.state,
                to="expired",
                actor=RIGHTS_ACTOR.label,
                note="the address was never confirmed",
                decided_at=now,
                decided_by=RIGHTS_ACTOR.label,
                sealed=vault.seal_for(None, {}, SEAL_LABEL),
                contact_digest=None,
            )
            if request.status_callback:
                jobs.enqueue(conn, kind="drp.callback", payload={"request_id": request.id, "state": "expired"})
        done = select(rights_requests.c.id).where(rights_requests.c.decided_at < now - KEEP_AFTER_DECISION)
        conn.execute(
            update(request_subjects)
            .where(request_subjects.c.request_id.in_(done), request_subjects.c.sealed_result.is_not(None))
            .values(sealed_result=None)
        )
        from vowkeep.rights import center

        center.forget_old(conn)
        jobs.complete(conn, job=job)
