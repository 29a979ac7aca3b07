"""Erasures and objections reach the processors that hold the data (SHR-7): signed webhooks, retried until a 2xx.

Which processors: every recipient of kind `processor` that the disclosure register shows received the subject's
data, and every processor the declaration names for a purpose the subject's items were collected for and for one
of their categories (processors such as hosting or e-mail delivery receive data without a disclosure of their
own). An objection goes to the processors of the purposes objected to that receive one of the subject's
categories. A processor without a declared `webhook` is listed with the status `no_webhook`, so an operator sees
that it must be told by hand.

Each delivery is a JSON body signed with HMAC-SHA256 under the secret in the environment variable the declaration
names: `X-Vowkeep-Signature: v1=<hex>` over `<timestamp>.<body>`, with the timestamp in `X-Vowkeep-Timestamp`
(Unix seconds). A failed delivery is retried by the job queue with exponential backoff; the status of each
processor is kept on the delivery row and shown with the request. The body is sealed under the system key while it
waits and dropped once delivered.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Callable, Iterable

from sqlalchemy import Connection, insert, select, update

from vowkeep import clock
from vowkeep.policy.model import Policy, Recipient, RecipientKind
from vowkeep.policy.taxonomy import covers
from vowkeep.store import jobs
from vowkeep.store.tables import disclosure_subjects, disclosures, webhook_deliveries

JOB_KIND = "webhook.deliver"
MAX_ATTEMPTS = 20  # with backoff capped at an hour, about fifteen hours of trying before a delivery is marked failed
TIMEOUT_SECONDS = 10.0
SIGNATURE_HEADER = "X-Vowkeep-Signature"
TIMESTAMP_HEADER = "X-Vowkeep-Timestamp"
EVENT_HEADER = "X-Vowkeep-Event"
DELIVERY_HEADER = "X-Vowkeep-Delivery"
SEAL_LABEL = "webhook"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value for a body sent at `timestamp`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"v1={mac}"


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, now: float, tolerance: int = 300) -> bool:
    """What a processor does with a delivery: the signature matches and the timestamp is recent (no replays)."""
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs(now - sent) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, sent, body), signature or "")


def processors_holding(
    conn: Connection,
    policy: Policy,
    *,
    subject_id: str,
    items: Iterable[tuple[str, str]],
    for_purposes: set[str] | None = None,
) -> list[Recipient]:
    """The processors holding a subject's data; `items` are its (category, space-separated purposes) pairs.

    With `for_purposes` (an objection), only processors declared for one of those purposes.
    """
    items = list(items)
    released = {
        (row.recipient, row.purpose)
        for row in conn.execute(
            select(disclosures.c.recipient, disclosures.c.purpose)
            .join(disclosure_subjects, disclosure_subjects.c.disclosure_id == disclosures.c.id)
            .where(disclosure_subjects.c.subject_id == subject_id, disclosures.c.state == "released")
        )
    }
    found = []
    for recipient in policy.recipients:
        if recipient.kind != RecipientKind.processor or recipient.aggregate_only is not None:
            continue
        if for_purposes is None:
            by_register = any(r == recipient.key for r, _ in released)
            by_declaration = any(
                set(purposes.split()) & set(recipient.purposes)
                and any(covers(c, category) for c in recipient.categories)
                for category, purposes in items
            )
        else:
            wanted = for_purposes & set(recipient.purposes)
            by_register = any(r == recipient.key and p in wanted for r, p in released)
            by_declaration = bool(wanted) and any(
                any(covers(c, category) for c in recipient.categories) for category, _ in items
            )
        if by_register or by_declaration:
            found.append(recipient)
    return found


def queue(
    conn: Connection,
    *,
    vault,
    request_id: str | None,
    subject_id: str,
    event: str,
    recipients: list[Recipient],
    body_for: Callable[[Recipient], dict],
) -> list[int]:
    """Record one delivery per processor (in the caller's transaction) and queue the jobs that send them."""
    ids = []
    now = clock.now()
    for recipient in recipients:
        has_hook = recipient.webhook is not None
        sealed = vault.seal_for(None, body_for(recipient), SEAL_LABEL) if has_hook else None
        delivery_id = conn.execute(
            insert(webhook_deliveries).values(
                request_id=request_id,
                subject_id=subject_id,
                recipient=recipient.key,
                event=event,
                state="pending" if has_hook else "no_webhook",
                sealed_body=sealed,
                attempts=0,
                created_at=now,
            )
        ).inserted_primary_key[0]
        if has_hook:
            jobs.enqueue(conn, kind=JOB_KIND, payload={"delivery_id": delivery_id}, max_attempts=MAX_ATTEMPTS)
        ids.append(delivery_id)
    return ids


def statuses(conn: Connection, *, request_id: str) -> list[dict]:
    """Where each processor stands with a request's erasure or objection."""
    rows = conn.execute(
        select(webhook_deliveries)
        .where(webhook_deliveries.c.request_id == request_id)
        .order_by(webhook_deliveries.c.id)
    ).all()
    return [
        {
            "recipient": r.recipient,
            "subject_id": r.subject_id,
            "event": r.event,
            "state": r.state,
            "attempts": r.attempts,
            "last_status": r.last_status,
            "last_error": r.last_error,
            "last_attempt_at": r.last_attempt_at.isoformat() if r.last_attempt_at else None,
            "delivered_at": r.delivered_at.isoformat() if r.delivered_at else None,
        }
        for r in rows
    ]


def deliver(instance, job) -> None:
    """Worker handler for `webhook.deliver`: send one signed delivery; a non-2xx answer is retried with backoff."""
    import httpx

    delivery_id = job.payload["delivery_id"]
    with instance.engine.begin() as conn:
        row = conn.execute(select(webhook_deliveries).where(webhook_deliveries.c.id == delivery_id)).first()
        if row is None or row.state != "pending":
            jobs.complete(conn, job=job)
            return
    recipient = instance.vault.policy.recipient_by_key.get(row.recipient)
    if recipient is None or recipient.webhook is None:
        _record(instance, job, delivery_id, None, "the recipient no longer declares a webhook", final=True)
        return
    secret = os.environ.get(recipient.webhook.secret_env)
    if not secret:
        _record(instance, job, delivery_id, None, f"environment variable {recipient.webhook.secret_env} is not set")
        raise RuntimeError(f"webhook secret {recipient.webhook.secret_env} is not set")
    payload = instance.vault.unseal_for(None, row.sealed_body, SEAL_LABEL)
    now = clock.now()
    payload.update(delivery_id=delivery_id, attempt=job.attempts, sent_at=now.isoformat())
    body = json.dumps(payload, sort_keys=True).encode()
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(secret, timestamp, body),
        TIMESTAMP_HEADER: str(timestamp),
        EVENT_HEADER: row.event,
        DELIVERY_HEADER: str(delivery_id),
        "User-Agent": "vowkeep-webhooks",
    }
    try:
        response = httpx.post(recipient.webhook.url, content=body, headers=headers, timeout=TIMEOUT_SECONDS)
    except httpx.HTTPError as exc:
        _record(instance, job, delivery_id, None, f"could not reach the processor ({type(exc).__name__})")
        raise RuntimeError(f"webhook to {recipient.key} failed ({type(exc).__name__})") from None
    if 200 <= response.status_code < 300:
        with instance.engine.begin() as conn:
            conn.execute(
                update(webhook_deliveries)
                .where(webhook_deliveries.c.id == delivery_id)
                .values(
                    state="delivered",
                    sealed_body=None,
                    attempts=job.attempts,
                    last_status=response.status_code,
                    last_error=None,
                    last_attempt_at=now,
                    delivered_at=now,
                )
            )
            jobs.complete(conn, job=job)
        return
    _record(instance, job, delivery_id, response.status_code, f"the processor answered HTTP {response.status_code}")
    raise RuntimeError(f"webhook to {recipient.key} answered HTTP {response.status_code}")


def _record(instance, job, delivery_id: int, status: int | None, error: str, *, final: bool = False) -> None:
    """Note a failed attempt on the delivery; on the job's last attempt (or `final`) the delivery has failed."""
    last = final or job.attempts >= job.max_attempts
    with instance.engine.begin() as conn:
        conn.execute(
            update(webhook_deliveries)
            .where(webhook_deliveries.c.id == delivery_id)
            .values(
                state="failed" if last else "pending",
                attempts=job.attempts,
                last_status=status,
                last_error=error[:300],
                last_attempt_at=clock.now(),
            )
        )
        if final:
            jobs.complete(conn, job=job)
