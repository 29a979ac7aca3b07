"""Communications over HTTP and a real SMTP server: marketing only where consent allows it (USE-3), one-click
unsubscribe read from the real headers (RIG-5, RFC 8058), a suppression list that outlives erasure, service mail
after an opt-out (USE-4), opting out of everything non-essential in one action (RIG-6), DKIM over the unsubscribe
headers, and the free-download flow (COL-7)."""

from __future__ import annotations

import re
from dataclasses import replace
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import POLICIES
from tests.support import instances
from tests.support.api import REGISTRATION, operator_headers, register, service_headers
from tests.support.smtp import smtp_server
from vowkeep.comms import outbox
from vowkeep.store.tables import consent_records, suppression
from vowkeep.store.tables import outbox as outbox_table
from vowkeep.vault.actors import Actor
from vowkeep.web.app import create_app
from vowkeep.worker import Worker

pytestmark = pytest.mark.postgres

BASE = "https://privacy.wsoutsourcer.test"
LEAD = {"email": "lead@example.org", "first_name": "Lee", "source": "public databases"}


def _configure(instance, smtp_url, base_url=BASE):
    instance.settings = replace(instance.settings, smtp_url=smtp_url, base_url=base_url)


def _import_lead(client, instance, lead=LEAD):
    response = client.post("/api/v1/collect/other_sources", json=lead, headers=service_headers(instance, "collect"))
    assert response.status_code == 201, response.text
    return response.json()["subject_id"]


def _campaign(client, headers, purpose="marketing"):
    return client.post(
        "/api/v1/campaigns",
        json={"purpose": purpose, "subject": "Spring offers", "body": "Twenty per cent off everything."},
        headers=headers,
    )


def _outbox_states(instance):
    with instance.engine.connect() as conn:
        return [(r.kind, r.state, r.error) for r in conn.execute(select(outbox_table).order_by(outbox_table.c.id))]


def _unsubscribe_path(message) -> str:
    header = message["List-Unsubscribe"]
    assert header.startswith("<https://") and header.endswith(">"), header
    url = header[1:-1]
    assert url.startswith(BASE + "/unsubscribe/")
    return urlsplit(url).path


