"""Data Rights Protocol 1.0, the covered business's side (RIG-10).

Authorized agents are trusted one by one (`vowkeep drp trust AGENT_ID --verify-key …`), each with the Ed25519
verify key it signs with. Signed bodies are the 64-byte signature followed by the JSON, base64-encoded and sent as
`text/plain`. A message is accepted only in the order the protocol sets: it decodes, its signature verifies under
the agent's key, its `agent-id` is the agent's (the one in the path, or the one the bearer token was issued to),
its `business-id` is ours, the current time is after `issued-at` and before `expires-at` (both ISO 8601 with an
explicit offset). Anything else is a 403 and nothing is recorded. `POST /v1/agent/{id}` issues the pairwise bearer
token (only its SHA-256 is kept); the other calls present it. A request an agent files becomes an ordinary request
of channel `agent`: when the agent attests a verified e-mail address (`email_verified: true`) it goes straight to
review, otherwise the requester is sent a code like anyone else. Statuses are mapped from the workflow's states,
and an agent that gave a `status_callback` is sent each new status.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import Connection, insert, select, update

from vowkeep import clock
from vowkeep.policy.model import ConsentMode, RecipientKind
from vowkeep.rights import requests as rights_requests
from vowkeep.rights.errors import RequestError
from vowkeep.rights.states import State
from vowkeep.store import jobs
from vowkeep.store.tables import drp_agents, drp_settings
from vowkeep.vault.actors import Actor, ActorKind

log = logging.getLogger("vowkeep.drp")

VERSION = "1.0"
BUSINESS_ID_KEY = "business_id"
AGENT_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
BUSINESS_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
# Allowed difference between the agent's clock and ours when checking `issued-at`.
CLOCK_SKEW = timedelta(seconds=60)
MAX_BODY = 64 * 1024
# DRP exercises and the rights they ask for; `sale:opt_in` asks for consent, which a request cannot give.
EXERCISES = {
    "access": "access",
    "access:categories": "access",
    "access:specific": "access",
    "deletion": "erase",
    "sale:opt_out": "object",
}
DENIAL_REASONS = {"no_match", "insuf_verification", "claim_not_covered", "suspected_fraud", "too_many_requests"}


class DrpError(Exception):
    """A DRP call refused: `status` and a message in the protocol's error shape (`code`, `message`, `fatal`)."""

    def __init__(self, status: int, message: str, *, fatal: bool | None = None):
        super().__init__(message)
        self.status, self.message, self.fatal = status, message, fatal

    def body(self) -> dict:
        out = {"code": str(self.status), "message": self.message}
        if self.fatal is not None:
            out["fatal"] = self.fatal
        return out


def _forbidden(why: str) -> DrpError:
    log.warning("DRP call refused: %s", why)
    return DrpError(403, why)


# --- configuration ----------------------------------------------------------------------------------------------


def business_id(conn: Connection) -> str | None:
    return conn.execute(select(drp_settings.c.value).where(drp_settings.c.key == BUSINESS_ID_KEY)).scalar()


def set_business_id(conn: Connection, *, value: str) -> None:
    """Our identifier in the DRP network: agents put it in every message's `business-id`."""
    if not BUSINESS_ID.match(value or ""):
        raise RequestError("a business id is 1 to 64 letters, digits, `_`, `.` or `-`")
    now = clock.now()
    if business_id(conn) is None:
        conn.execute(insert(drp_settings).values(key=BUSINESS_ID_KEY, value=value, updated_at=now))
    else:
        conn.execute(
            update(drp_settings).where(drp_settings.c.key == BUSINESS_ID_KEY).values(value=value, updated_at=now)
        )


