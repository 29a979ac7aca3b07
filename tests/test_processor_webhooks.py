"""SHR-7: erasures and objections reach the processors that hold the data — signed webhooks (HMAC-SHA256 over the
timestamp and body), retried with backoff until a 2xx, the status of each processor visible on the request.
The processor here is a real local HTTP server that fails before it succeeds."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.support.api import REGISTRATION, operator_headers, register
from tests.support.receiver import http_receiver
from tests.support.rights import auth, deliver, filed_and_verified, mailbox, write_declaration
from vowkeep import clock
from vowkeep.sharing import processors
from vowkeep.store.tables import jobs, webhook_deliveries

pytestmark = pytest.mark.postgres
EMAIL = REGISTRATION["email"]
SECRET = "whsec-email-delivery-0123456789"


@pytest.fixture
def receiver():
    with http_receiver([500, 503, 200]) as running:
        yield running


@pytest.fixture
def sample_policy_path(tmp_path, receiver, monkeypatch):
    """The sample declaration, with a webhook for the e-mail delivery processor (hosting declares none)."""
    monkeypatch.setenv("VK_TEST_HOOK_SECRET", SECRET)
    return write_declaration(tmp_path, webhooks={"email_delivery": (f"{receiver.url}/vowkeep", "VK_TEST_HOOK_SECRET")})


def _processors(client, instance, request_id):
    reviewer = operator_headers(client, instance, "privacy_officer", f"rev-{uuid.uuid4().hex[:8]}")
    return {
        p["recipient"]: p for p in client.get(f"/api/v1/requests/{request_id}", headers=reviewer).json()["processors"]
    }


def test_shr7_erasure_is_forwarded_signed_and_retried_until_acknowledged(client, instance, receiver):
    """SHR-7: the erasure goes to every processor holding the subject's data; the webhook fails twice, is retried
    with backoff, and is delivered; its signature verifies with the processor's secret; the status shows per
    processor; a processor without a webhook is listed so an operator can tell it by hand."""
    subject_id = register(client)
    reviewer = operator_headers(client, instance, "privacy_officer", "olga")
    with mailbox(instance) as inbox:
        request_id, token = filed_and_verified(client, instance, inbox, "erase", EMAIL)
        done = client.post(f"/api/v1/requests/{request_id}/approve", headers=reviewer).json()
        assert done["outcome"]["processors"] == ["email_delivery", "hosting"]
        deliver(instance)  # the outcome mail goes; the webhook's first try meets a 500
        first = _processors(client, instance, request_id)
        assert first["email_delivery"]["state"] == "pending"
        assert (first["email_delivery"]["attempts"], first["email_delivery"]["last_status"]) == (1, 500)
        assert first["hosting"]["state"] == "no_webhook"
        for _ in range(2):
            with instance.engine.connect() as conn:
                due = conn.execute(select(jobs.c.run_at).where(jobs.c.kind == "webhook.deliver")).scalar()
            assert due > clock.now()  # backoff: not again at once
            assert deliver(instance) == 0
            clock.travel_to(due + timedelta(seconds=1))
            deliver(instance)
    assert [r.path for r in receiver.received] == ["/vowkeep"] * 3
    final = _processors(client, instance, request_id)["email_delivery"]
    assert final["state"] == "delivered" and final["attempts"] == 3 and final["last_status"] == 200
    # The requester sees it too.
    mine = client.get(f"/api/v1/requests/{request_id}", headers=auth(token)).json()
    assert {p["recipient"]: p["state"] for p in mine["processors"]} == {
        "email_delivery": "delivered",
        "hosting": "no_webhook",
    }

    delivered = receiver.received[-1]
    signature = delivered.headers["x-vowkeep-signature"]
    timestamp = delivered.headers["x-vowkeep-timestamp"]
    now = clock.now().timestamp()
    assert processors.verify(SECRET, timestamp, delivered.body, signature, now=now)
    assert not processors.verify("another secret", timestamp, delivered.body, signature, now=now)
    assert not processors.verify(SECRET, timestamp, delivered.body + b" ", signature, now=now)
    assert not processors.verify(SECRET, timestamp, delivered.body, signature, now=now + 3600)  # a replay
    body = json.loads(delivered.body)
    assert body["event"] == "erasure" and delivered.headers["x-vowkeep-event"] == "erasure"
    assert body["subject_id"] == subject_id and body["request_id"] == request_id
    assert body["identifiers"] == {"email": EMAIL}  # the processor was declared to receive the address
    assert body["categories"] == ["user.contact.email", "user.name.first"]
    assert body["attempt"] == 3 and body["sent_at"].endswith("+00:00")
    with instance.engine.connect() as conn:
        rows = conn.execute(select(webhook_deliveries)).all()
    assert all(r.sealed_body is None for r in rows)  # nothing personal is kept once delivered


def test_shr7_an_objection_is_forwarded_to_the_processors_of_that_purpose(client, instance, receiver):
    """SHR-7: an objection to marketing goes to the processors declared for marketing (e-mail delivery), not to
    the others."""
    receiver.statuses[:] = [204]
    register(client)
    reviewer = operator_headers(client, instance, "privacy_officer", "olga")
    with mailbox(instance) as inbox:
        request_id, _ = filed_and_verified(client, instance, inbox, "object", EMAIL, purposes=["marketing"])
        done = client.post(f"/api/v1/requests/{request_id}/approve", headers=reviewer).json()
        assert done["outcome"]["processors"] == ["email_delivery"]
        deliver(instance)
    [delivered] = receiver.received
    body = json.loads(delivered.body)
    assert body["event"] == "objection" and body["purposes"] == ["marketing"]
    assert _processors(client, instance, request_id)["email_delivery"]["state"] == "delivered"


def test_shr7_a_delivery_that_keeps_failing_is_marked_failed_and_can_be_retried(client, instance, receiver):
    """SHR-7: when every retry fails the delivery is `failed` (visible), and an operator can queue it again."""
    receiver.statuses[:] = [500]
    register(client)
    reviewer = operator_headers(client, instance, "privacy_officer", "olga")
    with mailbox(instance) as inbox:
        request_id, _ = filed_and_verified(client, instance, inbox, "erase", EMAIL)
        client.post(f"/api/v1/requests/{request_id}/approve", headers=reviewer)
        for _ in range(processors.MAX_ATTEMPTS + 1):
            deliver(instance)
            clock.travel_to(clock.now() + timedelta(hours=2))
    reviewer = operator_headers(client, instance, "privacy_officer", "olga2")  # signed in after the time travel
    status = _processors(client, instance, request_id)["email_delivery"]
    assert status["state"] == "failed" and status["attempts"] == processors.MAX_ATTEMPTS
    assert len(receiver.received) == processors.MAX_ATTEMPTS
    receiver.statuses[:] = [200]
    retried = client.post(f"/api/v1/requests/{request_id}/processors/retry", headers=reviewer)
    assert retried.status_code == 200 and retried.json()["requeued"] == 1
    deliver(instance)
    assert _processors(client, instance, request_id)["email_delivery"]["state"] == "delivered"
