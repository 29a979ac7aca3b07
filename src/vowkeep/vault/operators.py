"""Operators: people who sign in to the console with a role from the declaration (SEC-2, USE-5).

Passwords are argon2id hashes; sign-in costs the same whether or not the name exists, so timing does not tell
which names are real. Sessions are random tokens stored only as SHA-256 hashes, each with its own CSRF secret.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, insert, select, update

from vowkeep import clock
from vowkeep.policy.model import Policy
from vowkeep.store.tables import operator_sessions, operators
from vowkeep.vault.actors import Actor, ActorKind
from vowkeep.vault.intake import hash_password, verify_password

SESSION_TTL = {"page": timedelta(hours=8), "api": timedelta(hours=12)}
_DUMMY_HASH = None


class OperatorError(Exception):
    """A bad operator command: unknown role, duplicate name, unknown operator…"""


@dataclass(frozen=True)
class Operator:
    id: str
    username: str
    role: str
    disabled: bool
    created_at: datetime
    last_login_at: datetime | None

    @property
    def actor(self) -> Actor:
        return Actor(ActorKind.operator, self.username, role=self.role)


@dataclass(frozen=True)
class Session:
    operator: Operator
    csrf_secret: str
    expires_at: datetime
    kind: str


def add(conn: Connection, *, policy: Policy, username: str, role: str, password: str | None = None):
    """Create an operator; returns (operator, password) — a generated one if none was given."""
    username = username.strip()
    if not username or len(username) > 100 or any(ch.isspace() for ch in username):
        raise OperatorError("a username is 1 to 100 characters without spaces")
    if role not in policy.role_by_key:
        roles = ", ".join(policy.role_by_key) or "none"
        raise OperatorError(f"role '{role}' is not declared (declared roles: {roles})")
    if conn.execute(select(operators.c.id).where(operators.c.username == username)).first():
        raise OperatorError(f"an operator named '{username}' already exists")
    password = password or secrets.token_urlsafe(15)
    if len(password) < 12:
        raise OperatorError("an operator password is at least 12 characters")
    operator_id = uuid.uuid4().hex
    now = clock.now()
    conn.execute(
        insert(operators).values(
            id=operator_id,
            username=username,
            password_hash=hash_password(password),
            role=role,
            disabled=False,
            created_at=now,
        )
    )
    return get_or_raise(conn, username=username), password


def get(conn: Connection, *, username: str) -> Operator | None:
    row = conn.execute(select(operators).where(operators.c.username == username)).first()
    return _operator(row) if row else None


def get_or_raise(conn: Connection, *, username: str) -> Operator:
    operator = get(conn, username=username)
    if operator is None:
        raise OperatorError(f"no operator named '{username}'")
    return operator


def list_all(conn: Connection) -> list[Operator]:
    return [_operator(r) for r in conn.execute(select(operators).order_by(operators.c.username))]


def disable(conn: Connection, *, username: str) -> Operator:
    """Disable an operator and end every session of theirs."""
    operator = get_or_raise(conn, username=username)
    conn.execute(update(operators).where(operators.c.id == operator.id).values(disabled=True))
    conn.execute(delete(operator_sessions).where(operator_sessions.c.operator_id == operator.id))
    return get_or_raise(conn, username=username)


def authenticate(conn: Connection, *, username: str, password: str) -> Operator | None:
    """The operator if the name and password match and the account is enabled; None otherwise."""
    global _DUMMY_HASH
    row = conn.execute(select(operators).where(operators.c.username == username)).first()
    if row is None:
        # Spend the same time as a real check so response times do not reveal which names exist.
        _DUMMY_HASH = _DUMMY_HASH or hash_password(secrets.token_urlsafe(16))
        verify_password(_DUMMY_HASH, password)
        return None
    if not verify_password(row.password_hash, password) or row.disabled:
        return None
    conn.execute(update(operators).where(operators.c.id == row.id).values(last_login_at=clock.now()))
    return _operator(row)


def _token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def start_session(conn: Connection, *, operator: Operator, kind: str = "page") -> tuple[str, Session]:
    """A new session token (shown once) and its session."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    session = Session(operator, secrets.token_urlsafe(32), now + SESSION_TTL[kind], kind)
    conn.execute(
        insert(operator_sessions).values(
            token_hash=_token_hash(token),
            operator_id=operator.id,
            csrf_secret=session.csrf_secret,
            created_at=now,
            expires_at=session.expires_at,
            kind=kind,
        )
    )
    return token, session


def session_for(conn: Connection, *, token: str, kind: str) -> Session | None:
    """The live session of an enabled operator for this token, or None.

    The lookup is by SHA-256 of the token, so comparing in the database leaks nothing usable about the token.
    """
    if not token or len(token) > 200:
        return None
    row = conn.execute(
        select(operator_sessions, operators)
        .join(operators, operators.c.id == operator_sessions.c.operator_id)
        .where(operator_sessions.c.token_hash == _token_hash(token), operator_sessions.c.kind == kind)
    ).first()
    if row is None or row.disabled or row.expires_at <= clock.now():
        return None
    return Session(_operator(row), row.csrf_secret, row.expires_at, row.kind)


def end_session(conn: Connection, *, token: str) -> None:
    conn.execute(delete(operator_sessions).where(operator_sessions.c.token_hash == _token_hash(token)))


def _operator(row) -> Operator:
    return Operator(row.id, row.username, row.role, row.disabled, row.created_at, row.last_login_at)