def test_rig5_marketing_mail_carries_one_click_unsubscribe_that_works_without_cookies(client, instance):
    subject_id = _import_lead(client, instance)
    marketer = operator_headers(client, instance, "marketer")
    with smtp_server() as (inbox, url):
        _configure(instance, url)
        response = _campaign(client, marketer)
        assert response.status_code == 201, response.text
        assert response.json() == {"purpose": "marketing", "queued": 1, "without_consent": 0}
        Worker(instance).run_until_idle()
    [message] = inbox.messages
    assert message["To"] == LEAD["email"] and message["Subject"] == "Spring offers"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    path = _unsubscribe_path(message)
    assert BASE + path in message.get_content()
    # On the wire the header is the bare <https://…> link, not an RFC 2047 encoded word.
    raw = inbox.envelopes[0].content
    assert f"\r\nList-Unsubscribe: <{BASE}{path}>\r\n".encode() in raw
    assert b"\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in raw

    # GET only shows a confirmation form; it changes nothing.
    client.cookies.clear()
    form = client.get(path)
    assert form.status_code == 200 and 'name="List-Unsubscribe" value="One-Click"' in form.text
    with instance.engine.connect() as conn:
        assert conn.execute(select(consent_records).where(consent_records.c.subject_id == subject_id)).first() is None

    # The mail provider's POST: no cookie, no CSRF token, no redirect.
    client.cookies.clear()
    done = client.post(
        path,
        content="List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert done.status_code == 200 and "You are unsubscribed" in done.text
    with instance.engine.connect() as conn:
        record = conn.execute(select(consent_records).where(consent_records.c.subject_id == subject_id)).one()
    assert (record.purpose, record.choice, record.method) == ("marketing", "refused", "email_link")

    # The objection acts at once: no new campaign reaches the lead, and mail queued before it is stopped.
    with instance.vault.transaction() as conn:
        outbox.queue(
            conn, vault=instance.vault, template="marketing", kind="marketing", subject_id=subject_id,
            purpose="marketing", context={"subject": "s", "body": "b", "organization": "o"},
        )  # fmt: skip
    assert _campaign(client, marketer).json() == {"purpose": "marketing", "queued": 0, "without_consent": 1}
    with smtp_server() as (inbox, url):
        _configure(instance, url)
        Worker(instance).run_until_idle()
    assert inbox.messages == []
    assert _outbox_states(instance)[-1] == ("marketing", "suppressed", "gate: objection")


def test_rig5_unsubscribe_links_are_signed_and_checked(client, instance):
    subject_id = _import_lead(client, instance)
    url = outbox.unsubscribe_url(instance, subject_id=subject_id, purpose="marketing")
    path = urlsplit(url).path
    token = path.rsplit("/", 1)[1]
    forged = path.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    other = path.replace(subject_id, "f" * 32)
    for bad in (forged, other, "/unsubscribe/nonsense"):
        assert client.get(bad).status_code == 400
        response = client.post(bad, data={"List-Unsubscribe": "One-Click"})
        assert response.status_code == 400 and "cannot be used" in response.text
    missing = client.post(path, data={})
    assert missing.status_code == 400 and "List-Unsubscribe=One-Click" in missing.text
    with instance.engine.connect() as conn:
        assert conn.execute(select(consent_records)).first() is None


def test_rig5_the_suppression_list_keeps_the_opt_out_after_erasure(client, instance):
    subject_id = _import_lead(client, instance)
    path = urlsplit(outbox.unsubscribe_url(instance, subject_id=subject_id, purpose="marketing")).path
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    with instance.vault.transaction() as conn:
        instance.vault.erase_subject(conn, actor=Actor.system("test"), subject_id=subject_id, reason="erasure")
    # The same person arrives again from a marketing partner: a new subject, with no objection on record.
    again = _import_lead(client, instance)
    assert again != subject_id
    marketer = operator_headers(client, instance, "marketer")
    with smtp_server() as (inbox, url):
        _configure(instance, url)
        assert _campaign(client, marketer).json()["queued"] == 1
        Worker(instance).run_until_idle()
    assert inbox.messages == []
    assert _outbox_states(instance)[-1] == ("marketing", "suppressed", "the address is on the suppression list")
    with instance.engine.connect() as conn:
        rows = conn.execute(select(suppression)).all()
    assert [(r.kind, r.scope, r.method) for r in rows] == [("email", "marketing", "email_link")]
    assert LEAD["email"].encode() not in rows[0].digest


def test_use4_service_mail_still_goes_after_an_opt_out(client, instance):
    subject_id = register(client)
    consents = service_headers(instance, "consents")
    response = client.post(
        f"/api/v1/subjects/{subject_id}/communications/opt-out", json={"scope": "all_non_essential"}, headers=consents
    )
    assert response.status_code == 200, response.text
    with smtp_server() as (inbox, url):
        _configure(instance, url)
        with instance.vault.transaction() as conn:
            outbox.queue(
                conn, vault=instance.vault, template="notice", kind="service", subject_id=subject_id,
                purpose="service_messages",
                context={"subject": "Your password was changed", "body": "If this was not you, tell us.",
                         "organization": "WS Outsourcer"},
            )  # fmt: skip
        Worker(instance).run_until_idle()
    [message] = inbox.messages
    assert message["To"] == REGISTRATION["email"] and message["Subject"] == "Your password was changed"
    assert message["List-Unsubscribe"] is None


def test_rig6_opting_out_of_all_non_essential_communications_is_one_action(client, instance):
    subject_id = register(client)
    consents = service_headers(instance, "consents")
    for purpose in ("partner_offers", "contests"):
        client.post(
            f"/api/v1/subjects/{subject_id}/consents", json={"purpose": purpose, "choice": "given"}, headers=consents
        )
    response = client.post(
        f"/api/v1/subjects/{subject_id}/communications/opt-out",
        json={"scope": "all_non_essential", "method": "center"},
        headers=consents,
    )
    assert response.json() == {
        "subject_id": subject_id,
        "scope": "all_non_essential",
        "withdrawn": ["contests", "marketing", "partner_offers"],
        "suppressed": 1,
    }
    current = {
        c["purpose"]: c
        for c in client.get(f"/api/v1/subjects/{subject_id}/consents", headers=consents).json()["current"]
    }
    for purpose in ("contests", "marketing", "partner_offers"):
        assert current[purpose]["allows_processing"] is False and current[purpose]["method"] == "center"
    assert current["advertising"]["choice"] is None  # not a communication: untouched
    bad = client.post(
        f"/api/v1/subjects/{subject_id}/communications/opt-out", json={"scope": "everything"}, headers=consents
    )
    assert bad.status_code == 422

    # The unsubscribe page offers the same single action.
    other = _import_lead(client, instance)
    path = urlsplit(outbox.unsubscribe_url(instance, subject_id=other, purpose="marketing")).path
    page = client.get(path).text
    assert 'name="scope" value="all_non_essential"' in page
    done = client.post(path, data={"List-Unsubscribe": "One-Click", "scope": "all_non_essential"})
    assert "no more marketing or other non-essential e-mail" in done.text
    with instance.engine.connect() as conn:
        scopes = conn.execute(select(suppression.c.scope).order_by(suppression.c.created_at)).scalars().all()
    assert scopes == ["all_non_essential", "all_non_essential"]


def test_rig5_dkim_signature_covers_the_one_click_headers(client, instance, tmp_path):
    import dkim
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / "dkim.pem"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
    )
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    import base64

    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
    _import_lead(client, instance)
    with smtp_server() as (inbox, url):
        _configure(instance, f"{url}?dkim_key={key_file}&dkim_selector=mail2026")
        _campaign(client, operator_headers(client, instance, "marketer"))
        Worker(instance).run_until_idle()
    [envelope] = inbox.envelopes
    raw = envelope.content

    def dns(name, timeout=5):
        return record if name == b"mail2026._domainkey.wsoutsourcer.com." else None

    assert dkim.verify(raw, dnsfunc=dns)
    [message] = inbox.messages
    signed = re.sub(r"\s+", "", message["DKIM-Signature"]).lower()
    headers = re.search(r"h=([^;]+)", signed).group(1).split(":")
    assert "list-unsubscribe" in headers and "list-unsubscribe-post" in headers
    assert "d=wsoutsourcer.com" in signed and "s=mail2026" in signed
    # Altering the one-click header breaks the signature.
    assert not dkim.verify(
        raw.replace(
            b"List-Unsubscribe-Post: List-Unsubscribe=One-Click", b"List-Unsubscribe-Post: List-Unsubscribe=Nope"
        ),
        dnsfunc=dns,
    )


