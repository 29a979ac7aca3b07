"""The consent ledger over HTTP: append-only choices the gate reads at once (USE-3), guardians (MIN-3), and
Kantara Consent Receipt 1.1 exports validated against the specification's JSON schema."""

from __future__ import annotations

import json

import jsonschema
import pytest
from sqlalchemy import select

from tests.conftest import FIXTURES
from tests.support.api import REGISTRATION, operator_headers, register, service_headers
from vowkeep.store.tables import audit_log, consent_records

pytestmark = pytest.mark.postgres

KANTARA = FIXTURES / "kantara"


def _schema():
    return json.loads((KANTARA / "kantara-consent-receipt-v1_1-schema.json").read_text())


def _read(client, headers, subject_id, purpose):
    return client.get(f"/api/v1/subjects/{subject_id}", params={"purpose": purpose}, headers=headers)


def _consent(client, headers, subject_id, **body):
    return client.post(f"/api/v1/subjects/{subject_id}/consents", json=body, headers=headers)


def test_use3_opt_in_purpose_needs_a_given_consent_and_withdrawal_acts_at_once(client, instance):
    subject_id = register(client)
    reader = service_headers(instance, "purpose:partner_offers")
    consents = service_headers(instance, "consents")
    denied = _read(client, reader, subject_id, "partner_offers")
    assert denied.status_code == 403 and denied.json()["rule"] == "consent-required"

    given = _consent(
        client,
        consents,
        subject_id,
        purpose="partner_offers",
        choice="given",
        method="form",
        evidence={"form": "registration-v3"},
    )
    assert given.status_code == 201, given.text
    [record] = given.json()["records"]
    assert record["choice"] == "given" and record["method"] == "form" and record["allows_processing"] is True
    assert record["policy_version"] == 1 and record["evidence"]["form"] == "registration-v3"
    allowed = _read(client, reader, subject_id, "partner_offers")
    assert allowed.status_code == 200
    assert {i["value"] for i in allowed.json()["items"]} >= {REGISTRATION["email"]}

    withdrawn = _consent(client, consents, subject_id, purpose="partner_offers", choice="withdrawn")
    assert withdrawn.status_code == 201
    again = _read(client, reader, subject_id, "partner_offers")
    assert again.status_code == 403 and again.json()["rule"] == "consent-required"


def test_use3_opt_out_purpose_runs_until_an_objection(client, instance):
    response = client.post(
        "/api/v1/collect/other_sources",
        json={"email": "lead@example.org", "first_name": "Lee", "source": "public databases"},
        headers=service_headers(instance, "collect"),
    )
    subject_id = response.json()["subject_id"]
    reader = service_headers(instance, "purpose:marketing")
    assert _read(client, reader, subject_id, "marketing").status_code == 200
    consents = service_headers(instance, "consents")
    assert _consent(client, consents, subject_id, purpose="marketing", choice="refused").status_code == 201
    denied = _read(client, reader, subject_id, "marketing")
    assert denied.status_code == 403 and denied.json()["rule"] == "objection"


def test_use3_ledger_is_append_only_and_lists_the_current_state(client, instance):
    subject_id = register(client)
    consents = service_headers(instance, "consents")
    for choice in ("given", "withdrawn", "given"):
        assert _consent(client, consents, subject_id, purpose="partner_offers", choice=choice).status_code == 201
    body = client.get(f"/api/v1/subjects/{subject_id}/consents", headers=consents).json()
    assert [r["choice"] for r in body["records"]] == ["given", "withdrawn", "given"]
    current = {c["purpose"]: c for c in body["current"]}
    assert current["partner_offers"]["choice"] == "given" and current["partner_offers"]["allows_processing"]
    # Never asked: opt-in purposes wait for a consent, opt-out ones run until an objection.
    assert current["contests"]["choice"] is None and current["contests"]["allows_processing"] is False
    assert current["marketing"]["choice"] is None and current["marketing"]["allows_processing"] is True
    instance.vault.settle_audit()
    with instance.engine.connect() as conn:
        rows = conn.execute(select(consent_records).where(consent_records.c.subject_id == subject_id)).all()
        audited = conn.execute(
            select(audit_log.c.action, audit_log.c.rule).where(
                audit_log.c.subject_id == subject_id, audit_log.c.action == "consent"
            )
        ).all()
    assert len(rows) == 3
    assert [a.rule for a in audited] == ["given", "withdrawn", "given"]


