"""The gate: every read names a purpose and an actor, and is allowed only where the declaration says so."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.support.api import REGISTRATION, operator_headers, register, service_headers
from vowkeep.store.tables import audit_log

pytestmark = pytest.mark.postgres


def _last_audit(instance):
    instance.vault.settle_audit()
    with instance.engine.connect() as conn:
        return conn.execute(select(audit_log).order_by(audit_log.c.seq.desc()).limit(1)).first()


def test_use1_read_for_a_declared_purpose_returns_values_and_is_audited(client, instance):
    """USE-1: an allowed read returns the purpose's categories and leaves an audit record naming them."""
    subject_id = register(client)
    headers = operator_headers(client, instance, "support_agent", "sam")
    response = client.get(f"/api/v1/subjects/{subject_id}", params={"purpose": "support"}, headers=headers)
    assert response.status_code == 200, response.text
    values = {i["field"]: i["value"] for i in response.json()["items"]}
    assert values == {"email": REGISTRATION["email"], "first_name": "Ada", "last_name": "Lovelace"}
    record = _last_audit(instance)
    assert (record.actor, record.action, record.purpose, record.decision) == (
        "operator:sam",
        "read",
        "support",
        "allow",
    )
    assert record.categories == "user.contact.email,user.name.first,user.name.last"
    assert "Ada" not in str(record.detail)


def test_use1_purpose_must_declare_the_category(client, instance):
    """USE-1: reading a category the purpose does not declare is refused with the rule, and audited."""
    subject_id = register(client)
    headers = operator_headers(client, instance, "support_agent")
    response = client.get(
        f"/api/v1/subjects/{subject_id}",
        params={"purpose": "support", "categories": "user.demographic.date_of_birth"},
        headers=headers,
    )
    assert response.status_code == 403
    assert response.json() == {
        "error": "denied",
        "rule": "purpose-category",
        "message": "purpose 'support' does not declare user.demographic.date_of_birth",
    }
    record = _last_audit(instance)
    assert (record.decision, record.rule, record.subject_id) == ("deny", "purpose-category", subject_id)


def test_use1_unknown_purpose_is_refused(client, instance):
    subject_id = register(client)
    headers = service_headers(instance, "*")
    response = client.get(f"/api/v1/subjects/{subject_id}", params={"purpose": "curiosity"}, headers=headers)
    assert response.status_code == 403
    assert response.json()["rule"] == "unknown-purpose"


# Each role of the sample declaration × each purpose: allowed exactly when the role serves the purpose (USE-5).
ROLES = {
    "support_agent": {"account", "support", "service_messages"},
    "marketer": {"marketing", "partner_offers", "contests"},
    "privacy_officer": {"fraud_prevention", "legal_compliance"},
    "admin": set(),
}
PURPOSES = ["account", "support", "service_messages", "marketing", "fraud_prevention", "analytics"]


def _with_marketing_and_contest_data(client, subject_email=REGISTRATION["email"]):
    """Data collected for marketing (an import) and for contests (an entry), on the registered subject."""
    imported = client.post(
        "/api/v1/collect/other_sources",
        json={"source": "public databases", "email": subject_email, "first_name": "Ada", "profile": "Engineer"},
        headers=client.service,
    )
    entered = client.post(
        "/api/v1/collect/contest_entry",
        json={"email": subject_email, "first_name": "Ada", "last_name": "Lovelace", "age_attestation": True},
        headers=client.service,
    )
    assert imported.status_code == entered.status_code == 201


@pytest.mark.parametrize("role", sorted(ROLES))
def test_use5_roles_serve_only_their_purposes(client, instance, role):
    """USE-5 / SEC-2 authorization matrix: each role × purpose is allowed exactly as the declaration says."""
    subject_id = register(client)
    _with_marketing_and_contest_data(client)
    headers = operator_headers(client, instance, role)
    for purpose in PURPOSES:
        response = client.get(f"/api/v1/subjects/{subject_id}", params={"purpose": purpose}, headers=headers)
        if purpose in ROLES[role]:
            # Allowed by role; marketing is opt-out, so with no objection it is allowed too.
            assert response.status_code == 200, (role, purpose, response.text)
        else:
            assert response.status_code == 403, (role, purpose)
            assert response.json()["rule"] == "role-purpose", (role, purpose, response.json())


