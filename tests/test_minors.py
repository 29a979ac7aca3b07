"""Minors (MIN-1, MIN-2, MIN-3): the age gate at registration, a guardian's consent for a dependant, and reports
of a minor — from operators or the public form — that deactivate at once and erase promptly."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.support import instances
from tests.support.api import REGISTRATION, operator_headers, register, service_headers
from vowkeep import clock
from vowkeep.retention.minors import FORM_REVIEW
from vowkeep.store.tables import age_refusals, audit_log, blind_index, consent_records, items, minor_reports, subjects
from vowkeep.worker import Worker

pytestmark = pytest.mark.postgres

TODAY = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fresh_report_limit():
    from vowkeep.web.pages import minors as pages

    pages.limiter._failures.clear()
    yield
    pages.limiter._failures.clear()


def _counts(instance) -> dict[str, int]:
    instance.vault.settle_audit()
    with instance.engine.connect() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (subjects, items, blind_index, consent_records, audit_log)
        }


def _born(years_ago: int, days: int = 0) -> str:
    return (date(TODAY.year - years_ago, TODAY.month, TODAY.day) + timedelta(days=days)).isoformat()


def _state(instance, subject_id) -> str:
    with instance.engine.connect() as conn:
        return conn.execute(select(subjects.c.state).where(subjects.c.id == subject_id)).scalar_one()


def test_min1_registration_below_the_minimum_age_is_refused_and_only_counted(client, instance):
    """MIN-1: a 17-year-old's registration is refused; no subject, item, index row, consent or audit record is
    written — only the day's refusal count for the collection point grows."""
    clock.travel_to(TODAY)
    before = _counts(instance)
    for _ in range(2):
        refused = client.post(
            "/api/v1/collect/registration", json={**REGISTRATION, "date_of_birth": _born(17)}, headers=client.service
        )
        assert refused.status_code == 403
        assert refused.json() == {
            "error": "below_minimum_age",
            "rule": "minimum-age",
            "message": "'registration' registers people aged 18 or over; the submission was refused and not stored",
        }
    assert _counts(instance) == before
    with instance.engine.connect() as conn:
        assert conn.execute(select(age_refusals)).all() == [(TODAY.date(), "registration", 2)]
    officer = operator_headers(client, instance, "privacy_officer")
    seen = client.get("/api/v1/minors/refusals", headers=officer).json()
    assert seen == {
        "minimum_age": 18,
        "refusals": [{"day": "2026-06-15", "collection_point": "registration", "count": 2}],
    }


def test_min1_the_minimum_age_counts_from_the_birthday(client, instance):
    clock.travel_to(TODAY)
    eighteen_today = {**REGISTRATION, "date_of_birth": _born(18)}
    assert client.post("/api/v1/collect/registration", json=eighteen_today, headers=client.service).status_code == 201
    tomorrow = {**REGISTRATION, "email": "b@example.org", "date_of_birth": _born(18, days=1)}
    assert client.post("/api/v1/collect/registration", json=tomorrow, headers=client.service).status_code == 403
    future = {**REGISTRATION, "email": "c@example.org", "date_of_birth": "2030-01-01"}
    response = client.post("/api/v1/collect/registration", json=future, headers=client.service)
    assert response.status_code == 422 and response.json()["problems"][0]["message"] == "is in the future"


def test_min1_attestation_is_asked_where_the_declaration_says_so(client, instance):
    """MIN-1: the contest entry asks for an age attestation: missing is an error naming it, `false` is a refusal
    (counted), `true` is accepted; a form without an age check does not take the field."""
    entry = {"email": "c@example.org", "first_name": "Cy", "last_name": "Ng"}
    missing = client.post("/api/v1/collect/contest_entry", json=entry, headers=client.service)
    assert missing.status_code == 422
    assert missing.json()["problems"] == [
        {
            "field": "age_attestation",
            "message": "is required: confirm (true) that you are 18 or over",
            "rule": "age-check",
        }
    ]
    under = client.post(
        "/api/v1/collect/contest_entry", json={**entry, "age_attestation": False}, headers=client.service
    )
    assert under.status_code == 403 and under.json()["rule"] == "minimum-age"
    wrong = client.post(
        "/api/v1/collect/contest_entry", json={**entry, "age_attestation": "yes"}, headers=client.service
    )
    assert wrong.status_code == 422
    ok = client.post("/api/v1/collect/contest_entry", json={**entry, "age_attestation": True}, headers=client.service)
    assert ok.status_code == 201, ok.text
    with instance.engine.connect() as conn:
        assert conn.execute(select(age_refusals.c.collection_point, age_refusals.c.count)).all() == [
            ("contest_entry", 1)
        ]
    stray = client.post(
        "/api/v1/collect/inquiry",
        json={"email": "d@example.org", "message": "hi", "age_attestation": True},
        headers=client.service,
    )
    assert stray.status_code == 422 and stray.json()["problems"][0]["rule"] == "undeclared-field"


