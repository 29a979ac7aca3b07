"""Fulfilling requests as a person meets it: access as JSON and as a page (RIG-1), portability (RIG-7), erasure
with holds and the suppression list (RIG-3, RIG-5), deactivation that can be undone (RIG-4), objection (USE-3),
correction (RIG-2). Real SMTP, HTTP, and both databases."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from tests.support.api import REGISTRATION, operator_headers, register, service_headers
from tests.support.rights import (
    auth,
    deliver,
    file_request,
    filed_and_verified,
    link_code_in,
    mailbox,
    outcome_mail,
)
from vowkeep import clock
from vowkeep.comms import suppression
from vowkeep.consent import ledger
from vowkeep.store.tables import blind_index, holds, items, subjects

pytestmark = pytest.mark.postgres
EMAIL = REGISTRATION["email"]


def _approve(client, instance, request_id):
    reviewer = operator_headers(client, instance, "privacy_officer", f"olga-{request_id[:6]}")
    response = client.post(f"/api/v1/requests/{request_id}/approve", headers=reviewer)
    assert response.status_code == 200, response.text
    return response.json()


def _place_hold(instance, subject_id, *, days=20, categories="user.contact"):
    ends = clock.now() + timedelta(days=days)
    with instance.engine.begin() as conn:
        conn.execute(
            insert(holds).values(
                id=uuid.uuid4().hex,
                subject_id=subject_id,
                hold_key="fraud_investigation",
                purpose="fraud_prevention",
                categories=categories,
                reason="Fraud investigation",
                placed_by="operator:olga",
                placed_at=clock.now(),
                ends_at=ends,
            )
        )
    return ends


def test_rig1_access_report_holds_everything_as_json(client, instance):
    """RIG-1: values, categories, purposes, sources, collection times, consents, disclosures, recipients and
    retention end dates — for every point the person gave data through."""
    subject_id = register(client)
    message = client.post(
        "/api/v1/collect/inquiry", json={"email": EMAIL, "message": "Where is my order?"}, headers=client.service
    )
    assert message.json()["subject_id"] == subject_id
    with instance.vault.transaction() as conn:
        ledger.record(
            conn,
            subject_id=subject_id,
            purpose="partner_offers",
            choice="given",
            method="form",
            policy_version=1,
        )
    hoster = service_headers(instance, "disclosures", "purpose:account", name="backup-sync")
    shared = client.post(
        "/api/v1/disclosures",
        json={
            "recipient": "hosting",
            "purpose": "account",
            "categories": ["user.contact.email"],
            "subject_ids": [subject_id],
        },
        headers=hoster,
    )
    assert shared.status_code == 201, shared.text
    with mailbox(instance) as inbox:
        request_id, token = filed_and_verified(client, instance, inbox, "access", EMAIL)
        not_yet = client.get(f"/api/v1/requests/{request_id}/report", headers=auth(token))
        assert not_yet.status_code == 409
        approved = _approve(client, instance, request_id)
        assert approved["state"] == "fulfilled" and approved["outcome"]["items"] == 8
        deliver(instance)
        told = outcome_mail(inbox, EMAIL)
    assert told["Subject"] == "Your access request: done"
    response = client.get(f"/api/v1/requests/{request_id}/report", headers=auth(token))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["format"] == "vowkeep-access/1" and body["organization"] == "WS Outsourcer"
    [mine] = body["subjects"]
    assert mine["subject_id"] == subject_id and mine["state"] == "active"
    values = {(i["collection_point"], i["field"]): i for i in mine["items"]}
    assert values[("registration", "first_name")]["value"] == "Ada"
    assert values[("inquiry", "message")]["value"] == "Where is my order?"
    email = values[("registration", "email")]
    assert email["category"] == "user.contact.email" and email["category_label"] == "E-mail address"
    assert email["purposes"] == ["account", "service_messages", "partner_offers"]
    assert email["collected_at"] and email["source"] is None
    # Retention: a month after account closure (not closed: no date yet); an inquiry a month after last activity.
    assert {r["rule"] for r in email["retention"]} >= {"1 month after your account is closed"}
    assert email["retention_ends_at"] is None
    inquiry = values[("inquiry", "message")]
    assert inquiry["retention"][0]["rule"] == "1 month after your last activity"
    assert inquiry["retention_ends_at"] is not None
    assert [(c["purpose"], c["choice"]) for c in mine["consents"]] == [("partner_offers", "given")]
    assert [(d["recipient"], d["categories"]) for d in mine["disclosures"]] == [("hosting", ["user.contact.email"])]
    recipients = {r["key"] for r in mine["recipients"]}
    assert {"hosting", "email_delivery", "business_partners"} <= recipients
    assert "ad_companies" not in recipients  # aggregates only


def test_rig1_access_report_is_a_readable_page_behind_the_mailed_link(client, instance):
    """RIG-1: the outcome mail's link opens a CSRF-protected form; the code it carries gives this browser the
    report as a page, rendered from the same data, escaped."""
    register(client)
    client.post("/api/v1/collect/inquiry", json={"email": EMAIL, "message": "<b>bold</b> & co"}, headers=client.service)
    with mailbox(instance) as inbox:
        filed = file_request(client, "access", EMAIL)
        deliver(instance)
        code = link_code_in(inbox.messages[-1])
        form = client.get(f"/requests/{filed['id']}/verify", params={"code": code})
        assert form.status_code == 200 and f'value="{code}"' in form.text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
        refused = client.post(f"/requests/{filed['id']}/verify", data={"code": code, "csrf_token": "x" * 43})
        assert refused.status_code == 403
        confirmed = client.post(
            f"/requests/{filed['id']}/verify", data={"code": code, "csrf_token": csrf}, follow_redirects=False
        )
        assert confirmed.status_code == 303 and confirmed.headers["location"] == f"/requests/{filed['id']}"
        assert "httponly" in confirmed.headers["set-cookie"].lower()
        status = client.get(f"/requests/{filed['id']}")
        assert status.status_code == 200 and "in review" in status.text
        _approve(client, instance, filed["id"])
        deliver(instance)
        view_code = link_code_in(outcome_mail(inbox, EMAIL))
    # A fresh browser (no cookie) with the code from the outcome mail.
    client.cookies.clear()
    assert client.get(f"/requests/{filed['id']}/report").status_code == 403
    form = client.get(f"/requests/{filed['id']}/verify", params={"code": view_code})
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    client.post(f"/requests/{filed['id']}/verify", data={"code": view_code, "csrf_token": csrf})
    page = client.get(f"/requests/{filed['id']}/report")
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert "The data we hold about you" in page.text
    assert "Ada" in page.text and "E-mail address" in page.text and "Answering your questions" in page.text
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in page.text and "<b>bold</b>" not in page.text
    assert page.headers["cache-control"] == "no-store"
    as_json = client.get(f"/requests/{filed['id']}/report.json")
    assert as_json.status_code == 200 and as_json.json()["subjects"][0]["subject_id"]


def test_rig7_portability_is_machine_readable_json_and_csv(client, instance):
    """RIG-7: the portable copy: values with field, category and origin, as JSON and as CSV."""
    subject_id = register(client)
    with mailbox(instance) as inbox:
        request_id, token = filed_and_verified(client, instance, inbox, "portability", EMAIL)
        _approve(client, instance, request_id)
    as_json = client.get(f"/api/v1/requests/{request_id}/report", headers=auth(token))
    assert as_json.status_code == 200
    body = as_json.json()
    assert body["format"] == "vowkeep-portability/1"
    [mine] = body["subjects"]
    fields = {i["field"]: i for i in mine["items"]}
    assert fields["email"]["value"] == EMAIL and fields["phone"]["value"] == REGISTRATION["phone"]
    assert set(fields["email"]) == {
        "field",
        "category",
        "value",
        "collection_point",
        "source",
        "collected_at",
        "updated_at",
    }
    as_csv = client.get(f"/api/v1/requests/{request_id}/report", params={"format": "csv"}, headers=auth(token))
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert {(r["subject_id"], r["field"], r["value"]) for r in rows} >= {
        (subject_id, "email", EMAIL),
        (subject_id, "last_name", "Lovelace"),
    }
    assert len(rows) == len(mine["items"])


def test_rig3_erasure_deletes_what_is_not_held_and_lists_what_is(client, instance):
    """RIG-3: an erasure deletes every item not under a hold; held items are listed to the person with the hold's
    reason and end date; the data key survives only while something is held."""
    subject_id = register(client)
    ends = _place_hold(instance, subject_id)
    with mailbox(instance) as inbox:
        request_id, token = filed_and_verified(client, instance, inbox, "erase", EMAIL)
        done = _approve(client, instance, request_id)
        deliver(instance)
        told = outcome_mail(inbox, EMAIL)
    outcome = done["outcome"]
    assert outcome["deleted"] == 4 and outcome["key_destroyed"] is False
    assert [(h["field"], h["reason"], h["ends_at"][:10]) for h in outcome["held"]] == [
        ("email", "Fraud investigation", ends.date().isoformat()),
        ("phone", "Fraud investigation", ends.date().isoformat()),
    ]
    text = told.get_content()
    assert told["Subject"] == "Your erasure request: done"
    assert f"user.contact.email (email): Fraud investigation, until {ends.date().isoformat()}" in text
    seen = client.get(f"/api/v1/requests/{request_id}", headers=auth(token)).json()
    assert seen["outcome"]["held"] == outcome["held"]
    with instance.engine.connect() as conn:
        left = conn.execute(select(items.c.field).where(items.c.subject_id == subject_id)).scalars().all()
        state = conn.execute(select(subjects.c.state).where(subjects.c.id == subject_id)).scalar()
    assert sorted(left) == ["email", "phone"] and state == "erased"
    assert instance.keystore.has_data_key(subject_id)


def test_rig3_erasure_without_holds_destroys_the_key_and_keeps_the_marketing_opt_out(client, instance):
    """RIG-3, RIG-5: nothing held — every item and index row goes and the data key is destroyed; an address that
    opted out of marketing before stays suppressed (a blind-index entry, no plaintext)."""
    subject_id = register(client)
    with instance.engine.begin() as conn:
        suppression.suppress(conn, vault=instance.vault, address=EMAIL, method="unsubscribe")
    with mailbox(instance) as inbox:
        request_id, _ = filed_and_verified(client, instance, inbox, "erase", EMAIL)
        outcome = _approve(client, instance, request_id)["outcome"]
        deliver(instance)
        assert "the key that protected your data was destroyed" in outcome_mail(inbox, EMAIL).get_content()
    assert outcome["held"] == [] and outcome["key_destroyed"] is True and outcome["deleted"] == 6
    assert not instance.keystore.has_data_key(subject_id)
    with instance.engine.connect() as conn:
        assert conn.execute(select(items).where(items.c.subject_id == subject_id)).first() is None
        assert conn.execute(select(blind_index).where(blind_index.c.subject_id == subject_id)).first() is None
        assert suppression.is_suppressed(conn, vault=instance.vault, address=EMAIL, kind="marketing")
    # The person can no longer be found, and a new request about them matches no one.
    support = operator_headers(client, instance, "support_agent")
    found = client.get("/api/v1/subjects", params={"purpose": "support", "email": EMAIL}, headers=support)
    assert found.json()["subjects"] == []


def test_rig3_erasure_shreds_an_earlier_access_report(client, instance):
    """RIG-3: a report prepared for an earlier access request is sealed under the person's key: the erasure makes
    it unreadable too."""
    register(client)
    with mailbox(instance) as inbox:
        access_id, access_token = filed_and_verified(client, instance, inbox, "access", EMAIL)
        _approve(client, instance, access_id)
        assert client.get(f"/api/v1/requests/{access_id}/report", headers=auth(access_token)).status_code == 200
        erase_id, _ = filed_and_verified(client, instance, inbox, "erase", EMAIL)
        _approve(client, instance, erase_id)
    assert client.get(f"/api/v1/requests/{access_id}/report", headers=auth(access_token)).status_code == 410


def test_rig4_deactivation_stops_processing_and_reactivation_restores_it(client, instance):
    """RIG-4: a deactivated account is not processed (reads and new submissions are refused) but nothing is
    deleted; asking again reactivates it with its data intact."""
    subject_id = register(client)
    support = operator_headers(client, instance, "support_agent")
    with mailbox(instance) as inbox:
        request_id, _ = filed_and_verified(client, instance, inbox, "deactivate", EMAIL)
        assert _approve(client, instance, request_id)["outcome"]["states"] == {subject_id: "deactivated"}
        read = client.get(f"/api/v1/subjects/{subject_id}", params={"purpose": "support"}, headers=support)
        assert read.status_code == 403 and read.json()["rule"] == "subject-deactivated"
        again = client.post(
            "/api/v1/collect/inquiry", json={"email": EMAIL, "message": "hello"}, headers=client.service
        )
        assert again.status_code == 403 and again.json()["rule"] == "subject-deactivated"
        with instance.engine.connect() as conn:
            assert conn.execute(select(items).where(items.c.subject_id == subject_id)).first() is not None
        back_id, _ = filed_and_verified(client, instance, inbox, "reactivate", EMAIL)
        _approve(client, instance, back_id)
        deliver(instance)
        assert "active again" in outcome_mail(inbox, EMAIL).get_content()
    read = client.get(f"/api/v1/subjects/{subject_id}", params={"purpose": "support"}, headers=support)
    assert read.status_code == 200
    assert {i["field"]: i["value"] for i in read.json()["items"]}["first_name"] == "Ada"


def test_use3_objection_is_a_consent_refusal_the_gate_honours(client, instance):
    """An objection to an opt-out purpose (marketing) is recorded in the consent ledger and the gate refuses the
    purpose from then on (USE-3); the address is also suppressed for marketing (RIG-5). Objecting to a purpose
    that rests on a contract is refused with an explanation."""
    subject_id = register(client)
    importer = service_headers(instance, "collect:other_sources")
    imported = client.post(
        "/api/v1/collect/other_sources",
        json={"source": "public databases", "email": EMAIL, "first_name": "Ada", "profile": "likes engines"},
        headers=importer,
    )
    assert imported.status_code == 201 and imported.json()["subject_id"] == subject_id
    marketer = operator_headers(client, instance, "marketer")
    assert (
        client.get(f"/api/v1/subjects/{subject_id}", params={"purpose": "marketing"}, headers=marketer).status_code
        == 200
    )
    refused = client.post("/api/v1/requests", json={"right": "object", "email": EMAIL, "purpose": "account"})
    assert refused.status_code == 422 and "contract" in refused.json()["message"]
    with mailbox(instance) as inbox:
        request_id, _ = filed_and_verified(client, instance, inbox, "object", EMAIL, purposes=["marketing"])
        outcome = _approve(client, instance, request_id)["outcome"]
    assert outcome["purposes"] == ["marketing"]
    after = client.get(f"/api/v1/subjects/{subject_id}", params={"purpose": "marketing"}, headers=marketer)
    assert after.status_code == 403 and after.json()["rule"] == "objection"
    with instance.engine.connect() as conn:
        state = ledger.current(conn, subject_id=subject_id, purpose="marketing")
        assert (state.choice, state.method) == ("refused", "request")
        assert suppression.is_suppressed(conn, vault=instance.vault, address=EMAIL, kind="marketing")
    # Service messages still go (USE-4): the account purpose is untouched.
    support = operator_headers(client, instance, "support_agent")
    assert (
        client.get(f"/api/v1/subjects/{subject_id}", params={"purpose": "account"}, headers=support).status_code == 200
    )


def test_rig2_correction_by_request_is_validated_and_applied(client, instance):
    """RIG-2: a correction is validated as its collection point declares the field — at filing, naming the field —
    and applied through the gate once approved."""
    subject_id = register(client)
    bad = client.post("/api/v1/requests", json={"right": "rectify", "email": EMAIL, "values": {"phone": "12"}})
    assert bad.status_code == 422
    assert [p["field"] for p in bad.json()["problems"]] == ["phone"] and "12" not in bad.text
    password = client.post(
        "/api/v1/requests", json={"right": "rectify", "email": EMAIL, "values": {"password": "new secret pass"}}
    )
    assert password.status_code == 422 and password.json()["problems"][0]["rule"] == "password"
    with mailbox(instance) as inbox:
        request_id, _ = filed_and_verified(
            client, instance, inbox, "rectify", EMAIL, values={"last_name": "Byron", "address": "12 St James's Sq"}
        )
        outcome = _approve(client, instance, request_id)["outcome"]
    assert outcome["changed"] == ["last_name"] and outcome["not_held"] == ["address"]
    support = operator_headers(client, instance, "support_agent")
    read = client.get(f"/api/v1/subjects/{subject_id}", params={"purpose": "account"}, headers=support)
    assert {i["field"]: i["value"] for i in read.json()["items"]}["last_name"] == "Byron"


def test_rig1_the_requester_withdraws_a_request_before_it_is_decided(client, instance):
    """A request can be withdrawn by its requester while open; nothing is done and the requester is told."""
    subject_id = register(client)
    with mailbox(instance) as inbox:
        request_id, token = filed_and_verified(client, instance, inbox, "erase", EMAIL)
        other = client.post(f"/api/v1/requests/{request_id}/cancel", headers=auth("vkr_" + "x" * 43))
        assert other.status_code == 403
        withdrawn = client.post(f"/api/v1/requests/{request_id}/cancel", headers=auth(token), json={"reason": "oops"})
        assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "cancelled"
        deliver(instance)
        assert outcome_mail(inbox, EMAIL)["Subject"] == "Your erasure request: withdrawn"
    with instance.engine.connect() as conn:
        assert conn.execute(select(subjects.c.state).where(subjects.c.id == subject_id)).scalar() == "active"


def test_rig7_csv_cells_never_run_as_spreadsheet_formulas():
    """RIG-7: the CSV copy is safe to open in a spreadsheet; phone numbers keep their form."""
    from vowkeep.rights.report import _cell

    assert _cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert _cell("@SUM(A1)") == "'@SUM(A1)"
    assert _cell("+cmd|' /C calc'!A0") == "'+cmd|' /C calc'!A0"
    assert _cell("-2+3") == "'-2+3"
    assert _cell("+44 20 7946 0958") == "+44 20 7946 0958"
    assert _cell("Lovelace") == "Lovelace"
