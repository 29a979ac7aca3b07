"""The suppression list (RIG-5, RIG-6): addresses that must get no marketing (or no non-essential mail) ever again.

Entries are blind-index digests of the address, not tied to any subject: they survive the erasure of the person
who opted out, and the database never holds the address itself.
"""

from __future__ import annotations

from sqlalchemy import Connection, insert, select

from vowkeep import clock
from vowkeep.store.tables import suppression
from vowkeep.vault import blind

SCOPES = ("marketing", "all_non_essential")


def _digest(vault, address: str) -> bytes:
    return blind.digest(vault.keystore.system_key(blind.INDEX_KEY_NAME), "email", address)


def suppress(conn: Connection, *, vault, address: str, scope: str = "marketing", method: str = "unsubscribe") -> bool:
    """Add an address; True if it was not already suppressed for `scope`."""
    if scope not in SCOPES:
        raise ValueError(f"scope is one of {', '.join(SCOPES)}")
    digest = _digest(vault, address)
    exists = conn.execute(
        select(suppression.c.kind).where(
            suppression.c.kind == "email", suppression.c.digest == digest, suppression.c.scope == scope
        )
    ).first()
    if exists:
        return False
    conn.execute(
        insert(suppression).values(kind="email", digest=digest, scope=scope, created_at=clock.now(), method=method)
    )
    return True


def is_suppressed(conn: Connection, *, vault, address: str, kind: str) -> bool:
    """Whether a message of `kind` (marketing or service) must not go to `address`.

    Marketing stops at either scope; service messages needed to run an account are never suppressed (USE-4).
    """
    if kind == "service" or kind == "system":
        return False
    digest = _digest(vault, address)
    return (
        conn.execute(
            select(suppression.c.scope).where(suppression.c.kind == "email", suppression.c.digest == digest)
        ).first()
        is not None
    )