def test_use5_api_key_scopes_limit_purposes(client, instance):
    """SEC-2: a service key reads only for the purposes in its scopes."""
    subject_id = register(client)
    scoped = service_headers(instance, "purpose:account")
    assert (
        client.get(f"/api/v1/subjects/{subject_id}", params={"purpose": "account"}, headers=scoped).status_code == 200
    )
    denied = client.get(f"/api/v1/subjects/{subject_id}", params={"purpose": "support"}, headers=scoped)
    assert denied.status_code == 403 and denied.json()["rule"] == "api-key-scope"


def test_sec2_no_token_or_bad_token_is_401(client):
    subject_id = register(client)
    assert client.get(f"/api/v1/subjects/{subject_id}", params={"purpose": "account"}).status_code == 401
    for token in ("vk_nope_nope", "garbage", "vk_" + "a" * 300):
        response = client.get(
            f"/api/v1/subjects/{subject_id}",
            params={"purpose": "account"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 401


def test_sec2_revoked_key_and_disabled_operator_lose_access(client, instance):
    from vowkeep.vault import apikeys, operators

    subject_id = register(client)
    headers = service_headers(instance, "purpose:account", name="revokable")
    op = operator_headers(client, instance, "support_agent", "temp")
    with instance.engine.begin() as conn:
        prefix = next(k.prefix for k in apikeys.list_all(conn) if k.name == "revokable")
        apikeys.revoke(conn, prefix=prefix)
        operators.disable(conn, username="temp")
    assert (
        client.get(f"/api/v1/subjects/{subject_id}", params={"purpose": "account"}, headers=headers).status_code == 401
    )
    assert client.get(f"/api/v1/subjects/{subject_id}", params={"purpose": "account"}, headers=op).status_code == 401


def test_use2_financial_data_only_for_completing_a_transaction(client, instance):
    """USE-2: card token data opens for the transaction purpose and for nothing else, whatever the key's scopes."""
    client.post(
        "/api/v1/collect/purchase",
        json={
            "email": REGISTRATION["email"],
            "card_token": "tok_1N3fKx2eZvKYlo2C",
            "card_brand": "visa",
            "card_last4": "4242",
        },
        headers=client.service,
    )
    subject_id = register(client)
    master = service_headers(instance, "*")
    ok = client.get(f"/api/v1/subjects/{subject_id}", params={"purpose": "transaction"}, headers=master)
    assert ok.status_code == 200
    assert {i["field"] for i in ok.json()["items"]} >= {"card_token", "card_last4"}
    for purpose in ("fraud_prevention", "marketing", "account"):
        response = client.get(
            f"/api/v1/subjects/{subject_id}",
            params={"purpose": purpose, "categories": "user.payment.card_token"},
            headers=master,
        )
        assert response.status_code == 403
        assert response.json()["rule"] in {"purpose-category", "financial-transaction-only"}


def test_use2_gate_refuses_financial_data_even_if_a_purpose_declared_it(tmp_path, sample_policy_path):
    """USE-2 is enforced by the gate itself, not only by lint: a purpose declaring card data still cannot read it."""
    from vowkeep.policy import load_file
    from vowkeep.vault.actors import Actor
    from vowkeep.vault.decisions import decide_declared

    policy = load_file(sample_policy_path).policy
    policy.purpose_by_key["fraud_prevention"].categories.append("user.payment.card_token")
    decision = decide_declared(policy, Actor.system("t"), "fraud_prevention", ("user.payment.card_token",))
    assert (decision.allowed, decision.rule) == (False, "financial-transaction-only")


def test_find_by_email_uses_the_blind_index(client, instance):
    subject_id = register(client)
    headers = operator_headers(client, instance, "support_agent")
    found = client.get(
        "/api/v1/subjects", params={"purpose": "support", "email": "Ada.Lovelace@Example.org"}, headers=headers
    )
    assert found.status_code == 200
    assert found.json() == {"subjects": [subject_id]}
    by_phone = client.get(
        "/api/v1/subjects", params={"purpose": "account", "phone": "+44 20 7946 0958"}, headers=headers
    )
    assert by_phone.json() == {"subjects": [subject_id]}
    record = _last_audit(instance)
    assert (record.action, record.detail) == ("lookup", {"matches": 1})


def test_rig2_rectification_is_validated_and_audited(client, instance):
    """RIG-2: a correction replaces the value everywhere the field is held, after the same validation."""
    subject_id = register(client)
    headers = operator_headers(client, instance, "support_agent")
    bad = client.patch(
        f"/api/v1/subjects/{subject_id}", json={"purpose": "account", "values": {"email": "nope"}}, headers=headers
    )
    assert bad.status_code == 422
    ok = client.patch(
        f"/api/v1/subjects/{subject_id}",
        json={"purpose": "account", "values": {"email": "ada@lovelace.example", "last_name": "King"}},
        headers=headers,
    )
    assert ok.status_code == 200, ok.text
    read = client.get(f"/api/v1/subjects/{subject_id}", params={"purpose": "account"}, headers=headers)
    values = {i["field"]: i["value"] for i in read.json()["items"]}
    assert values["email"] == "ada@lovelace.example" and values["last_name"] == "King"
    assert (_last_audit(instance).action) == "read"
    found = client.get(
        "/api/v1/subjects", params={"purpose": "account", "email": "ada@lovelace.example"}, headers=headers
    )
    assert found.json()["subjects"] == [subject_id]
    card = client.patch(
        f"/api/v1/subjects/{subject_id}",
        json={"purpose": "account", "values": {"last_name": "4111111111111111"}},
        headers=headers,
    )
    assert card.status_code == 422 and card.json()["problems"][0]["rule"] == "card-number"


def test_rig4_deactivated_subject_is_not_processed(client, instance):
    """RIG-4: a deactivated subject's data is refused for every purpose; reactivation restores it."""
    from vowkeep.vault.actors import Actor

    subject_id = register(client)
    headers = operator_headers(client, instance, "support_agent")
    with instance.vault.transaction() as conn:
        instance.vault.set_state(
            conn, actor=Actor.system("test"), subject_id=subject_id, state="deactivated", reason="subject asked"
        )
    response = client.get(f"/api/v1/subjects/{subject_id}", params={"purpose": "account"}, headers=headers)
    assert response.status_code == 403 and response.json()["rule"] == "subject-deactivated"
    with instance.vault.transaction() as conn:
        instance.vault.set_state(
            conn, actor=Actor.system("test"), subject_id=subject_id, state="active", reason="subject came back"
        )
    assert (
        client.get(f"/api/v1/subjects/{subject_id}", params={"purpose": "account"}, headers=headers).status_code == 200
    )


def test_use3_consent_state_gates_consent_based_purposes(client, instance):
    """USE-3 (gate part): opt-in needs a given consent; opt-out stops at an objection; withdrawal acts at once."""
    from vowkeep.consent import ledger

    subject_id = register(client)
    _with_marketing_and_contest_data(client)
    marketer = operator_headers(client, instance, "marketer")
    assert (
        client.get(f"/api/v1/subjects/{subject_id}", params={"purpose": "contests"}, headers=marketer).json()["rule"]
        == "consent-required"
    )
    assert (
        client.get(f"/api/v1/subjects/{subject_id}", params={"purpose": "marketing"}, headers=marketer).status_code
        == 200
    )
    with instance.engine.begin() as conn:
        ledger.record(conn, subject_id=subject_id, purpose="contests", choice="given", method="form", policy_version=1)
        ledger.record(
            conn, subject_id=subject_id, purpose="marketing", choice="refused", method="email_link", policy_version=1
        )
    assert (
        client.get(f"/api/v1/subjects/{subject_id}", params={"purpose": "contests"}, headers=marketer).status_code
        == 200
    )
    objected = client.get(f"/api/v1/subjects/{subject_id}", params={"purpose": "marketing"}, headers=marketer)
    assert objected.status_code == 403 and objected.json()["rule"] == "objection"
    with instance.engine.begin() as conn:
        ledger.record(
            conn, subject_id=subject_id, purpose="contests", choice="withdrawn", method="center", policy_version=1
        )
    assert (
        client.get(f"/api/v1/subjects/{subject_id}", params={"purpose": "contests"}, headers=marketer).json()["rule"]
        == "consent-required"
    )


def test_unknown_subject_is_404(client, instance):
    headers = service_headers(instance, "*")
    assert client.get("/api/v1/subjects/" + "0" * 32, params={"purpose": "account"}, headers=headers).status_code == 404


def test_rig3_erase_subject_keeps_only_held_items_and_shreds_the_key_when_nothing_is_held(client, instance):
    """RIG-3 (gate part): an erasure deletes every item not under an open hold; held items stay isolated and are
    listed with their hold's reason and end; with nothing held the data key is destroyed after commit."""
    import uuid
    from datetime import timedelta

    from sqlalchemy import insert

    from vowkeep import clock
    from vowkeep.store.tables import holds, items
    from vowkeep.vault.actors import Actor

    held_subject = register(client)
    free_subject = register(client, {**REGISTRATION, "email": "free@example.org"})
    ends = clock.now() + timedelta(days=20)
    with instance.engine.begin() as conn:
        conn.execute(
            insert(holds).values(
                id=uuid.uuid4().hex,
                subject_id=held_subject,
                hold_key="fraud_investigation",
                purpose="fraud_prevention",
                categories="user.contact",
                reason="Fraud investigation",
                placed_by="operator:x",
                placed_at=clock.now(),
                ends_at=ends,
            )
        )
    system = Actor.system("rights")
    with instance.vault.transaction() as conn:
        result = instance.vault.erase_subject(conn, actor=system, subject_id=held_subject, reason="erasure-request")
    assert [(h.field, h.reason) for h in result.held] == [
        ("email", "Fraud investigation"),
        ("phone", "Fraud investigation"),
    ]
    assert result.deleted == 4 and not result.key_destroyed
    assert instance.keystore.has_data_key(held_subject)
    support = operator_headers(client, instance, "support_agent")
    gone = client.get(f"/api/v1/subjects/{held_subject}", params={"purpose": "account"}, headers=support)
    assert gone.status_code == 403 and gone.json()["rule"] in {"held", "subject-erased"}
    officer = operator_headers(client, instance, "privacy_officer")
    kept = client.get(f"/api/v1/subjects/{held_subject}", params={"purpose": "fraud_prevention"}, headers=officer)
    assert kept.status_code == 200 and {i["field"] for i in kept.json()["items"]} == {"email", "phone"}

    with instance.vault.transaction() as conn:
        result = instance.vault.erase_subject(conn, actor=system, subject_id=free_subject, reason="erasure-request")
    assert result.held == [] and result.key_destroyed
    assert not instance.keystore.has_data_key(free_subject)
    with instance.engine.connect() as conn:
        assert conn.execute(select(items).where(items.c.subject_id == free_subject)).first() is None


def test_col7_choice_based_purposes_use_only_what_was_collected_for_them(client, instance):
    """COL-1 / COL-7 / USE-3: an address given for one purpose is not used for a consent-based or marketing purpose
    it was not collected for; purposes of the contract or of legitimate interest use any declared category."""
    subject_id = register(client)
    marketer = operator_headers(client, instance, "marketer")
    refused = client.get(f"/api/v1/subjects/{subject_id}", params={"purpose": "marketing"}, headers=marketer)
    assert refused.status_code == 403
    assert refused.json() == {
        "error": "denied",
        "rule": "collection-purpose",
        "message": "the subject's user.contact.email, user.name.first was not collected for 'marketing'",
    }
    support = operator_headers(client, instance, "support_agent")
    assert (
        client.get(f"/api/v1/subjects/{subject_id}", params={"purpose": "support"}, headers=support).status_code == 200
    )
    client.post(
        "/api/v1/collect/other_sources",
        json={"source": "public databases", "email": REGISTRATION["email"], "first_name": "Augusta"},
        headers=client.service,
    )
    allowed = client.get(f"/api/v1/subjects/{subject_id}", params={"purpose": "marketing"}, headers=marketer)
    assert allowed.status_code == 200
    assert {(i["field"], i["value"], i["collection_point"]) for i in allowed.json()["items"]} == {
        ("email", REGISTRATION["email"], "other_sources"),
        ("first_name", "Augusta", "other_sources"),
    }