def test_min3_a_guardian_consents_for_a_dependant_recorded_as_such(client, instance):
    """MIN-3: below the minimum age, a parent's consent lets the registration through; the ledger records it as a
    guardian's consent, naming the relationship, for the service's purposes — not its marketing unless named."""
    clock.travel_to(TODAY)
    child = {**REGISTRATION, "email": "kid@example.org", "date_of_birth": _born(15)}
    response = client.post(
        "/api/v1/collect/registration",
        json={**child, "guardian_consent": {"relationship": "parent"}},
        headers=client.service,
    )
    assert response.status_code == 201, response.text
    assert response.json()["guardian_consent"] == ["account", "service_messages"]
    subject_id = response.json()["subject_id"]
    with instance.engine.connect() as conn:
        records = conn.execute(select(consent_records).where(consent_records.c.subject_id == subject_id)).all()
    assert {(r.purpose, r.choice, r.method) for r in records} == {
        ("account", "given", "guardian"),
        ("service_messages", "given", "guardian"),
    }
    assert all(r.evidence["relationship"] == "parent" and r.evidence["guardian"] for r in records)
    named = client.post(
        "/api/v1/collect/registration",
        json={
            **child,
            "email": "kid2@example.org",
            "guardian_consent": {"relationship": "legal_guardian", "purposes": ["account", "partner_offers"]},
        },
        headers=client.service,
    )
    assert named.status_code == 201 and named.json()["guardian_consent"] == ["account", "partner_offers"]
    for bad in ({"relationship": "uncle"}, {"relationship": "parent", "purposes": ["marketing"]}, "yes"):
        wrong = client.post(
            "/api/v1/collect/registration",
            json={**child, "email": "kid3@example.org", "guardian_consent": bad},
            headers=client.service,
        )
        assert wrong.status_code == 422 and wrong.json()["problems"][0]["field"] == "guardian_consent"


def test_min3_no_guardian_consent_where_the_declaration_does_not_allow_it(tmp_path, sample_policy_path, backend):
    """MIN-3: only where `minors.guardian_may_consent` says so."""
    from fastapi.testclient import TestClient

    from vowkeep.web.app import create_app

    text = sample_policy_path.read_text().replace("guardian_may_consent: true", "guardian_may_consent: false")
    instance, result = instances.create(tmp_path / "data", text, database_url=backend)
    try:
        with TestClient(create_app(instance)) as client:
            body = {**REGISTRATION, "date_of_birth": "2015-01-01", "guardian_consent": {"relationship": "parent"}}
            response = client.post(
                "/api/v1/collect/registration", json=body, headers={"Authorization": f"Bearer {result.api_key}"}
            )
        assert response.status_code == 422
        assert response.json()["problems"][0]["message"] == "this privacy policy does not let a guardian consent"
    finally:
        instance.close()


