"""Holds (RET-3): operators keep data past its purposes for a declared reason, isolated — only the hold's own
purpose may touch it — until the hold ends; then what nothing else keeps is deleted, and an erased subject's key
goes with its last item."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.support.api import REGISTRATION, operator_headers, register, service_headers
from vowkeep import clock
from vowkeep.retention.sweeper import sweep
from vowkeep.store.tables import audit_log, items, subjects
from vowkeep.vault.actors import Actor
from vowkeep.worker import Worker

pytestmark = pytest.mark.postgres

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _fields(instance, subject_id) -> set[str]:
    with instance.engine.connect() as conn:
        return set(conn.execute(select(items.c.field).where(items.c.subject_id == subject_id)).scalars())


def _inquiry(client, email="bob@example.org", **extra) -> str:
    body = {"email": email, "message": "I was charged twice", **extra}
    response = client.post("/api/v1/collect/inquiry", json=body, headers=client.service)
    assert response.status_code == 201, response.text
    return response.json()["subject_id"]


def _place(client, headers, subject_id, hold="fraud_investigation", **extra):
    return client.post("/api/v1/holds", json={"subject_id": subject_id, "hold": hold, **extra}, headers=headers)


def test_ret3_a_hold_isolates_its_items_for_its_own_purpose_only(client, instance):
    """RET-3: with a fraud hold on a subject's contact data, support may no longer read it — fraud prevention may;
    the hold is listed with its declared reason and end, and placing it is audited."""
    clock.travel_to(T0)
    subject_id = register(client)
    officer = operator_headers(client, instance, "privacy_officer", "olga")
    placed = _place(client, officer, subject_id)
    assert placed.status_code == 201, placed.text
    hold = placed.json()
    assert (hold["hold"], hold["purpose"], hold["reason"]) == (
        "fraud_investigation",
        "fraud_prevention",
        "Fraud investigation",
    )
    assert hold["categories"] == ["user.name", "user.contact"] and hold["items_held"] == 4
    assert hold["ends_at"] == "2026-04-02T09:00:00+00:00" and hold["active"] is True
    support = operator_headers(client, instance, "support_agent", "sam")
    refused = client.get(f"/api/v1/subjects/{subject_id}", params={"purpose": "support"}, headers=support)
    assert refused.status_code == 403 and refused.json()["rule"] == "held"
    # What the hold does not cover stays in use: the account's password is not held.
    own = client.get(
        f"/api/v1/subjects/{subject_id}",
        params={"purpose": "account", "categories": "user.authorization.password"},
        headers=support,
    )
    assert own.status_code == 200
    allowed = client.get(f"/api/v1/subjects/{subject_id}", params={"purpose": "fraud_prevention"}, headers=officer)
    assert allowed.status_code == 200
    assert {i["field"] for i in allowed.json()["items"]} == {"email", "first_name", "last_name", "phone"}
    listed = client.get("/api/v1/holds", params={"subject_id": subject_id}, headers=officer).json()["holds"]
    assert [h["id"] for h in listed] == [hold["id"]]
    instance.vault.settle_audit()
    with instance.engine.connect() as conn:
        record = conn.execute(select(audit_log).where(audit_log.c.action == "hold")).one()
    assert (record.actor, record.subject_id, record.purpose) == ("operator:olga", subject_id, "fraud_prevention")


def test_ret3_holds_need_the_permission_and_a_declared_hold(client, instance):
    subject_id = register(client)
    support = operator_headers(client, instance, "support_agent")
    assert _place(client, support, subject_id).status_code == 403
    assert client.get("/api/v1/holds", headers=support).status_code == 403
    key = service_headers(instance, "holds")
    unknown = _place(client, key, subject_id, hold="tax_record")
    assert unknown.status_code == 422
    assert unknown.json()["message"] == (
        "'tax_record' is not a declared hold (declared: fraud_investigation, legal_claim)"
    )
    outside = _place(client, key, subject_id, categories=["user.authorization.password"])
    assert outside.status_code == 422 and "does not cover user.authorization.password" in outside.json()["message"]
    too_long = _place(client, key, subject_id, ends_at=(clock.now() + timedelta(days=40)).isoformat())
    assert too_long.status_code == 422 and "lasts at most P1M (1 month)" in too_long.json()["message"]
    past = _place(client, key, subject_id, ends_at=(clock.now() - timedelta(days=1)).isoformat())
    assert past.status_code == 422
    missing = _place(client, key, "0" * 32)
    assert missing.status_code == 404
    assert _place(client, key, subject_id, categories=["user.contact.email"]).status_code == 201


def test_ret3_rig3_held_items_outlive_erasure_then_go_with_the_key_when_the_hold_runs_out(client, instance):
    """RET-3, RIG-3, RET-4: an erasure keeps what a legal claim holds; the sweeper leaves it while the hold runs,
    and once it has run out (no operator needed) deletes it, closes the subject and destroys its key."""
    clock.travel_to(T0)
    subject_id = register(client)
    key = service_headers(instance, "holds")
    ends = T0 + timedelta(days=10)
    assert _place(client, key, subject_id, hold="legal_claim", ends_at=ends.isoformat()).status_code == 201
    with instance.vault.transaction() as conn:
        erased = instance.vault.erase_subject(conn, actor=Actor.system("rights"), subject_id=subject_id, reason="x")
    assert {h.field for h in erased.held} == {"email", "first_name", "last_name", "phone"}
    clock.travel_to(ends - timedelta(minutes=1))
    assert sweep(instance.vault).items_held == 4
    assert instance.keystore.has_data_key(subject_id)
    clock.travel_to(ends + timedelta(seconds=1))
    # The hold's own end queued a sweep of this subject.
    Worker(instance).run_until_idle()
    assert _fields(instance, subject_id) == set()
    assert not instance.keystore.has_data_key(subject_id)
    instance.vault.settle_audit()
    with instance.engine.connect() as conn:
        rules = set(
            conn.execute(
                select(audit_log.c.rule).where(audit_log.c.actor == "system:sweeper", audit_log.c.action == "expire")
            ).scalars()
        )
    assert rules == {"hold-ended"}


def test_ret3_ending_a_hold_early_deletes_what_nothing_else_keeps(client, instance):
    """RET-3: `DELETE /api/v1/holds/{id}` ends a hold (audited); expired items it kept go at once — unless another
    hold still keeps them."""
    clock.travel_to(T0)
    asker = _inquiry(client)
    clock.travel_to(T0 + timedelta(days=20))
    officer = operator_headers(client, instance, "privacy_officer", "olga")
    fraud = _place(client, officer, asker).json()
    legal = _place(client, officer, asker, hold="legal_claim", categories=["user.content"]).json()
    clock.travel_to(T0 + timedelta(days=31, minutes=1))  # the inquiry's month is over; both holds still run
    officer = operator_headers(client, instance, "privacy_officer", "olga2")
    assert sweep(instance.vault).items_held == 2
    ended = client.delete(f"/api/v1/holds/{fraud['id']}", headers=officer)
    assert ended.status_code == 200 and ended.json()["released_by"] == "operator:olga2"
    assert ended.json()["active"] is False
    Worker(instance).run_until_idle()
    assert _fields(instance, asker) == {"message"}  # the legal claim still holds the message
    again = client.delete(f"/api/v1/holds/{fraud['id']}", headers=officer)
    assert again.status_code == 409
    assert client.delete(f"/api/v1/holds/{legal['id']}", headers=officer).status_code == 200
    Worker(instance).run_until_idle()
    assert _fields(instance, asker) == set()
    instance.vault.settle_audit()
    with instance.engine.connect() as conn:
        state = conn.execute(select(subjects.c.state).where(subjects.c.id == asker)).scalar_one()
        ends = conn.execute(select(audit_log).where(audit_log.c.action == "hold-end")).all()
    assert state == "erased" and not instance.keystore.has_data_key(asker)
    assert [(r.actor, r.detail["early"]) for r in ends] == [("operator:olga2", True), ("operator:olga2", True)]
    active = client.get("/api/v1/holds", params={"active": "true"}, headers=officer).json()["holds"]
    assert active == []
    ended_list = client.get("/api/v1/holds", params={"active": "false"}, headers=officer).json()["holds"]
    assert len(ended_list) == 2


def test_ret3_when_a_hold_ends_a_live_purpose_keeps_its_data(client, instance):
    """RET-3: a hold on an open account's contact data ends; the account still needs that data, so it stays."""
    clock.travel_to(T0)
    subject_id = register(client, {**REGISTRATION, "email": "open@example.org"})
    officer = operator_headers(client, instance, "privacy_officer")
    hold = _place(client, officer, subject_id).json()
    assert client.delete(f"/api/v1/holds/{hold['id']}", headers=officer).status_code == 200
    Worker(instance).run_until_idle()
    assert len(_fields(instance, subject_id)) == 6
    support = operator_headers(client, instance, "support_agent")
    again = client.get(f"/api/v1/subjects/{subject_id}", params={"purpose": "support"}, headers=support)
    assert again.status_code == 200


def test_ret3_an_erased_subject_with_nothing_left_cannot_be_held(client, instance):
    subject_id = _inquiry(client)
    with instance.vault.transaction() as conn:
        instance.vault.erase_subject(conn, actor=Actor.system("rights"), subject_id=subject_id, reason="x")
    refused = _place(client, service_headers(instance, "holds"), subject_id)
    assert refused.status_code == 422
    assert refused.json()["message"] == "the subject was erased and nothing of it is left to hold"
