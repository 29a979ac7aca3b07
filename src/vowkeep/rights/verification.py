"""Identity verification (RIG-8): one-time codes mailed to the requester, and the request-scoped token that follows.

A code is six random digits. Only an HMAC of it is stored (under the instance's `tokens` key, bound to the
request), it expires after 15 minutes, and after five wrong tries it is spent. Comparison is constant-time.
The token a verified requester receives is 256 random bits; only its SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Connection, func, insert, select, update

from vowkeep import clock
from vowkeep.store.tables import request_verifications

CODE_TTL = timedelta(minutes=15)
# The code sent with a decision, to open a report later, lives as long as the report is kept.
VIEW_CODE_TTL = timedelta(days=7)
MAX_ATTEMPTS = 5
MAX_CODES_PER_REQUEST = 5
TOKEN_PREFIX = "vkr_"  # noqa: S105 — a prefix, not a secret
TOKENS_KEY_NAME = "tokens"


@dataclass(frozen=True)
class CodeCheck:
    ok: bool
    # why not: wrong | expired | exhausted | none
    problem: str | None = None
    attempts_left: int = 0


def _code_mac(key: bytes, request_id: str, code: str) -> bytes:
    return hmac.new(key, f"request-code|{request_id}|{code}".encode(), hashlib.sha256).digest()


def issue_code(conn: Connection, *, key: bytes, request_id: str, ttl: timedelta = CODE_TTL) -> str:
    """A new code for the request (earlier unused codes stop working); returns the code to mail."""
    now = clock.now()
    conn.execute(
        update(request_verifications)
        .where(request_verifications.c.request_id == request_id, request_verifications.c.used_at.is_(None))
        .values(used_at=now)
    )
    code = f"{secrets.randbelow(1_000_000):06d}"
    conn.execute(
        insert(request_verifications).values(
            request_id=request_id,
            code_hash=_code_mac(key, request_id, code),
            created_at=now,
            expires_at=now + ttl,
            attempts=0,
            max_attempts=MAX_ATTEMPTS,
        )
    )
    return code


def codes_issued(conn: Connection, *, request_id: str) -> int:
    return conn.execute(
        select(func.count()).select_from(request_verifications).where(request_verifications.c.request_id == request_id)
    ).scalar_one()


def check_code(conn: Connection, *, key: bytes, request_id: str, code: str) -> CodeCheck:
    """Try a code against the request's live one; counts the attempt whatever the outcome."""
    row = conn.execute(
        select(request_verifications)
        .where(request_verifications.c.request_id == request_id, request_verifications.c.used_at.is_(None))
        .order_by(request_verifications.c.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return CodeCheck(False, "none")
    now = clock.now()
    if row.expires_at <= now:
        return CodeCheck(False, "expired")
    attempts = row.attempts + 1
    candidate = str(code).strip()
    matches = hmac.compare_digest(_code_mac(key, request_id, candidate), bytes(row.code_hash))
    values = {"attempts": attempts}
    if matches or attempts >= row.max_attempts:
        values["used_at"] = now
    conn.execute(update(request_verifications).where(request_verifications.c.id == row.id).values(**values))
    if matches:
        return CodeCheck(True)
    left = row.max_attempts - attempts
    return CodeCheck(False, "wrong" if left > 0 else "exhausted", max(left, 0))


def new_token() -> tuple[str, bytes]:
    """A request-scoped token for the verified requester, and the hash to store."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def token_matches(token: str | None, stored: bytes | None) -> bool:
    """Constant-time comparison of a presented token with the stored hash."""
    if not token or stored is None or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return False
    return hmac.compare_digest(token_hash(token), bytes(stored))
