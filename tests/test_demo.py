"""`vowkeep demo` and the demo shop at /demo, through the CLI and over HTTP.

The demo fills an instance through the same paths as real traffic — collection points (COL-1), the consent ledger
and banner (USE-3, CK-2), tracking roll-ups (COL-5, CK-5), rights requests with due dates (RIG-9) — and turns on a
storefront whose forms are the declared collection points, sent to the collection API with the shop's own key."""

from __future__ import annotations

import json
import re
import stat
import sys

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from vowkeep.store.tables import (
    audit_log,
    consent_records,
    disclosures,
    holds,
    items,
    rights_requests,
    subjects,
    traffic_daily,
)
from vowkeep.web.app import create_app


def count(instance, table) -> int:
    with instance.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


@pytest.fixture
def demo_instance(instance, cli):
    """The sample instance after `vowkeep demo --people 12`; yields (instance, CLI output)."""
    result = cli("demo", "--data-dir", instance.settings.data_dir, "--people", 12)
    assert result.exit_code == 0, result.output
    return instance, result.output


def test_demo_fills_the_instance_once_and_refuses_a_second_run(demo_instance, cli):
    """COL-1, USE-3, COL-5, RIG-9: `vowkeep demo` adds people, consents, rolled-up visits, requests (some overdue),
    a hold and a legal request; run again, it refuses clearly and adds nothing."""
    instance, output = demo_instance
    assert count(instance, subjects) == 12 and count(instance, items) > 30  # every fake person registered
    assert count(instance, consent_records) > 10
    assert count(instance, traffic_daily) > 0
    assert count(instance, rights_requests) >= 8
    assert count(instance, holds) == 1 and count(instance, disclosures) == 1
    instance.vault.settle_audit()
    with instance.engine.connect() as conn:
        states = dict(
            conn.execute(select(rights_requests.c.state, func.count()).group_by(rights_requests.c.state)).all()
        )
        actors = set(conn.execute(select(audit_log.c.actor).distinct()).scalars())
    assert {"in_review", "verifying", "fulfilled", "denied"} <= set(states)
    assert "service:demo shop" in actors  # every submission went through the gate as the shop's key
    assert "the demo shop is at /demo" in output
    assert re.search(r"privacy-officer / \S{12,}  \(role privacy_officer\)", output)
    key_file = instance.settings.data_dir / "demo.json"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert json.loads(key_file.read_text())["api_key"].startswith("vk_")

    before = count(instance, subjects)
    again = cli("demo", "--data-dir", instance.settings.data_dir)
    assert again.exit_code == 1
    assert "already has demo data" in again.stderr and "nothing was added" in again.stderr
    assert count(instance, subjects) == before


def test_demo_without_faker_says_how_to_install_it(instance, cli, monkeypatch):
    monkeypatch.setitem(sys.modules, "faker", None)  # `import faker` now raises ImportError
    result = cli("demo", "--data-dir", instance.settings.data_dir)
    assert result.exit_code == 1
    assert "pip install 'vowkeep[demo]'" in result.stderr
    assert not (instance.settings.data_dir / "demo.json").exists()


def test_no_demo_shop_on_an_instance_that_did_not_ask_for_one(client):
    """A production instance exposes no shop: /demo is not mounted unless `vowkeep demo` filled the instance."""
    assert client.get("/demo").status_code == 404
    assert client.post("/demo/registration", data={}).status_code in (404, 405)


def test_demo_shop_registration_goes_through_the_collection_api(demo_instance):
    """COL-1, COL-2: the shop's registration form is the declared collection point; a submission is stored through
    the gate as the shop's API key, the newsletter box records an opt-in consent, a bad field is refused with
    nothing stored, and the subject-supplied text comes back escaped."""
    instance, _ = demo_instance
    with TestClient(create_app(instance)) as client:
        shop = client.get("/demo")
        assert shop.status_code == 200
        assert '<script src="/consent.js" defer></script>' in shop.text
        assert 'action="/demo/registration"' in shop.text and 'action="/demo/purchase"' in shop.text
        for name in ("email", "first_name", "last_name", "date_of_birth", "password"):
            assert f'for="registration-{name}"' in shop.text
        token = re.search(r'name="csrf_token" value="([^"]+)"', shop.text).group(1)
        form = {
            "csrf_token": token,
            "email": "new.customer@example.org",
            "first_name": "<b>Ada</b>",
            "last_name": "Lovelace",
            "date_of_birth": "1985-12-10",
            "password": "correct horse battery staple",
            "newsletter": "yes",
            "adult": "yes",
        }
        before = count(instance, subjects)
        done = client.post("/demo/registration", data=form)
        assert done.status_code == 200, done.text
        assert "What vowkeep stored" in done.text and "marketing: given (form)" in done.text
        assert count(instance, subjects) == before + 1
        assert "<b>Ada</b>" not in done.text

        bad = client.post("/demo/registration", data={**form, "email": "not-an-address", "newsletter": ""})
        assert bad.status_code == 422 and "nothing was stored" in bad.text and "email" in bad.text
        assert count(instance, subjects) == before + 1

        assert (
            client.post("/demo/registration", data={k: v for k, v in form.items() if k != "csrf_token"}).status_code
            == 403
        )


def test_demo_shop_purchase_keeps_only_the_processor_token(demo_instance):
    """COL-3: the shop never asks for a card; the purchase stores the processor's token and the last four digits."""
    instance, _ = demo_instance
    with TestClient(create_app(instance)) as client:
        shop = client.get("/demo")
        assert 'name="card_token"' not in shop.text and "Card details go to the payment processor" in shop.text
        token = re.search(r'name="csrf_token" value="([^"]+)"', shop.text).group(1)
        done = client.post("/demo/purchase", data={"csrf_token": token, "email": "buyer@example.org"})
        assert done.status_code == 200, done.text
        assert "transaction" in done.text


def test_console_is_alive_after_the_demo(demo_instance):
    """After `vowkeep demo`, the console's queue, register, charts and audit have something to show."""
    instance, _ = demo_instance
    from tests.test_console import sign_in

    with TestClient(create_app(instance)) as client:
        sign_in(client, instance, "admin", "demo-admin")
        queue = client.get("/admin/requests").text
        assert "overdue." in queue and "in review" in queue
        assert "court order" in client.get("/admin/disclosures").text
        charts = client.get("/admin/charts").text
        assert charts.count("<rect") > 20
        assert "Intact." in client.get("/admin/audit").text
