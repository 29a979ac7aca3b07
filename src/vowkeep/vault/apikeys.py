"""Scoped API keys for services (SEC-2): `vk_<prefix>_<secret>`, stored as SHA-256 of the secret.

The secret is 256 random bits, so a fast hash is as good as a slow one here, and keeps every API call cheap.
Scopes: `collect` or `collect:<point>`, `purpose:<key>` (read and rectify for that purpose), `consents`,
`requests`, `disclosures`, `reports`, `audit`, `tracking`, `holds`, `recipient:<aggregate-only recipient>` (its
reports, alone), or `*`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from vowkeep import clock
from vowkeep.policy.model import Policy
from vowkeep.store.tables import api_keys
from vowkeep.vault.actors import Actor, ActorKind

GENERAL_SCOPES = {"*", "collect", "consents", "requests", "disclosures", "reports", "audit", "tracking", "holds"}


class ApiKeyError(Exception):
    """A bad API-key command: unknown scope, unknown key…"""


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    prefix: str
    scopes: tuple[str, ...]
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    last_used_at: datetime | None

    @property
    def actor(self) -> Actor:
        return Actor(ActorKind.service, self.name, scopes=frozenset(self.scopes))


def check_scopes(policy: Policy, scopes: list[str]) -> list[str]:
    """Validate scopes against the declaration (purposes, collection points and recipients must exist).

    `recipient:<key>` binds a key to an aggregate-only recipient (an advertiser): it runs that recipient's reports
    and nothing else, so it may hold no other scope (SHR-3: no row-level access exists for such recipients).
    """
    for scope in scopes:
        kind, _, target = scope.partition(":")
        if scope in GENERAL_SCOPES:
            continue
        if kind == "purpose" and target in policy.purpose_by_key:
            continue
        if kind == "collect" and target in policy.collection_point_by_key:
            continue
        if kind == "recipient":
            recipient = policy.recipient_by_key.get(target)
            if recipient is None or recipient.aggregate_only is None:
                raise ApiKeyError(f"'{scope}': keys are bound only to declared aggregate-only recipients")
            if len(set(scopes)) > 1:
                raise ApiKeyError(f"a key bound to '{target}' runs its reports only: it may hold no other scope")
            continue
        raise ApiKeyError(
            f"unknown scope '{scope}': use one of {', '.join(sorted(GENERAL_SCOPES))}, "
            "purpose:<declared purpose>, collect:<declared collection point> or recipient:<aggregate-only recipient>"
        )
    return sorted(set(scopes))


def create(conn: Connection, *, policy: Policy, name: str, scopes: list[str], created_by: str) -> tuple[str, ApiKey]:
    """A new key; the full key string is returned once and never stored."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ApiKeyError("an API key's name is 1 to 100 characters")
    scopes = check_scopes(policy, scopes)
    if not scopes:
        raise ApiKeyError("an API key needs at least one scope")
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    key_id = uuid.uuid4().hex
    conn.execute(
        insert(api_keys).values(
            id=key_id,
            name=name,
            prefix=prefix,
            secret_hash=hashlib.sha256(secret.encode()).digest(),
            scopes=scopes,
            created_at=clock.now(),
            created_by=created_by,
        )
    )
    return f"vk_{prefix}_{secret}", get_or_raise(conn, prefix=prefix)


def authenticate(conn: Connection, *, token: str) -> ApiKey | None:
    """The live key matching `token`, compared in constant time; None for anything else."""
    parts = token.split("_", 2) if token.startswith("vk_") else []
    if len(parts) != 3 or len(token) > 200:
        return None
    row = conn.execute(select(api_keys).where(api_keys.c.prefix == parts[1])).first()
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(hashlib.sha256(parts[2].encode()).digest(), row.secret_hash):
        return None
    return _key(row)


def touch(conn: Connection, *, key: ApiKey) -> None:
    conn.execute(update(api_keys).where(api_keys.c.id == key.id).values(last_used_at=clock.now()))


def get_or_raise(conn: Connection, *, prefix: str) -> ApiKey:
    row = conn.execute(select(api_keys).where(api_keys.c.prefix == prefix)).first()
    if row is None:
        raise ApiKeyError(f"no API key with prefix '{prefix}'")
    return _key(row)


def list_all(conn: Connection) -> list[ApiKey]:
    return [_key(r) for r in conn.execute(select(api_keys).order_by(api_keys.c.created_at))]


def revoke(conn: Connection, *, prefix: str) -> ApiKey:
    key = get_or_raise(conn, prefix=prefix)
    if key.revoked_at is None:
        conn.execute(update(api_keys).where(api_keys.c.id == key.id).values(revoked_at=clock.now()))
    return get_or_raise(conn, prefix=prefix)


def _key(row) -> ApiKey:
    return ApiKey(
        row.id,
        row.name,
        row.prefix,
        tuple(row.scopes),
        row.created_at,
        row.created_by,
        row.revoked_at,
        row.last_used_at,
    )
