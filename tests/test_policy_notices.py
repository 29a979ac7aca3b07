"""Policy-change notices (NTC-2): publishing a version with material changes mails every subject with an address
(through a real SMTP server), shows a banner on the pages and in the consent banner for the notice period, and a
consent-based purpose that changed needs a new consent before the gate lets it run."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import replace

import pytest
from sqlalchemy import select

from tests.conftest import POLICIES
from tests.support.api import REGISTRATION, register, service_headers
from tests.support.smtp import smtp_server
from vowkeep import clock
from vowkeep.store import jobs
from vowkeep.store.tables import jobs as jobs_table
from vowkeep.store.tables import policy_notices
from vowkeep.vault.actors import Actor
from vowkeep.worker import Worker

pytestmark = pytest.mark.postgres

SAMPLE = (POLICIES / "wsoutsourcer.yaml").read_text()
# Partners' offers now also use the last name: a material change to a consent-based purpose.
WIDER = SAMPLE.replace(
    "    data_use: marketing.communications.email\n    categories: [user.contact.email, user.name.first]\n"
    "    legal_basis: consent\n    consent: opt_in\n    retention: {period: P1M, after: withdrawal}",
    "    data_use: marketing.communications.email\n"
    "    categories: [user.contact.email, user.name.first, user.name.last]\n"
    "    legal_basis: consent\n    consent: opt_in\n    retention: {period: P1M, after: withdrawal}",
).replace("effective_date: 2018-09-04", "effective_date: 2026-12-01")


def _publish(cli, instance, tmp_path, text, name="next.yaml"):
    path = tmp_path / name
    path.write_text(text)
    env = {"VOWKEEP_DATABASE_URL": instance.settings.database_url}
    result = cli("policy", "publish", path, "--data-dir", instance.settings.data_dir, env=env)
    instance.vault._refresh_seconds = 0  # the server picks up another process's version within a second; now, here
    return result


def test_ntc2_material_change_notifies_subjects_shows_a_banner_and_needs_reconsent(client, instance, cli, tmp_path):
    assert WIDER != SAMPLE
    consents = service_headers(instance, "consents")
    reader = service_headers(instance, "purpose:partner_offers")
    ada = register(client)
    client.post(
        f"/api/v1/subjects/{ada}/consents", json={"purpose": "partner_offers", "choice": "given"}, headers=consents
    )
    assert (
        client.get(f"/api/v1/subjects/{ada}", params={"purpose": "partner_offers"}, headers=reader).status_code == 200
    )
    bob = register(client, {**REGISTRATION, "email": "bob@example.org"})
    # Bob opted out of every non-essential e-mail: a change of the policy is still his to know (a service message).
    client.post(f"/api/v1/subjects/{bob}/communications/opt-out", json={}, headers=consents)
    gone = register(client, {**REGISTRATION, "email": "gone@example.org"})
    with instance.vault.transaction() as conn:
        instance.vault.erase_subject(conn, actor=Actor.system("test"), subject_id=gone, reason="erasure")
    assert "We changed our privacy policy" not in client.get("/privacy").text

    result = _publish(cli, instance, tmp_path, WIDER)
    assert result.exit_code == 0, result.output
    assert "(material changes)" in result.stdout and "re-consent needed for: partner_offers" in result.stdout

    # The consent Ada gave under version 1 no longer covers the wider purpose.
    denied = client.get(f"/api/v1/subjects/{ada}", params={"purpose": "partner_offers"}, headers=reader)
    assert denied.status_code == 403 and denied.json()["rule"] == "reconsent-required"
    current = {
        c["purpose"]: c for c in client.get(f"/api/v1/subjects/{ada}/consents", headers=consents).json()["current"]
    }
    assert current["partner_offers"]["choice"] == "given" and current["partner_offers"]["rule"] == "reconsent-required"

    # Every subject with an address is told, by e-mail.
    with smtp_server() as (inbox, url):
        instance.settings = replace(instance.settings, smtp_url=url, base_url="https://privacy.wsoutsourcer.test")
        Worker(instance).run_until_idle()
    assert sorted(m["To"] for m in inbox.messages) == ["ada.lovelace@example.org", "bob@example.org"]
    message = inbox.to("ada.lovelace@example.org")[0]
    assert message["Subject"] == "We changed our privacy policy"
    text = message.get_content()
    assert "version 2" in text and "01 December 2026" in text
    assert "Our business partners' offers" in text and "https://privacy.wsoutsourcer.test/center" in text
    assert "https://privacy.wsoutsourcer.test/privacy/versions/2" in text
    assert message["List-Unsubscribe"] is None

    # The fan-out is idempotent: a job that runs again mails nobody twice.
    with instance.engine.begin() as conn:
        jobs.enqueue(conn, kind="policy.notify", payload={"version": 2, "after": ""})
    with smtp_server() as (inbox, url):
        instance.settings = replace(instance.settings, smtp_url=url)
        Worker(instance).run_until_idle()
    assert inbox.messages == []
    with instance.engine.connect() as conn:
        assert len(conn.execute(select(policy_notices)).all()) == 2

    # The pages and the consent banner show the change for the notice period.
    page = client.get("/privacy").text
    assert re.search(r"We changed our privacy policy on \d\d \w+ \d{4} \(version 2\)", page)
    config = json.loads(re.search(r"var CONFIG = (\{.*?\});\n", client.get("/consent.js").text).group(1))
    assert config["policyChange"]["version"] == 2 and config["policyChange"]["url"] == "privacy/versions/2"

    # A new consent under version 2 lets the purpose run again.
    client.post(
        f"/api/v1/subjects/{ada}/consents", json={"purpose": "partner_offers", "choice": "given"}, headers=consents
    )
    assert (
        client.get(f"/api/v1/subjects/{ada}", params={"purpose": "partner_offers"}, headers=reader).status_code == 200
    )

    clock.travel_to(clock.now() + dt.timedelta(days=31))
    assert "We changed our privacy policy" not in client.get("/privacy").text


def test_ntc2_a_minor_change_sends_no_notice(client, instance, cli, tmp_path):
    register(client)
    minor = SAMPLE.replace(
        "Thank you for choosing to be part of our community", "Thank you for being part of our community"
    )
    result = _publish(cli, instance, tmp_path, minor)
    assert result.exit_code == 0 and "(material changes)" not in result.stdout
    with instance.engine.connect() as conn:
        assert conn.execute(select(jobs_table).where(jobs_table.c.kind == "policy.notify")).first() is None
    assert "We changed our privacy policy" not in client.get("/privacy").text


def test_ntc2_cookie_banner_asks_again_when_its_purposes_changed(client, instance, cli, tmp_path):
    """A material change to the analytics purpose re-opens the banner for visitors who accepted it, and the beacon
    refuses their events until they choose again."""
    import secrets

    cid, vid = secrets.token_hex(16), secrets.token_hex(16)
    client.post("/t/consent", content=json.dumps({"cid": cid, "accepted": ["analytics"]}))
    view = json.dumps({"cid": cid, "vid": vid, "type": "view", "page": "/"})
    assert client.post("/t", content=view).status_code == 204
    longer = SAMPLE.replace(
        "    categories: [user.behavior.browsing_history, user.device.ip_address]\n"
        "    legal_basis: legitimate_interest\n    consent: opt_in\n",
        "    categories: [user.behavior.browsing_history, user.device.ip_address, user.contact.email]\n"
        "    legal_basis: legitimate_interest\n    consent: opt_in\n",
    )
    assert longer != SAMPLE
    result = _publish(cli, instance, tmp_path, longer)
    assert result.exit_code == 0, result.output
    assert "re-consent needed for: analytics" in result.stdout
    config = json.loads(re.search(r"var CONFIG = (\{.*?\});\n", client.get("/consent.js").text).group(1))
    assert config["reconsent"]["analytics"] == 2 and config["version"] == 2
    refused = client.post("/t", content=view)
    assert refused.status_code == 403 and refused.json()["error"] == "consent-required"
    client.post("/t/consent", content=json.dumps({"cid": cid, "accepted": ["analytics"]}))
    assert client.post("/t", content=view).status_code == 204
