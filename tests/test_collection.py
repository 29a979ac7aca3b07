"""The collection API: data enters only through declared collection points, validated, never a card number."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.support.api import REGISTRATION, register, service_headers
from vowkeep.store.tables import audit_log, items, subjects

pytestmark = pytest.mark.postgres


def _count(instance, table) -> int:
    with instance.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_col1_items_keep_point_purposes_version_and_time(client, instance):
    """COL-1: each stored item records its collection point, purposes, policy version and time."""
    subject_id = register(client)
    with instance.engine.connect() as conn:
        rows = conn.execute(select(items).where(items.c.subject_id == subject_id)).all()
    assert {r.field for r in rows} == set(REGISTRATION)
    for row in rows:
        assert row.collection_point == "registration"
        assert row.purposes.split() == ["account", "service_messages", "partner_offers"]
        assert row.policy_version == 1
        assert row.collected_at is not None and row.collected_at.tzinfo is not None


def test_col1_undeclared_collection_point_is_404(client):
    response = client.post("/api/v1/collect/newsletter", json={"email": "a@example.org"}, headers=client.service)
    assert response.status_code == 404
    assert "'newsletter' is not a declared collection point" in response.json()["message"]


def test_col2_undeclared_field_is_named_and_nothing_is_stored(client, instance):
    """COL-2: a field the point does not declare is refused by name; nothing of the submission is stored."""
    before = (_count(instance, subjects), _count(instance, items))
    body = {**REGISTRATION, "mothers_maiden_name": "Byron"}
    response = client.post("/api/v1/collect/registration", json=body, headers=client.service)
    assert response.status_code == 422
    problems = response.json()["problems"]
    assert {
        "field": "mothers_maiden_name",
        "rule": "undeclared-field",
        "message": "is not a field of collection point 'registration'",
    } in problems
    assert (_count(instance, subjects), _count(instance, items)) == before
    assert "Byron" not in response.text


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "not-an-address", "is not a valid e-mail address"),
        ("phone", "020 7946 0958", "must be an international number in E.164 form"),
        ("phone", "+999123", "is not"),
        ("date_of_birth", "10/12/1985", "is not a date in the form YYYY-MM-DD"),
        ("first_name", 42, "must be text"),
    ],
)
def test_col2_values_are_validated_by_type(client, instance, field, value, message):
    """COL-2: e-mail, E.164 phone and date values are checked; the error names the field, never the value."""
    response = client.post("/api/v1/collect/registration", json={**REGISTRATION, field: value}, headers=client.service)
    assert response.status_code == 422
    problem = next(p for p in response.json()["problems"] if p["field"] == field)
    assert message in problem["message"]
    assert _count(instance, items) == 0


def test_col2_required_fields(client):
    body = {k: v for k, v in REGISTRATION.items() if k != "email"}
    response = client.post("/api/v1/collect/registration", json=body, headers=client.service)
    assert response.status_code == 422
    assert {"field": "email", "message": "is required", "rule": "required"} in response.json()["problems"]


@pytest.mark.parametrize(
    "card",
    ["4111111111111111", "4111 1111 1111 1111", "5500-0000-0000-0004", "378282246310005", "6011000990139424"],
)
def test_col3_card_numbers_are_refused_in_any_field(client, instance, card):
    """COL-3: a Luhn-valid 13–19 digit number (separators allowed) in any field is refused; nothing stored."""
    body = {**REGISTRATION, "password_hint": f"my card is {card}"}
    response = client.post("/api/v1/collect/registration", json=body, headers=client.service)
    assert response.status_code == 422
    assert response.json()["problems"] == [
        {
            "field": "password_hint",
            "message": "looks like a payment card number, which is never stored",
            "rule": "card-number",
        }
    ]
    assert card not in response.text
    assert _count(instance, items) == 0


def test_col3_card_number_in_undeclared_field_is_still_refused_as_card(client):
    response = client.post(
        "/api/v1/collect/purchase",
        json={
            "email": "ada@example.org",
            "card_token": "tok_9aZ31",
            "card_number": "4242424242424242",
        },
        headers=client.service,
    )
    assert response.status_code == 422
    assert response.json()["problems"][0]["rule"] == "card-number"


def test_col3_non_luhn_digits_and_phone_numbers_pass(client):
    """COL-3 only refuses Luhn-valid runs; a long order number that fails Luhn and a 13-digit phone pass."""
    body = {**REGISTRATION, "password_hint": "order 4111111111111112", "phone": "+8613800138000"}
    response = client.post("/api/v1/collect/registration", json=body, headers=client.service)
    assert response.status_code == 201, response.text


def test_col3_purchase_keeps_token_brand_and_last_four(client, instance):
    """COL-3: a purchase stores the processor's token, the brand and the last four digits — no card number."""
    response = client.post(
        "/api/v1/collect/purchase",
        json={
            "email": "ada@example.org",
            "card_token": "tok_1N3fKx2eZvKYlo2C",
            "card_brand": "Visa",
            "card_last4": "4242",
        },
        headers=client.service,
    )
    assert response.status_code == 201
    bad = client.post(
        "/api/v1/collect/purchase",
        json={
            "email": "ada@example.org",
            "card_token": "tok_1N3fKx2eZvKYlo2C",
            "card_last4": "42424",
        },
        headers=client.service,
    )
    assert bad.status_code == 422
    assert bad.json()["problems"][0] == {
        "field": "card_last4",
        "message": "must be exactly four digits",
        "rule": "type-card_last4",
    }


