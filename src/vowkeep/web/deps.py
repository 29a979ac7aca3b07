"""Request dependencies: the instance, and who is asking (API key, operator token, or console session)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Depends, Request

from vowkeep import clock
from vowkeep.instance import Instance
from vowkeep.vault import apikeys, operators
from vowkeep.vault.actors import Actor, ActorKind
from vowkeep.web.errors import ApiError


def get_instance(request: Request) -> Instance:
    return request.app.state.instance


@dataclass(frozen=True)
class Caller:
    """An authenticated caller: the actor the gate sees, and what it may do besides reading data."""

    actor: Actor
    permissions: frozenset[str]

    def require(self, permission: str) -> None:
        """Refuse unless the caller holds `permission` (operator role permission or API-key scope)."""
        if "*" in self.permissions or permission in self.permissions:
            return
        raise ApiError(403, "forbidden", f"this caller lacks the '{permission}' permission", rule="permission")


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def current_caller(request: Request, instance: Instance = Depends(get_instance)) -> Caller:
    """The caller of an API route; 401 without valid credentials (SEC-2)."""
    token = _bearer(request)
    if token is None:
        raise ApiError(401, "unauthenticated", "send `Authorization: Bearer <API key or operator token>`")
    with instance.engine.begin() as conn:
        if token.startswith("vk_"):
            key = apikeys.authenticate(conn, token=token)
            if key is None:
                raise ApiError(401, "unauthenticated", "the API key is unknown or revoked")
            # Recording every use would turn each read into a write; once a minute is enough to spot idle keys.
            if key.last_used_at is None or (clock.now() - key.last_used_at).total_seconds() > 60:
                apikeys.touch(conn, key=key)
            return Caller(key.actor, frozenset(key.scopes))
        session = operators.session_for(conn, token=token, kind="api")
    if session is None:
        raise ApiError(401, "unauthenticated", "the token is unknown or expired")
    return operator_caller(instance, session.operator)


def operator_caller(instance: Instance, operator: operators.Operator) -> Caller:
    role = instance.vault.policy.role_by_key.get(operator.role)
    permissions = frozenset(p.value for p in role.permissions) if role else frozenset()
    return Caller(operator.actor, permissions)


def is_operator(caller: Caller) -> bool:
    return caller.actor.kind == ActorKind.operator