def _verify_key_bytes(text: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise RequestError("a verify key is the agent's 32-byte Ed25519 public key, base64-encoded")
    return raw


def trust(conn: Connection, *, agent_id: str, name: str, verify_key: str) -> None:
    """Trust an authorized agent (or replace its key); its earlier token stops working."""
    if not AGENT_ID.match(agent_id or ""):
        raise RequestError("an agent id is 1 to 64 letters, digits, `_`, `.` or `-`")
    if not (name or "").strip() or len(name) > 200:
        raise RequestError("an agent's name is 1 to 200 characters")
    key = base64.b64encode(_verify_key_bytes(verify_key)).decode()
    now = clock.now()
    values = dict(name=name.strip(), verify_key=key, token_hash=None, token_issued_at=None, revoked_at=None)
    if conn.execute(select(drp_agents.c.id).where(drp_agents.c.id == agent_id)).first():
        conn.execute(update(drp_agents).where(drp_agents.c.id == agent_id).values(**values))
    else:
        conn.execute(insert(drp_agents).values(id=agent_id, created_at=now, **values))


def distrust(conn: Connection, *, agent_id: str) -> None:
    """Stop trusting an agent: its key and token are refused from now on."""
    changed = conn.execute(
        update(drp_agents)
        .where(drp_agents.c.id == agent_id)
        .values(revoked_at=clock.now(), token_hash=None, token_issued_at=None)
    ).rowcount
    if not changed:
        raise RequestError(f"no agent '{agent_id}' is trusted")


def agents(conn: Connection) -> list[dict]:
    return [
        {
            "id": r.id,
            "name": r.name,
            "verify_key": r.verify_key,
            "token_issued_at": r.token_issued_at.isoformat() if r.token_issued_at else None,
            "revoked": r.revoked_at is not None,
        }
        for r in conn.execute(select(drp_agents).order_by(drp_agents.c.id))
    ]


def _agent(conn: Connection, agent_id: str):
    row = conn.execute(select(drp_agents).where(drp_agents.c.id == agent_id)).first()
    return row if row is not None and row.revoked_at is None else None


def agent_for_token(conn: Connection, token: str | None):
    """The live agent the bearer token was issued to, or None."""
    if not token or len(token) > 200:
        return None
    digest = hashlib.sha256(token.encode()).digest()
    row = conn.execute(select(drp_agents).where(drp_agents.c.token_hash == digest)).first()
    if row is None or row.revoked_at is not None or not hmac.compare_digest(bytes(row.token_hash), digest):
        return None
    return row


# --- signed messages --------------------------------------------------------------------------------------------


def open_signed(body: bytes, verify_key: str) -> dict:
    """The JSON object inside a signed, base64-encoded body; 403 if it does not decode or verify."""
    from nacl.exceptions import BadSignatureError
    from nacl.signing import VerifyKey

    if len(body) > MAX_BODY:
        raise _forbidden("the body is too large")
    try:
        raw = base64.b64decode(body.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise _forbidden("the body is not base64") from None
    try:
        message = VerifyKey(base64.b64decode(verify_key)).verify(raw)
    except (BadSignatureError, ValueError):
        raise _forbidden("the signature does not verify under the agent's key") from None
    try:
        parsed = json.loads(message)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _forbidden("the signed message is not JSON") from None
    if not isinstance(parsed, dict):
        raise _forbidden("the signed message is not a JSON object")
    return parsed


def _time(message: dict, name: str) -> datetime:
    value = message.get(name)
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise _forbidden(f"`{name}` must be an ISO 8601 time with an explicit offset, such as +00:00")
    return moment


def check_claims(conn: Connection, message: dict, *, agent_id: str) -> None:
    """The protocol's checks after the signature: who sent it, to whom, and when (403 on any failure)."""
    if message.get("agent-id") != agent_id:
        raise _forbidden("`agent-id` is not the agent this key or token belongs to")
    ours = business_id(conn)
    if ours is None or message.get("business-id") != ours:
        raise _forbidden("`business-id` is not this business")
    now = clock.now()
    if _time(message, "issued-at") > now + CLOCK_SKEW:
        raise _forbidden("`issued-at` is in the future")
    if _time(message, "expires-at") <= now:
        raise _forbidden("the message has expired")


def _require_agent_channel(policy) -> None:
    if "agent" not in [c.value for c in policy.rights.channels]:
        raise DrpError(404, "this business takes no requests from authorized agents")


# --- endpoints' work ----------------------------------------------------------------------------------------------


def pairwise_setup(conn: Connection, *, policy, agent_id: str, body: bytes) -> dict:
    """`POST /v1/agent/{id}`: verify the signed setup message and issue a new bearer token."""
    _require_agent_channel(policy)
    agent = _agent(conn, agent_id)
    if agent is None:
        raise _forbidden("the agent is not trusted")
    message = open_signed(body, agent.verify_key)
    check_claims(conn, message, agent_id=agent_id)
    token = secrets.token_urlsafe(48)
    conn.execute(
        update(drp_agents)
        .where(drp_agents.c.id == agent_id)
        .values(token_hash=hashlib.sha256(token.encode()).digest(), token_issued_at=clock.now())
    )
    return {"agent-id": agent_id, "token": token}


def agent_information(conn: Connection, *, policy, agent_id: str, token: str | None) -> dict:
    """`GET /v1/agent/{id}`: `{}` while the token is the agent's."""
    _require_agent_channel(policy)
    agent = agent_for_token(conn, token)
    if agent is None or agent.id != agent_id:
        raise _forbidden("the bearer token is not this agent's")
    return {}


def sale_purposes(policy) -> list[str]:
    """Consent-based purposes that sell or share data: an agent's `sale:opt_out` objects to all of them."""
    selling = set()
    for recipient in policy.recipients:
        if (
            recipient.kind in (RecipientKind.partner, RecipientKind.advertiser)
            or recipient.pays_for_data
            or recipient.own_promotions
        ):
            selling.update(recipient.purposes)
    for category in policy.cookie_categories:
        if category.advertising:
            selling.update(category.purposes)
    return sorted(
        p for p in selling if p in policy.purpose_by_key and policy.purpose_by_key[p].consent != ConsentMode.none
    )


def exercise(conn: Connection, *, instance, token: str | None, body: bytes) -> dict:
    """`POST /v1/data-rights-request`: validate, then file the request; returns its status."""
    policy = instance.vault.policy
    _require_agent_channel(policy)
    agent = agent_for_token(conn, token)
    if agent is None:
        raise _forbidden("the bearer token is unknown")
    message = open_signed(body, agent.verify_key)
    check_claims(conn, message, agent_id=agent.id)
    if message.get("drp.version") != VERSION:
        raise DrpError(400, f'this business speaks DRP {VERSION}; `drp.version` must be "{VERSION}"', fatal=True)
    action = message.get("exercise")
    kind = EXERCISES.get(action) if isinstance(action, str) else None
    if kind is None:
        raise DrpError(400, f"unsupported rights action; supported: {', '.join(supported(policy))}", fatal=True)
    if action not in supported(policy):
        raise DrpError(400, f"this business does not offer '{action}'", fatal=True)
    email = message.get("email")
    if not isinstance(email, str) or not email.strip():
        raise DrpError(400, "an `email` claim is needed to find the person's data and to verify them", fatal=True)
    callback = message.get("status_callback")
    if callback is not None and (
        not isinstance(callback, str) or len(callback) > 1000 or not re.match(r"^https?://[^\s]+$", callback)
    ):
        raise DrpError(400, "`status_callback` must be an http(s) URL", fatal=True)
    agent_request_id = message.get("agent-request-id")
    if agent_request_id is not None and (not isinstance(agent_request_id, str) or len(agent_request_id) > 200):
        raise DrpError(400, "`agent-request-id` must be a string of at most 200 characters", fatal=True)
    regime = message.get("regime")
    if regime is not None and (not isinstance(regime, str) or len(regime) > 32):
        raise DrpError(400, '`regime` must be a short string such as "ccpa"', fatal=True)
    try:
        filed = rights_requests.file(
            conn,
            instance=instance,
            kind=kind,
            email=email,
            channel="agent",
            actor=Actor(ActorKind.agent, agent.id),
            purposes=sale_purposes(policy) if kind == "object" else None,
            agent_id=agent.id,
            agent_request_id=agent_request_id,
            regime=regime,
            status_callback=callback,
            agent_verified=message.get("email_verified") is True,
        )
    except RequestError as exc:
        raise DrpError(429 if exc.status == 429 else 400, exc.message, fatal=exc.status != 429) from None
    return status(filed, base_url=instance.settings.base_url)


def supported(policy) -> list[str]:
    """The DRP exercises this declaration offers."""
    offered = rights_requests.offered(policy)
    out = [action for action, kind in EXERCISES.items() if kind in offered]
    if "object" in offered and not sale_purposes(policy):
        out.remove("sale:opt_out")
    return out


def _own_request(conn: Connection, *, instance, token: str | None, request_id: str):
    _require_agent_channel(instance.vault.policy)
    agent = agent_for_token(conn, token)
    if agent is None:
        raise _forbidden("the bearer token is unknown")
    try:
        request = rights_requests.get_or_raise(conn, vault=instance.vault, request_id=request_id)
    except RequestError:
        raise DrpError(404, "no such request") from None
    if request.agent_id != agent.id:
        raise _forbidden("the request is not this agent's")
    return agent, request


def request_status(conn: Connection, *, instance, token: str | None, request_id: str) -> dict:
    """`GET /v1/data-rights-request/{id}`: the status, to the agent that filed the request only."""
    _, request = _own_request(conn, instance=instance, token=token, request_id=request_id)
    return status(request, base_url=instance.settings.base_url)


def revoke(conn: Connection, *, instance, token: str | None, request_id: str, body: bytes) -> dict:
    """`DELETE /v1/data-rights-request/{id}`: a signed `{reason}`; the request is withdrawn (`revoked`)."""
    agent, request = _own_request(conn, instance=instance, token=token, request_id=request_id)
    message = open_signed(body, agent.verify_key)
    reason = message.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise DrpError(400, "`reason` must be a string")
    if request.state not in (State.received, State.verifying, State.in_review):
        raise DrpError(400, f"the request is already {status(request, base_url='')['status']}", fatal=False)
    cancelled = rights_requests.cancel(
        conn, instance=instance, request_id=request_id, actor=Actor(ActorKind.agent, agent.id), reason=reason
    )
    return status(cancelled, base_url=instance.settings.base_url)


def status(request, *, base_url: str) -> dict:
    """The Exercise Status object of a request (DRP 1.0 §3.03); times carry an explicit `+00:00` offset."""
    mapped = {
        State.received: ("open", None),
        State.verifying: ("in_progress", "need_user_verification"),
        State.in_review: ("in_progress", None),
        State.fulfilled: ("fulfilled", None),
        State.denied: ("denied", request.denial if request.denial in DENIAL_REASONS else "other"),
        State.cancelled: ("revoked", None),
        State.expired: ("expired", None),
    }
    state, reason = mapped[State(request.state)]
    out: dict = {
        "request_id": request.id,
        "received_at": request.received_at.isoformat(),
        "expected_by": request.due_at.isoformat(),
        "status": state,
    }
    if request.agent_request_id:
        out["agent_request_id"] = request.agent_request_id
    if reason:
        out["reason"] = reason
    if request.state == State.verifying:
        out["user_verification_url"] = f"{base_url}/requests/{request.id}/verify"
    if request.state == State.fulfilled:
        out["processing_details"] = " ".join(rights_requests.outcome_lines(request))[:1000]
        if request.kind in ("access", "portability"):
            out["results_url"] = f"{base_url}/requests/{request.id}"
        out["expires_at"] = (request.decided_at + rights_requests.KEEP_AFTER_DECISION).isoformat()
    elif request.state == State.denied and request.details.get("denial_reason"):
        out["processing_details"] = request.details["denial_reason"][:1000]
    return out


def callback_refusal(url: str) -> str | None:
    """Why a status callback must not be sent to `url`, or None.

    The URL comes from an agent, so the server would POST wherever it says: callbacks to loopback, private,
    link-local or reserved addresses are refused (no reaching internal services), unless the operator allows them
    with `VOWKEEP_DRP_PRIVATE_CALLBACKS=allow` (an agent on the same network).
    """
    import ipaddress
    import os
    import socket
    from urllib.parse import urlsplit

    if os.environ.get("VOWKEEP_DRP_PRIVATE_CALLBACKS") == "allow":
        return None
    host = urlsplit(url).hostname
    if not host:
        return "the URL names no host"
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return "its host does not resolve"
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast:
            return "its host is on a private or local network"
    return None


def send_callback(instance, job) -> None:
    """Worker handler for `drp.callback`: POST the request's current status to the agent's callback URL."""
    import httpx

    with instance.engine.begin() as conn:
        request = rights_requests.get_or_raise(conn, vault=instance.vault, request_id=job.payload["request_id"])
    if not request.status_callback:
        with instance.engine.begin() as conn:
            jobs.complete(conn, job=job)
        return
    body = status(request, base_url=instance.settings.base_url)
    refusal = callback_refusal(request.status_callback)
    if refusal is not None:
        from vowkeep.worker import PermanentFailure

        raise PermanentFailure(f"status callback not sent: {refusal}")
    try:
        # No redirects: a redirect could lead the request to an address the check above would refuse.
        response = httpx.post(request.status_callback, json=body, timeout=10.0, follow_redirects=False)
    except httpx.HTTPError as exc:
        raise RuntimeError(f"status callback failed ({type(exc).__name__})") from None
    if not 200 <= response.status_code < 300:
        raise RuntimeError(f"status callback answered HTTP {response.status_code}")
    with instance.engine.begin() as conn:
        jobs.complete(conn, job=job)