def test_col4_password_is_stored_only_as_argon2id_hash(client, instance):
    """COL-4: the password is kept as an argon2id hash (itself encrypted); the hint is encrypted like any data."""
    from vowkeep.vault.actors import Actor
    from vowkeep.vault.decisions import SUBJECT_RIGHTS
    from vowkeep.vault.intake import verify_password

    subject_id = register(client, {**REGISTRATION, "password_hint": "the usual"})
    with instance.vault.transaction() as conn:
        values = instance.vault.read(conn, actor=Actor.system("test"), purpose=SUBJECT_RIGHTS, subject_id=subject_id)
    stored = {v.field: v.value for v in values}
    assert stored["password"].startswith("$argon2id$")
    assert verify_password(stored["password"], REGISTRATION["password"])
    assert stored["password_hint"] == "the usual"


def test_col6_social_login_keeps_only_the_declared_subset(client, instance):
    """COL-6: a social profile is reduced to the declared fields; the friends list and the rest are dropped."""
    from vowkeep.vault.actors import Actor
    from vowkeep.vault.decisions import SUBJECT_RIGHTS

    profile = {
        "email": "grace@example.org",
        "first_name": "Grace",
        "last_name": "Hopper",
        "picture": "https://social.example/p/grace.jpg",
        "friends": ["alan", "ada"],
        "hometown": "New York",
        "birthday": "1906-12-09",
    }
    # The point registers people with an age attestation (MIN-1), given beside the profile.
    response = client.post(
        "/api/v1/collect/social_login",
        json={"provider": "facebook", "profile": profile, "age_attestation": True},
        headers=client.service,
    )
    assert response.status_code == 201, response.text
    assert response.json()["dropped"] == ["birthday", "friends", "hometown"]
    with instance.vault.transaction() as conn:
        values = instance.vault.read(
            conn, actor=Actor.system("test"), purpose=SUBJECT_RIGHTS, subject_id=response.json()["subject_id"]
        )
    assert {v.field for v in values} == {"email", "first_name", "last_name", "picture"}
    undeclared = client.post(
        "/api/v1/collect/social_login", json={"provider": "myspace", "profile": profile}, headers=client.service
    )
    assert undeclared.status_code == 422


def test_col8_imports_keep_their_source(client, instance):
    """COL-8: data from other sources names a declared source, which each item keeps."""
    ok = client.post(
        "/api/v1/collect/other_sources",
        json={"source": "public databases", "email": "lead@example.org", "first_name": "Lee"},
        headers=client.service,
    )
    assert ok.status_code == 201
    with instance.engine.connect() as conn:
        sources = set(
            conn.execute(select(items.c.source).where(items.c.subject_id == ok.json()["subject_id"])).scalars()
        )
    assert sources == {"public databases"}
    unnamed = client.post("/api/v1/collect/other_sources", json={"email": "x@example.org"}, headers=client.service)
    assert unnamed.status_code == 422
    assert unnamed.json()["problems"][0]["field"] == "source"


def test_col1_same_email_reaches_the_same_subject(client):
    first = register(client)
    second = client.post(
        "/api/v1/collect/inquiry",
        json={"email": "ADA.lovelace@example.org", "message": "Hello"},
        headers=client.service,
    )
    assert second.status_code == 201
    assert second.json()["subject_id"] == first
    assert second.json()["created"] is False


def test_sec2_collection_needs_a_collect_scope(client, instance):
    """SEC-2: no token → 401; a key without the collect scope → 403 with the rule, and the denial is audited."""
    assert client.post("/api/v1/collect/inquiry", json={"email": "a@example.org", "message": "x"}).status_code == 401
    headers = service_headers(instance, "purpose:support")
    denied = client.post("/api/v1/collect/inquiry", json={"email": "a@example.org", "message": "x"}, headers=headers)
    assert denied.status_code == 403
    assert denied.json()["rule"] == "api-key-scope"
    instance.vault.settle_audit()
    with instance.engine.connect() as conn:
        last = conn.execute(select(audit_log).order_by(audit_log.c.seq.desc()).limit(1)).first()
    assert (last.action, last.decision, last.rule) == ("collect", "deny", "api-key-scope")
    assert _count(instance, items) == 0
    scoped = service_headers(instance, "collect:inquiry")
    ok = client.post("/api/v1/collect/inquiry", json={"email": "a@example.org", "message": "x"}, headers=scoped)
    assert ok.status_code == 201