WESCOM_NEWSLETTER = (
    (POLICIES / "wescom.yaml")
    .read_text()
    .replace(
        "  - key: provision\n    label: Providing the products and services you bought\n",
        "  - key: newsletter\n    label: Our newsletter\n    data_use: marketing.communications.email\n"
        "    categories: [user.contact.email, user.name]\n    legal_basis: legitimate_interest\n"
        "    consent: opt_out\n    messages: marketing\n    retention: {period: P1Y, after: withdrawal}\n"
        "  - key: provision\n    label: Providing the products and services you bought\n",
    )
    .replace("    purposes: [provision, billing]\n", "    purposes: [provision, billing, newsletter]\n")
    .replace(
        "    purposes: [software_updates, statistics]\n", "    purposes: [software_updates, statistics, newsletter]\n"
    )
    .replace(
        "    purposes: [download_link, software_updates]\n  - key: authorities",
        "    purposes: [download_link, software_updates, newsletter]\n  - key: authorities",
    )
)


def test_col7_free_download_mails_the_link_and_uses_the_address_for_nothing_else(tmp_path, backend):
    instance, result = instances.create(tmp_path / "wescom", WESCOM_NEWSLETTER, database_url=backend)
    try:
        with TestClient(create_app(instance)) as client, smtp_server() as (inbox, url):
            _configure(instance, url, base_url="https://privacy.wescom.test")
            service = {"Authorization": f"Bearer {result.api_key}"}
            link = "https://downloads.wescom.test/free/wescom-2026.zip?sig=abc"
            response = client.post(
                "/api/v1/downloads/free_download",
                json={"submission": {"email": "dev@example.org", "name": "Dev Eloper"}, "link": link},
                headers=service,
            )
            assert response.status_code == 201, response.text
            assert response.json()["purpose"] == "download_link"
            subject_id = response.json()["subject_id"]
            Worker(instance).run_until_idle()
            [mail] = inbox.messages
            assert mail["To"] == "dev@example.org" and mail["Subject"] == "Your download link"
            assert link in mail.get_content() and mail["List-Unsubscribe"] is None

            # A buyer, whose address was collected for the newsletter, gets it; the downloader does not.
            client.post(
                "/api/v1/collect/purchase",
                json={"email": "buyer@example.org", "full_name": "Bea Buyer"},
                headers=service,
            )
            manager = operator_headers(client, instance, "product_manager")
            news = _campaign(client, manager, purpose="newsletter")
            assert news.json() == {"purpose": "newsletter", "queued": 1, "without_consent": 0}
            # The downloader's address serves what the download point declares: software updates.
            updates = _campaign(client, manager, purpose="software_updates")
            assert updates.json()["queued"] == 1
            # Even queued by hand, a newsletter does not go to the address collected for the download.
            with instance.vault.transaction() as conn:
                outbox.queue(
                    conn, vault=instance.vault, template="marketing", kind="marketing", subject_id=subject_id,
                    purpose="newsletter", context={"subject": "s", "body": "b", "organization": "o"},
                )  # fmt: skip
            Worker(instance).run_until_idle()
            received = {(m["To"], m["Subject"]) for m in inbox.messages[1:]}
            assert received == {("buyer@example.org", "Spring offers"), ("dev@example.org", "Spring offers")}
            assert len(inbox.messages) == 3
            updates_mail = [m for m in inbox.messages if m["To"] == "dev@example.org"][-1]
            assert updates_mail["List-Unsubscribe"].startswith("<https://privacy.wescom.test/unsubscribe/")
            assert _outbox_states(instance)[-1] == (
                "marketing",
                "suppressed",
                "gate: collection-purpose",
            )

            bad = client.post(
                "/api/v1/downloads/free_download",
                json={"submission": {"email": "x@example.org", "name": "X"}, "link": "javascript:alert(1)"},
                headers=service,
            )
            assert bad.status_code == 422 and bad.json()["error"] == "invalid_download"
            no_link_purpose = client.post(
                "/api/v1/downloads/purchase",
                json={"submission": {"email": "x@example.org", "full_name": "X"}, "link": link},
                headers=service,
            )
            assert no_link_purpose.status_code == 422
    finally:
        instance.close()


def test_campaigns_are_refused_to_whoever_may_not_serve_the_purpose(client, instance):
    support = operator_headers(client, instance, "support_agent")
    denied = _campaign(client, support)
    assert denied.status_code == 403 and denied.json()["rule"] == "role-purpose"
    marketer = operator_headers(client, instance, "marketer")
    not_marketing = _campaign(client, marketer, purpose="contests")
    assert not_marketing.status_code == 422 and "marketing messages" in not_marketing.json()["message"]
