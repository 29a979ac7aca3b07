"""Signing in to the privacy centre (RIG-8): a one-time code mailed to an address, then a short session.

Anyone may ask for a code for any address, and the answer is the same whether or not the address is known: a code
is always mailed and nothing is matched before it comes back. Only an HMAC of the code is stored (under the
instance's `tokens` key, bound to the sign-in), it expires after 15 minutes, is compared in constant time, and five
wrong tries spend it. A good code starts a session: 256 random bits in the browser's cookie, only their SHA-256
here, ending after 30 minutes or at sign-out. The address is sealed under the system key, matched to subjects
through the blind index, and every sign-in is audited.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, func, insert, or_, select, update

from vowkeep import clock
from vowkeep.comms import outbox
from vowkeep.rights import RIGHTS_ACTOR, verification
from vowkeep.rights import requests as rights_requests_service
from vowkeep.rights.errors import TooManyRequests
from vowkeep.store.tables import center_sessions, request_subjects, rights_requests
from vowkeep.vault import blind
from vowkeep.vault.actors import Actor
from vowkeep.vault.decisions import SUBJECT_RIGHTS

CODE_TTL = timedelta(minutes=15)
SESSION_TTL = timedelta(minutes=30)
MAX_ATTEMPTS = 5
# Sign-ins are kept a day (for the hourly limit), then forgotten.
KEEP = timedelta(days=1)
# Codes mailed to one address in an hour, known or not (so the limit says nothing about the address either).
MAX_CODES_PER_HOUR = 5
SEAL_LABEL = "center"
TOKEN_PREFIX = "vkc_"  # noqa: S105 — a prefix, not a secret
EMAIL = "user.contact.email"


@dataclass
class CenterSession:
    id: str
    email: str
    subject_ids: list[str]
    verified_at: datetime
    expires_at: datetime


@dataclass
class SignIn:
    ok: bool
    # why not: wrong | expired | exhausted | none
    problem: str | None = None
    attempts_left: int = 0
    token: str | None = None
    subject_ids: list[str] = field(default_factory=list)


def _digest(vault, address: str) -> bytes:
    return blind.digest(vault.keystore.system_key(blind.INDEX_KEY_NAME), "email", address)


def _code_mac(key: bytes, signin_id: str, code: str) -> bytes:
    return hmac.new(key, f"center-code|{signin_id}|{code}".encode(), hashlib.sha256).digest()


def _token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def start(conn: Connection, *, instance, email: str) -> str:
    """Mail a sign-in code to `email` (known or not); returns the sign-in's id for the code form.

    Raises RequestError for an address that is not one, TooManyRequests past the hourly limit.
    """
    vault = instance.vault
    contact = rights_requests_service.normalise_email(email)
    digest = _digest(vault, contact)
    now = clock.now()
    recent = conn.execute(
        select(func.count())
        .select_from(center_sessions)
        .where(center_sessions.c.contact_digest == digest, center_sessions.c.created_at > now - timedelta(hours=1))
    ).scalar_one()
    if recent >= MAX_CODES_PER_HOUR:
        raise TooManyRequests("too many codes were sent to this address in the last hour; please wait a while")
    signin_id = uuid.uuid4().hex
    code = f"{secrets.randbelow(1_000_000):06d}"
    key = vault.keystore.system_key(verification.TOKENS_KEY_NAME)
    conn.execute(
        insert(center_sessions).values(
            id=signin_id,
            contact_digest=digest,
            sealed=vault.seal_for(None, {"contact": contact}, SEAL_LABEL),
            code_hash=_code_mac(key, signin_id, code),
            code_expires_at=now + CODE_TTL,
            attempts=0,
            created_at=now,
            subject_ids=[],
        )
    )
    outbox.queue(
        conn,
        vault=vault,
        template="center_code",
        kind="system",
        to_address=contact,
        context={
            "organization": vault.policy.organization.name,
            "code": code,
            "minutes": int(CODE_TTL.total_seconds() // 60),
            "link": f"{instance.settings.base_url}/center/code/{signin_id}",
        },
    )
    vault.audit(conn, actor=Actor.system("center"), action="center:code", purpose=SUBJECT_RIGHTS, detail={})
    return signin_id


def pending_or_none(conn: Connection, *, signin_id: str):
    """The sign-in waiting for its code, or None (unknown, used, spent)."""
    if not isinstance(signin_id, str) or len(signin_id) != 32:
        return None
    return conn.execute(
        select(center_sessions.c.id, center_sessions.c.code_expires_at).where(
            center_sessions.c.id == signin_id,
            center_sessions.c.verified_at.is_(None),
            center_sessions.c.ended_at.is_(None),
        )
    ).first()


def verify(conn: Connection, *, instance, signin_id: str, code: str) -> SignIn:
    """Check a sign-in code; a good one starts a session. Counts the attempt whatever happens, so commit."""
    vault = instance.vault
    row = conn.execute(select(center_sessions).where(center_sessions.c.id == signin_id)).first()
    if row is None or row.verified_at is not None or row.ended_at is not None:
        return SignIn(False, "none")
    now = clock.now()
    if row.code_expires_at <= now:
        return SignIn(False, "expired")
    attempts = row.attempts + 1
    candidate = str(code or "").strip()[:12]
    key = vault.keystore.system_key(verification.TOKENS_KEY_NAME)
    matches = hmac.compare_digest(_code_mac(key, signin_id, candidate), bytes(row.code_hash))
    if not matches:
        spent = attempts >= MAX_ATTEMPTS
        values = {"attempts": attempts, **({"ended_at": now} if spent else {})}
        conn.execute(update(center_sessions).where(center_sessions.c.id == signin_id).values(**values))
        vault.audit(
            conn,
            actor=Actor.system("center"),
            action="center:sign-in",
            purpose=SUBJECT_RIGHTS,
            detail={"result": "wrong code", "attempts": attempts},
        )
        return SignIn(False, "exhausted" if spent else "wrong", max(MAX_ATTEMPTS - attempts, 0))
    contact = vault.unseal_for(None, bytes(row.sealed), SEAL_LABEL)["contact"]
    found = vault.find_subjects(conn, actor=RIGHTS_ACTOR, purpose=SUBJECT_RIGHTS, category=EMAIL, value=contact)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    conn.execute(
        update(center_sessions)
        .where(center_sessions.c.id == signin_id)
        .values(
            attempts=attempts,
            verified_at=now,
            subject_ids=sorted(found),
            token_hash=_token_hash(token),
            expires_at=now + SESSION_TTL,
        )
    )
    for subject_id in found or [None]:
        vault.audit(
            conn,
            actor=Actor.subject(subject_id) if subject_id else Actor.system("center"),
            action="center:sign-in",
            purpose=SUBJECT_RIGHTS,
            subject_id=subject_id,
            detail={"result": "signed in", "session": signin_id, "matches": len(found)},
        )
    return SignIn(True, token=token, subject_ids=sorted(found))


def session_or_none(conn: Connection, *, vault, token: str | None) -> CenterSession | None:
    """The live session `token` opens, or None."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = conn.execute(
        select(center_sessions).where(
            center_sessions.c.token_hash == _token_hash(token),
            center_sessions.c.ended_at.is_(None),
            center_sessions.c.expires_at > clock.now(),
        )
    ).first()
    # The index finds the row; comparing the hashes again in constant time costs nothing.
    if row is None or not hmac.compare_digest(bytes(row.token_hash), _token_hash(token)):
        return None
    contact = vault.unseal_for(None, bytes(row.sealed), SEAL_LABEL)["contact"]
    return CenterSession(row.id, contact, list(row.subject_ids or []), row.verified_at, row.expires_at)


