"""Data-subject requests over HTTP with a real SMTP server: filing, identity verification by code (RIG-8), the
review queue with due dates and the outcome mail (RIG-9), the channels (RIG-10)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.support.api import REGISTRATION, operator_headers, register, service_headers
from tests.support.rights import (
    auth,
    deliver,
    file_request,
    filed_and_verified,
    last_code,
    mailbox,
    mails_to,
    outcome_mail,
    verify,
)
from vowkeep import clock
from vowkeep.store.tables import request_subjects, request_verifications, rights_requests

pytestmark = pytest.mark.postgres
EMAIL = REGISTRATION["email"]


def _raw_rows(instance, table):
    with instance.engine.connect() as conn:
        return conn.execute(select(table)).all()


def test_rig8_nothing_happens_before_the_mailed_code_comes_back(client, instance):
    """RIG-8: a request is confirmed by a one-time code sent by e-mail; until then it matches no one and nothing is
    fulfilled; the code and the address are never stored in the clear."""
    register(client)
    with mailbox(instance) as inbox:
        filed = file_request(client, "access", EMAIL)
        assert filed["state"] == "verifying"
        assert deliver(instance) >= 1
        [mail] = mails_to(inbox, EMAIL)
        code = last_code(inbox, EMAIL)
        assert f"/requests/{filed['id']}/verify?code={code}" in mail.get_content()
    [row] = _raw_rows(instance, rights_requests)
    assert EMAIL.encode() not in bytes(row.sealed) and row.contact_digest is not None
    [stored] = _raw_rows(instance, request_verifications)
    assert code.encode() not in bytes(stored.code_hash) and len(stored.code_hash) == 32
    assert _raw_rows(instance, request_subjects) == []  # not matched to anyone yet

    assert client.get(f"/api/v1/requests/{filed['id']}").status_code == 401
    wrong = client.post(f"/api/v1/requests/{filed['id']}/verify", json={"code": "000000" if code != "000000" else "1"})
    assert wrong.status_code == 400
    assert wrong.json()["problem"] == "wrong" and wrong.json()["attempts_left"] == 4

    token = verify(client, filed["id"], code)
    seen = client.get(f"/api/v1/requests/{filed['id']}", headers=auth(token)).json()
    assert seen["state"] == "in_review"  # the sample declaration reviews case by case
    [matched] = _raw_rows(instance, request_subjects)
    assert matched.sealed_result is None  # verified, but nothing fulfilled before an operator approves
    # The code is spent.
    again = client.post(f"/api/v1/requests/{filed['id']}/verify", json={"code": code})
    assert again.status_code == 400


def test_rig8_codes_expire_and_five_wrong_tries_close_the_request(client, instance):
    """RIG-8: a code expires after 15 minutes (a new one can be sent); five wrong codes deny the request and the
    requester is told."""
    register(client)
    with mailbox(instance) as inbox:
        filed = file_request(client, "erase", EMAIL)
        deliver(instance)
        first = last_code(inbox, EMAIL)
        clock.travel_to(clock.now() + timedelta(minutes=16))
        late = client.post(f"/api/v1/requests/{filed['id']}/verify", json={"code": first})
        assert late.status_code == 400 and late.json()["problem"] == "expired"
        assert client.post(f"/api/v1/requests/{filed['id']}/resend").status_code == 202
        deliver(instance)
        second = last_code(inbox, EMAIL)
        assert client.post(f"/api/v1/requests/{filed['id']}/verify", json={"code": first}).json()["problem"] in (
            "wrong",
            "expired",
        )
        wrong = "999999" if second != "999999" else "111111"
        for _ in range(4):
            answer = client.post(f"/api/v1/requests/{filed['id']}/verify", json={"code": wrong})
        assert answer.json()["problem"] == "exhausted" and answer.json()["state"] == "denied"
        # Even the right code no longer opens it.
        assert client.post(f"/api/v1/requests/{filed['id']}/verify", json={"code": second}).status_code == 400
        deliver(instance)
        told = outcome_mail(inbox, EMAIL)
    assert told["Subject"] == "Your erasure request: denied"
    assert "too many wrong codes" in told.get_content()


def test_rig8_an_unknown_address_learns_nothing_until_verified(client, instance):
    """RIG-8: the answer to a request does not reveal whether the address is known; once verified, the requester
    is told that nothing is held."""
    register(client)
    with mailbox(instance) as inbox:
        known = file_request(client, "access", EMAIL)
        unknown = file_request(client, "access", "nobody@example.net")
        assert set(known) == set(unknown) and known["state"] == unknown["state"] == "verifying"
        deliver(instance)
        token = verify(client, unknown["id"], last_code(inbox, "nobody@example.net"))
        seen = client.get(f"/api/v1/requests/{unknown['id']}", headers=auth(token)).json()
        assert seen["state"] == "denied" and seen["denial"] == "no_match"
        deliver(instance)
        assert "We hold no personal data" in outcome_mail(inbox, "nobody@example.net").get_content()


def test_rig9_queue_lists_overdue_first_with_due_dates_from_the_declaration(client, instance):
    """RIG-9: due dates come from the declared response deadline (P30D); the queue shows overdue requests first."""
    register(client)
    start = clock.now()
    clock.travel_to(start)
    with mailbox(instance):
        older = file_request(client, "access", EMAIL)
        clock.travel_to(start + timedelta(days=10))
        newer = file_request(client, "portability", "someone@example.org")
        assert older["due_at"] == (start + timedelta(days=30)).isoformat()
        clock.travel_to(start + timedelta(days=31))
        reviewer = operator_headers(client, instance, "privacy_officer", "olga")
        queue = client.get("/api/v1/requests", headers=reviewer)
    assert queue.status_code == 200, queue.text
    listed = queue.json()["requests"]
    assert [r["id"] for r in listed] == [older["id"], newer["id"]]
    assert listed[0]["overdue"] is True and listed[1]["overdue"] is False
    assert queue.json()["overdue"] == 1
    only_late = client.get("/api/v1/requests", params={"overdue": "true"}, headers=reviewer).json()["requests"]
    assert [r["id"] for r in only_late] == [older["id"]]
    # The queue names no address.
    assert EMAIL not in queue.text


def test_rig9_only_reviewers_decide_and_a_denial_needs_a_reason(client, instance):
    """RIG-9: approving and denying take the `review_requests` permission; a denial says why, and the requester is
    told the reason by e-mail."""
    register(client)
    support = operator_headers(client, instance, "support_agent", "sue")
    reviewer = operator_headers(client, instance, "privacy_officer", "olga")
    with mailbox(instance) as inbox:
        request_id, _ = filed_and_verified(client, instance, inbox, "erase", EMAIL)
        assert client.get("/api/v1/requests", headers=support).status_code == 403
        assert client.post(f"/api/v1/requests/{request_id}/approve", headers=support).status_code == 403
        assert (
            client.post(
                f"/api/v1/requests/{request_id}/approve", headers=service_headers(instance, "requests")
            ).status_code
            == 403
        )
        blank = client.post(f"/api/v1/requests/{request_id}/deny", json={"reason": "  "}, headers=reviewer)
        assert blank.status_code == 422 and "reason" in blank.json()["message"]
        denied = client.post(
            f"/api/v1/requests/{request_id}/deny",
            json={"reason": "An open fraud case must be closed first.", "denial": "claim_not_covered"},
            headers=reviewer,
        )
        assert denied.status_code == 200, denied.text
        assert denied.json()["state"] == "denied" and denied.json()["decided_by"] == "operator:olga"
        again = client.post(f"/api/v1/requests/{request_id}/approve", headers=reviewer)
        assert again.status_code == 409
        deliver(instance)
        told = outcome_mail(inbox, EMAIL)
    assert told["Subject"] == "Your erasure request: denied"
    assert "An open fraud case must be closed first." in told.get_content()
    history = client.get(f"/api/v1/requests/{request_id}", headers=reviewer).json()["history"]
    assert [h["to"] for h in history] == ["received", "verifying", "in_review", "denied"]


def test_rig10_operators_file_requests_received_by_email(client, instance):
    """RIG-10: an operator files a request that arrived by e-mail; the person still confirms it with a code.
    A channel the declaration does not list (phone) is refused, and so is a right it does not offer."""
    register(client)
    reviewer = operator_headers(client, instance, "privacy_officer", "olga")
    with mailbox(instance) as inbox:
        phoned = client.post(
            "/api/v1/requests", json={"right": "access", "email": EMAIL, "channel": "phone"}, headers=reviewer
        )
        assert phoned.status_code == 422 and phoned.json()["error"] == "channel_not_offered"
        restrict = client.post(
            "/api/v1/requests", json={"right": "restrict", "email": EMAIL, "channel": "email"}, headers=reviewer
        )
        assert restrict.status_code == 422 and restrict.json()["error"] == "right_not_offered"
        assert "'restrict'" in restrict.json()["message"]
        filed = file_request(client, "access", EMAIL, channel="email", headers=reviewer, note="Asked by e-mail")
        deliver(instance)
        code = last_code(inbox, EMAIL)
    seen = client.get(f"/api/v1/requests/{filed['id']}", headers=reviewer).json()
    assert seen["channel"] == "email" and seen["filed_by"] == "operator:olga" and seen["state"] == "verifying"
    assert seen["note"] == "Asked by e-mail"
    verify(client, filed["id"], code)
    # The person cannot claim a staff channel.
    assert (
        client.post("/api/v1/requests", json={"right": "access", "email": EMAIL, "channel": "email"}).status_code == 403
    )
    # Services need the `requests` scope.
    assert (
        client.post(
            "/api/v1/requests", json={"right": "access", "email": EMAIL, "channel": "email"}, headers=client.service
        ).status_code
        == 403
    )


def test_rig10_the_data_rights_protocol_is_off_unless_agents_are_a_declared_channel(client):
    """RIG-10: a declaration that takes no requests from authorized agents answers the DRP endpoints with 404."""
    response = client.post("/v1/agent/ANY", content=b"x")
    assert response.status_code == 404 and response.json()["code"] == "404"