def test_min3_a_guardian_consents_only_where_the_declaration_allows_it(client, instance):
    subject_id = register(client)
    consents = service_headers(instance, "consents")
    guardian = register(client, {**REGISTRATION, "email": "parent@example.org"})
    response = _consent(
        client,
        consents,
        subject_id,
        purpose="contests",
        choice="given",
        method="guardian",
        evidence={"guardian_subject": guardian},
    )
    assert response.status_code == 201
    assert response.json()["records"][0]["method"] == "guardian"
    instance.vault.policy.minors.guardian_may_consent = False
    try:
        refused = _consent(client, consents, subject_id, purpose="contests", choice="given", method="guardian")
    finally:
        instance.vault.policy.minors.guardian_may_consent = True
    assert refused.status_code == 422 and refused.json()["error"] == "guardian_not_allowed"


def test_bad_consent_requests_say_what_was_wrong(client, instance):
    subject_id = register(client)
    consents = service_headers(instance, "consents")
    cases = [
        ({"purpose": "nope", "choice": "given"}, 422, "unknown_purpose"),
        ({"purpose": "account", "choice": "given"}, 422, "not_consent_based"),
        ({"purpose": "partner_offers"}, 422, "invalid_request"),
        ({"purpose": "partner_offers", "choice": "maybe"}, 422, "invalid_request"),
        ({"purpose": "partner_offers", "choice": "given", "method": "telepathy"}, 422, "invalid_request"),
        ({"purpose": "partner_offers", "choice": "given", "evidence": {"x": "y" * 3000}}, 422, "invalid_request"),
        ({"visitor_id": "short"}, 422, "invalid_visitor"),
        ({}, 422, "invalid_request"),
    ]
    for body, status, code in cases:
        response = _consent(client, consents, subject_id, **body)
        assert (response.status_code, response.json()["error"]) == (status, code), (body, response.text)
    missing = _consent(client, consents, "0" * 32, purpose="partner_offers", choice="given")
    assert missing.status_code == 404
    no_scope = _consent(client, client.service, subject_id, purpose="partner_offers", choice="given")
    assert no_scope.status_code == 403 and no_scope.json()["rule"] == "permission"
    assert client.get(f"/api/v1/subjects/{subject_id}/consents").status_code == 401
    with instance.engine.connect() as conn:
        assert conn.execute(select(consent_records)).first() is None


def test_operators_who_review_requests_may_record_consents(client, instance):
    subject_id = register(client)
    officer = operator_headers(client, instance, "privacy_officer")
    response = _consent(client, officer, subject_id, purpose="partner_offers", choice="refused", method="operator")
    assert response.status_code == 201
    marketer = operator_headers(client, instance, "marketer")
    assert _consent(client, marketer, subject_id, purpose="partner_offers", choice="given").status_code == 403


def test_kantara_receipts_validate_against_the_specification_schema(client, instance):
    """Receipts of one consent and of the current state are valid Kantara Consent Receipt 1.1 JSON."""
    schema = _schema()
    validator = jsonschema.Draft4Validator(schema)
    validator.validate(json.loads((KANTARA / "kantara-consent-receipt-v1_1-example.json").read_text()))
    subject_id = register(client)
    consents = service_headers(instance, "consents")
    first = _consent(client, consents, subject_id, purpose="partner_offers", choice="given", method="form")
    record_id = first.json()["records"][0]["id"]
    _consent(client, consents, subject_id, purpose="contests", choice="given", method="form")

    one = client.get(f"/api/v1/subjects/{subject_id}/consents/{record_id}/receipt", headers=consents)
    assert one.status_code == 200, one.text
    receipt = one.json()
    validator.validate(receipt)
    assert receipt["version"] == "KI-CR-v1.1.0"
    assert receipt["piiPrincipalId"] == subject_id
    assert receipt["policyUrl"].endswith("/privacy/versions/1")
    [service] = receipt["services"]
    [purpose] = service["purposes"]
    assert purpose["purpose"] == "Our business partners' offers" and purpose["consentType"] == "EXPLICIT"
    assert purpose["thirdPartyDisclosure"] is True and purpose["thirdPartyName"] == "Business partners"
    assert "2 - Contact" in purpose["piiCategory"]
    assert REGISTRATION["email"] not in json.dumps(receipt)
    assert client.get(f"/api/v1/subjects/{subject_id}/consents/{record_id}/receipt", headers=consents).json() == receipt

    current = client.get(f"/api/v1/subjects/{subject_id}/consents/receipt", headers=consents).json()
    validator.validate(current)
    assert {p["purpose"] for p in current["services"][0]["purposes"]} == {
        "Our business partners' offers",
        "Contests and giveaways",
    }
    withdrawal = _consent(client, consents, subject_id, purpose="contests", choice="withdrawn").json()
    refused = client.get(
        f"/api/v1/subjects/{subject_id}/consents/{withdrawal['records'][0]['id']}/receipt", headers=consents
    )
    assert refused.status_code == 409 and refused.json()["error"] == "no_receipt"
    after = client.get(f"/api/v1/subjects/{subject_id}/consents/receipt", headers=consents).json()
    assert [p["purpose"] for p in after["services"][0]["purposes"]] == ["Our business partners' offers"]