def end(conn: Connection, *, vault, session: CenterSession) -> None:
    """Sign out: the session stops working at once."""
    conn.execute(update(center_sessions).where(center_sessions.c.id == session.id).values(ended_at=clock.now()))
    for subject_id in session.subject_ids or [None]:
        vault.audit(
            conn,
            actor=Actor.subject(subject_id) if subject_id else Actor.system("center"),
            action="center:sign-out",
            purpose=SUBJECT_RIGHTS,
            subject_id=subject_id,
            detail={"session": session.id},
        )


def change_address(conn: Connection, *, vault, session: CenterSession, email: str) -> None:
    """The person corrected their address: the session follows it, so later requests match them by it."""
    contact = rights_requests_service.normalise_email(email)
    conn.execute(
        update(center_sessions)
        .where(center_sessions.c.id == session.id)
        .values(sealed=vault.seal_for(None, {"contact": contact}, SEAL_LABEL), contact_digest=_digest(vault, contact))
    )
    session.email = contact


def requests_of(conn: Connection, *, vault, session: CenterSession) -> list[rights_requests_service.RightsRequest]:
    """The person's requests: those matched to their subjects, and open ones filed from their address."""
    digest = _digest(vault, session.email)
    matched = select(request_subjects.c.request_id).where(request_subjects.c.subject_id.in_(session.subject_ids))
    ids = conn.execute(
        select(rights_requests.c.id)
        .where(or_(rights_requests.c.id.in_(matched), rights_requests.c.contact_digest == digest))
        .order_by(rights_requests.c.received_at.desc())
        .limit(50)
    ).scalars()
    return [rights_requests_service.get_or_raise(conn, vault=vault, request_id=i) for i in ids]


def forget_old(conn: Connection) -> int:
    """Delete sign-ins older than a day (their sessions ended long ago): the sealed address goes with them."""
    return conn.execute(delete(center_sessions).where(center_sessions.c.created_at < clock.now() - KEEP)).rowcount
