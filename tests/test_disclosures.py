"""Disclosures: only to declared recipients, of their declared categories and purposes (SHR-1); every one in the
register, and a subject sees theirs (SHR-2); legal requests recorded with reference and scope and released only
after another operator approves (SHR-4)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.support.api import REGISTRATION, operator_headers, register, service_headers
from tests.support.rights import auth, filed_and_verified, mailbox
from vowkeep.store.tables import audit_log, disclosures

pytestmark = pytest.mark.postgres
EMAIL = REGISTRATION["email"]


def _disclose(client, headers, **body):
    defaults = {"recipient": "hosting", "purpose": "account", "categories": ["user.contact.email"]}
    return client.post("/api/v1/disclosures", json={**defaults, **body}, headers=headers)


def _register_rows(instance):
    with instance.engine.connect() as conn:
        return conn.execute(select(disclosures)).all()


def test_shr1_only_declared_recipients_categories_and_purposes(client, instance):
    """SHR-1: a disclosure to an undeclared recipient, of categories or for a purpose not declared for it, or of
    row-level data to an aggregate-only recipient, is refused by the gate — audited, and nothing released."""
    subject_id = register(client)
    service = service_headers(instance, "disclosures", "purpose:account", "purpose:advertising", name="sync")
    cases = [
        ({"recipient": "data_broker"}, "recipient-undeclared"),
        ({"categories": ["user.demographic.date_of_birth"]}, "recipient-category"),
        ({"recipient": "email_delivery", "purpose": "account"}, "recipient-purpose"),
        (
            {"recipient": "ad_companies", "purpose": "advertising", "categories": ["user.behavior.browsing_history"]},
            "aggregate-only",
        ),
    ]
    for change, rule in cases:
        refused = _disclose(client, service, subject_ids=[subject_id], **change)
        assert refused.status_code == 403, (change, refused.text)
        assert refused.json()["rule"] == rule
    assert _register_rows(instance) == []
    instance.vault.settle_audit()
    with instance.engine.connect() as conn:
        denials = (
            conn.execute(
                select(audit_log.c.rule).where(audit_log.c.action == "disclose", audit_log.c.decision == "deny")
            )
            .scalars()
            .all()
        )
    assert denials == [rule for _, rule in cases]
    # A key without the `disclosures` scope, or without the purpose, cannot disclose at all.
    no_scope = service_headers(instance, "purpose:account", name="reader")
    assert _disclose(client, no_scope, subject_ids=[subject_id]).status_code == 403
    no_purpose = service_headers(instance, "disclosures", name="discloser")
    assert _disclose(client, no_purpose, subject_ids=[subject_id]).json()["rule"] == "api-key-scope"
    unknown = _disclose(client, service, subject_ids=["f" * 32])
    assert unknown.status_code == 404


def test_shr2_a_release_is_in_the_register_and_the_subject_sees_it(client, instance):
    """SHR-2: a routine disclosure is released through the gate and recorded (recipient, subjects, categories,
    purpose, legal basis, reference, who, when); the subject sees it with the token of their own request."""
    subject_id = register(client)
    other_id = register(client, {**REGISTRATION, "email": "grace@example.org"})
    service = service_headers(instance, "disclosures", "purpose:account", name="sync")
    released = _disclose(
        client,
        service,
        subject_ids=[subject_id],
        categories=["user.contact.email", "user.name.first"],
        reference="Hosting contract HC-7",
    )
    assert released.status_code == 201, released.text
    entry = released.json()["disclosure"]
    [data] = released.json()["data"]
    assert data["subject_id"] == subject_id
    assert {i["field"]: i["value"] for i in data["items"]} == {"email": EMAIL, "first_name": "Ada"}
    assert (entry["state"], entry["kind"], entry["legal_basis"]) == ("released", "routine", "contract")
    assert entry["reference"] == "Hosting contract HC-7" and entry["requested_by"] == "service:sync"
    assert entry["released_at"] and entry["subject_ids"] == [subject_id]
    [row] = _register_rows(instance)
    assert b"HC-7" not in bytes(row.sealed)  # references are sealed
    officer = operator_headers(client, instance, "privacy_officer", "olga")
    register_view = client.get("/api/v1/disclosures", headers=officer).json()["disclosures"]
    assert [d["id"] for d in register_view] == [entry["id"]]
    assert client.get("/api/v1/disclosures", headers=operator_headers(client, instance, "marketer")).status_code == 403
    instance.vault.settle_audit()
    with instance.engine.connect() as conn:
        audited = conn.execute(
            select(audit_log).where(audit_log.c.action == "disclose", audit_log.c.decision == "allow")
        ).first()
    assert audited.subject_id == subject_id and audited.detail["recipient"] == "hosting"

    theirs = client.get(f"/api/v1/subjects/{subject_id}/disclosures", headers=officer).json()["disclosures"]
    assert [(d["recipient"], d["recipient_name"], d["categories"]) for d in theirs] == [
        ("hosting", "Hosting provider", ["user.contact.email", "user.name.first"])
    ]
    assert client.get(f"/api/v1/subjects/{other_id}/disclosures", headers=officer).json()["disclosures"] == []
    with mailbox(instance) as inbox:
        _, token = filed_and_verified(client, instance, inbox, "access", EMAIL)
    mine = client.get(f"/api/v1/subjects/{subject_id}/disclosures", headers=auth(token))
    assert mine.status_code == 200 and mine.json()["disclosures"] == theirs
    # The same token does not open someone else's.
    assert client.get(f"/api/v1/subjects/{other_id}/disclosures", headers=auth(token)).status_code == 403


def test_shr4_a_legal_request_is_released_only_after_another_operator_approves(client, instance):
    """SHR-4: a court order is recorded with its reference and scope and waits; the operator who filed it cannot
    approve it; once another approves, it is released once, through the gate, and the subject can see it."""
    subject_id = register(client)
    pat = operator_headers(client, instance, "privacy_officer", "pat")
    quinn = operator_headers(client, instance, "privacy_officer", "quinn")
    filed = _disclose(
        client,
        pat,
        recipient="authorities",
        purpose="legal_compliance",
        categories=["user.contact.email", "user.name"],
        subject_ids=[subject_id],
        legal_request={
            "kind": "court_order",
            "reference": "Case 2026-CV-0042",
            "scope": "Contact details of the account holder",
            "authority": "District Court",
        },
    )
    assert filed.status_code == 202, filed.text
    entry = filed.json()["disclosure"]
    assert "data" not in filed.json() and entry["state"] == "pending" and entry["kind"] == "legal"
    assert entry["legal_request"] == {
        "kind": "court_order",
        "reference": "Case 2026-CV-0042",
        "scope": "Contact details of the account holder",
        "authority": "District Court",
    }
    [row] = _register_rows(instance)
    assert b"2026-CV-0042" not in bytes(row.sealed)
    disclosure_id = entry["id"]
    early = client.post(f"/api/v1/disclosures/{disclosure_id}/release", headers=pat)
    assert early.status_code == 409 and "approval" in early.json()["message"]
    assert client.post(f"/api/v1/disclosures/{disclosure_id}/approve", headers=pat).status_code == 403
    support = operator_headers(client, instance, "support_agent")
    assert client.post(f"/api/v1/disclosures/{disclosure_id}/approve", headers=support).status_code == 403
    assert client.post(f"/api/v1/disclosures/{disclosure_id}/approve", headers=client.service).status_code == 403
    # Nothing of the subject was read while it waited.
    instance.vault.settle_audit()
    with instance.engine.connect() as conn:
        reads = conn.execute(select(audit_log).where(audit_log.c.action == "disclose")).all()
    assert reads == []
    approved = client.post(f"/api/v1/disclosures/{disclosure_id}/approve", headers=quinn)
    assert approved.status_code == 200 and approved.json()["disclosure"]["decided_by"] == "operator:quinn"
    released = client.post(f"/api/v1/disclosures/{disclosure_id}/release", headers=pat)
    assert released.status_code == 200, released.text
    assert {i["field"] for i in released.json()["data"][0]["items"]} == {"email", "first_name", "last_name"}
    assert released.json()["disclosure"]["released_by"] == "operator:pat"
    assert client.post(f"/api/v1/disclosures/{disclosure_id}/release", headers=pat).status_code == 409
    theirs = client.get(f"/api/v1/subjects/{subject_id}/disclosures", headers=quinn).json()["disclosures"]
    assert [(d["recipient"], d["legal_request"]) for d in theirs] == [("authorities", "court_order")]


def test_shr4_a_denied_legal_request_releases_nothing(client, instance):
    """SHR-4: an operator refuses a legal request with a reason; it can never be released. A legal request must be
    addressed to an authority, and name its reference and scope."""
    subject_id = register(client)
    pat = operator_headers(client, instance, "privacy_officer", "pat")
    quinn = operator_headers(client, instance, "privacy_officer", "quinn")
    legal = {"kind": "subpoena", "reference": "S-1", "scope": "everything"}
    wrong_recipient = _disclose(
        client, pat, recipient="acquirer", purpose="account", subject_ids=[subject_id], legal_request=legal
    )
    assert wrong_recipient.status_code == 422 and "authority" in wrong_recipient.json()["message"]
    no_scope = _disclose(
        client,
        pat,
        recipient="authorities",
        purpose="legal_compliance",
        subject_ids=[subject_id],
        legal_request={"kind": "subpoena", "reference": "S-1", "scope": " "},
    )
    assert no_scope.status_code == 422 and "scope" in no_scope.json()["message"]
    filed = _disclose(
        client, pat, recipient="authorities", purpose="legal_compliance", subject_ids=[subject_id], legal_request=legal
    ).json()["disclosure"]
    blank = client.post(f"/api/v1/disclosures/{filed['id']}/deny", json={"reason": ""}, headers=quinn)
    assert blank.status_code == 422
    denied = client.post(
        f"/api/v1/disclosures/{filed['id']}/deny", json={"reason": "Not signed by a judge"}, headers=quinn
    )
    assert denied.status_code == 200 and denied.json()["disclosure"]["state"] == "denied"
    assert denied.json()["disclosure"]["denial_reason"] == "Not signed by a judge"
    assert client.post(f"/api/v1/disclosures/{filed['id']}/release", headers=pat).status_code == 409
    assert client.post(f"/api/v1/disclosures/{filed['id']}/approve", headers=quinn).status_code == 409
    assert client.get(f"/api/v1/subjects/{subject_id}/disclosures", headers=quinn).json()["disclosures"] == []


def test_shr4_a_recipient_that_requires_approval_waits_too(client, instance):
    """SHR-4: a recipient declared `requires_approval` (the acquirer) gets nothing until approved."""
    subject_id = register(client)
    pat = operator_headers(client, instance, "privacy_officer", "pat")
    service = service_headers(instance, "disclosures", "purpose:account", name="sync")
    pending = _disclose(client, service, recipient="acquirer", subject_ids=[subject_id])
    assert pending.status_code == 202 and pending.json()["disclosure"]["state"] == "pending"
    disclosure_id = pending.json()["disclosure"]["id"]
    client.post(f"/api/v1/disclosures/{disclosure_id}/approve", headers=pat)
    released = client.post(f"/api/v1/disclosures/{disclosure_id}/release", headers=service)
    assert released.status_code == 200 and released.json()["data"][0]["items"][0]["value"] == EMAIL