def test_min2_an_operator_report_deactivates_at_once_and_erases_promptly(client, instance):
    """MIN-2: an operator reports a subject as a minor: no processing from that moment, the data and the key are
    gone as soon as the worker runs; each step is audited."""
    subject_id = register(client)
    support = operator_headers(client, instance, "support_agent")
    assert client.post("/api/v1/minors/reports", json={"subject_id": subject_id}, headers=support).status_code == 403
    officer = operator_headers(client, instance, "privacy_officer", "olga")
    filed = client.post("/api/v1/minors/reports", json={"subject_id": subject_id}, headers=officer)
    assert filed.status_code == 201, filed.text
    assert filed.json()["state"] == "confirmed" and filed.json()["channel"] == "operator"
    read = client.get(f"/api/v1/subjects/{subject_id}", params={"purpose": "support"}, headers=support)
    assert read.status_code == 403 and read.json()["rule"] == "subject-deactivated"
    Worker(instance).run_until_idle()
    assert _state(instance, subject_id) == "erased" and not instance.keystore.has_data_key(subject_id)
    instance.vault.settle_audit()
    with instance.engine.connect() as conn:
        assert conn.execute(select(items).where(items.c.subject_id == subject_id)).first() is None
        actions = conn.execute(
            select(audit_log.c.actor, audit_log.c.action, audit_log.c.rule)
            .where(audit_log.c.subject_id == subject_id)
            .order_by(audit_log.c.seq)
        ).all()
    assert ("operator:olga", "state:deactivated", "minor") in actions
    assert ("operator:olga", "minor-report", "allowed") in actions
    assert ("system:minors", "erase", "minor") in actions
    listed = client.get("/api/v1/minors/reports", headers=officer).json()["reports"]
    assert [(r["subject_id"], r["state"]) for r in listed] == [(subject_id, "erased")]
    again = client.post("/api/v1/minors/reports", json={"subject_id": subject_id}, headers=officer)
    assert again.status_code == 409


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_min2_the_public_report_a_minor_form(client, instance):
    """MIN-2: `/report-minor` (CSRF-protected) deactivates a matching account at once and erases it after the
    review time; the reply is the same whether or not the address matched."""
    clock.travel_to(TODAY)
    subject_id = register(client)
    form = client.get("/report-minor")
    assert form.status_code == 200 and "under 18" in form.text and "support@wsoutsourcer.com" in form.text
    forged = client.post("/report-minor", data={"email": REGISTRATION["email"], "csrf_token": "forged-token-xxxxxxxx"})
    assert forged.status_code == 403 and _state(instance, subject_id) == "active"
    token = _csrf(form.text)
    sent = client.post("/report-minor", data={"email": "ADA.Lovelace@example.org", "csrf_token": token})
    assert sent.status_code == 200 and "Thank you" in sent.text
    nobody = client.post("/report-minor", data={"email": "nobody@example.org", "csrf_token": token})
    assert nobody.status_code == 200 and nobody.text == sent.text
    bad = client.post("/report-minor", data={"email": "not an address", "csrf_token": token})
    assert bad.status_code == 422
    assert _state(instance, subject_id) == "deactivated"
    with instance.engine.connect() as conn:
        reports = conn.execute(select(minor_reports).order_by(minor_reports.c.reported_at)).all()
    assert sorted((r.state, r.subject_id) for r in reports) == sorted([("pending", subject_id), ("unmatched", None)])
    Worker(instance).run_until_idle()
    assert _state(instance, subject_id) == "deactivated"  # still under review
    clock.travel_to(TODAY + FORM_REVIEW + timedelta(seconds=1))
    Worker(instance).run_until_idle()
    assert _state(instance, subject_id) == "erased" and not instance.keystore.has_data_key(subject_id)


def test_min2_operators_confirm_or_dismiss_public_reports(client, instance):
    """MIN-2: a mistaken report is dismissed — the account is active again and is not erased; a right one can be
    confirmed to erase at once."""
    clock.travel_to(TODAY)
    wrongly = register(client)
    rightly = register(client, {**REGISTRATION, "email": "teen@example.org"})
    token = _csrf(client.get("/report-minor").text)
    for email in (REGISTRATION["email"], "teen@example.org"):
        assert client.post("/report-minor", data={"email": email, "csrf_token": token}).status_code == 200
    key = service_headers(instance, "requests")
    pending = {
        r["subject_id"]: r["id"]
        for r in client.get("/api/v1/minors/reports", params={"state": "pending"}, headers=key).json()["reports"]
    }
    dismissed = client.post(f"/api/v1/minors/reports/{pending[wrongly]}/dismiss", headers=key)
    assert dismissed.status_code == 200 and dismissed.json()["state"] == "dismissed"
    assert _state(instance, wrongly) == "active"
    confirmed = client.post(f"/api/v1/minors/reports/{pending[rightly]}/confirm", headers=key)
    assert confirmed.status_code == 200 and confirmed.json()["state"] == "confirmed"
    assert client.post(f"/api/v1/minors/reports/{pending[rightly]}/dismiss", headers=key).status_code == 409
    assert client.post("/api/v1/minors/reports/nope/confirm", headers=key).status_code == 404
    Worker(instance).run_until_idle()
    assert _state(instance, rightly) == "erased"
    clock.travel_to(TODAY + FORM_REVIEW + timedelta(days=1))
    Worker(instance).run_until_idle()
    assert _state(instance, wrongly) == "active"


def test_min2_the_public_form_is_limited_per_address(client, instance):
    """MIN-2: the form cannot be used to sweep through addresses: ten reports an hour from one client."""
    token = _csrf(client.get("/report-minor").text)
    for n in range(10):
        assert client.post("/report-minor", data={"email": f"x{n}@example.org", "csrf_token": token}).status_code == 200
    limited = client.post("/report-minor", data={"email": "x10@example.org", "csrf_token": token})
    assert limited.status_code == 429 and "Too many reports" in limited.text
