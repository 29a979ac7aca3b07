"""Aggregate-only sharing (SHR-3, SHR-5, SHR-6): advertisers get grouped counts over declared dimensions, small
groups suppressed, optional differential-privacy noise against a spent-budget ledger, every run recorded; no
row-level way in; no sale where the declaration forbids it; partners' offers only with consent."""

from __future__ import annotations

import sys
from datetime import date

import pytest
from sqlalchemy import insert, select

from tests.support import instances
from tests.support.api import REGISTRATION, operator_headers, register, service_headers
from tests.support.smtp import smtp_server
from vowkeep.comms import outbox
from vowkeep.consent import ledger
from vowkeep.store.tables import audit_log, report_runs, traffic_daily
from vowkeep.store.tables import outbox as outbox_table
from vowkeep.vault import apikeys
from vowkeep.vault.actors import Actor
from vowkeep.vault.decisions import GateDenied
from vowkeep.vault.gate import PolicyState
from vowkeep.worker import Worker

pytestmark = pytest.mark.postgres

VISITORS = {"FR": (8, 7), "DE": (4, 2), "US": (30, 1), "JP": (5, 6)}  # two days each; DE has 6 in all


def _traffic(instance, counts=VISITORS, metric="visitors", dimension="country"):
    rows = [
        dict(day=date(2026, 6, day), metric=metric, dimension=dimension, value=value, count=n)
        for value, per_day in counts.items()
        for day, n in zip((1, 2), per_day, strict=True)
    ]
    with instance.engine.begin() as conn:
        conn.execute(insert(traffic_daily), rows)


def _recipient_key(instance, recipient="ad_companies"):
    return service_headers(instance, f"recipient:{recipient}", name=f"key-of-{recipient}")


def test_shr3_an_advertiser_gets_grouped_counts_with_small_groups_suppressed(client, instance):
    """SHR-3: the advertiser's key runs its declared report: visitors by country over the days asked, groups under
    the minimum size of 10 suppressed (and only counted); the run is recorded as a disclosure and audited."""
    _traffic(instance)
    key = _recipient_key(instance)
    response = client.get("/api/v1/reports/visits_by_country", headers=key)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["groups"] == [
        {"country": "FR", "visitors": 15},
        {"country": "JP", "visitors": 11},
        {"country": "US", "visitors": 31},
    ]
    assert (report["groups_suppressed"], report["min_group_size"], report["epsilon"]) == (1, 10, None)
    assert (report["recipient"], report["purpose"], report["source"]) == ("ad_companies", "advertising", "traffic")
    one_day = client.get("/api/v1/reports/visits_by_country", params={"since": "2026-06-02"}, headers=key).json()
    assert one_day["groups"] == [] and one_day["groups_suppressed"] == 4
    instance.vault.settle_audit()
    with instance.engine.connect() as conn:
        runs = conn.execute(select(report_runs).order_by(report_runs.c.id)).all()
        audited = conn.execute(select(audit_log).where(audit_log.c.action == "report")).all()
    assert [(r.report, r.recipient, r.groups_released, r.groups_suppressed, r.actor) for r in runs] == [
        ("visits_by_country", "ad_companies", 3, 1, "service:key-of-ad_companies"),
        ("visits_by_country", "ad_companies", 0, 4, "service:key-of-ad_companies"),
    ]
    assert runs[1].since == date(2026, 6, 2)
    assert [(a.detail["run_id"], a.decision) for a in audited] == [(runs[0].id, "allow"), (runs[1].id, "allow")]
    history = client.get("/api/v1/reports/visits_by_country/runs", headers=key).json()["runs"]
    assert [h["run_id"] for h in history] == [runs[1].id, runs[0].id]
    listed = client.get("/api/v1/reports", headers=key).json()["reports"]
    assert [r["report"] for r in listed] == ["visits_by_country"] and listed[0]["budget"] is None


def test_shr3_no_row_level_access_exists_for_an_aggregate_only_recipient(client, instance):
    """SHR-3: a recipient's key may hold no other scope and reads no subject; the gate refuses any read naming
    the recipient (audited); reports of other recipients do not exist for it."""
    subject_id = register(client)
    key = _recipient_key(instance)
    assert (
        client.get(f"/api/v1/subjects/{subject_id}", params={"purpose": "advertising"}, headers=key).status_code == 403
    )
    assert client.get("/api/v1/reports/nope", headers=key).status_code == 404
    with instance.engine.begin() as conn, pytest.raises(apikeys.ApiKeyError, match="may hold no other scope"):
        apikeys.create(
            conn,
            policy=instance.vault.policy,
            name="sneaky",
            scopes=["recipient:ad_companies", "purpose:advertising"],
            created_by="test",
        )
    with instance.engine.begin() as conn, pytest.raises(apikeys.ApiKeyError, match="aggregate-only recipients"):
        apikeys.create(
            conn, policy=instance.vault.policy, name="p", scopes=["recipient:business_partners"], created_by="test"
        )
    with pytest.raises(GateDenied) as denied, instance.vault.transaction() as conn:
        instance.vault.read(
            conn, actor=Actor.system("export"), purpose="advertising", subject_id=subject_id, recipient="ad_companies"
        )
    assert denied.value.rule == "aggregate-only"
    instance.vault.settle_audit()
    with instance.engine.connect() as conn:
        record = conn.execute(select(audit_log).order_by(audit_log.c.seq.desc()).limit(1)).one()
    assert (record.decision, record.rule, record.subject_id) == ("deny", "aggregate-only", subject_id)


def test_shr3_reports_need_a_permission(client, instance):
    _traffic(instance)
    support = operator_headers(client, instance, "support_agent")
    assert client.get("/api/v1/reports/visits_by_country", headers=support).status_code == 403
    marketer = operator_headers(client, instance, "marketer")
    assert client.get("/api/v1/reports/visits_by_country", headers=marketer).status_code == 200
    assert client.get("/api/v1/reports", headers=marketer).json()["reports"][0]["report"] == "visits_by_country"


def _noised_instance(tmp_path, sample_policy_path, backend, *, budget=1.0, epsilon=0.5):
    text = sample_policy_path.read_text().replace(
        "    aggregate_only: {min_group_size: 10}",
        f"    aggregate_only: {{min_group_size: 10, epsilon_budget: {budget}}}",
    )
    text = text.replace("    measure: visitors\n", f"    measure: visitors\n    epsilon: {epsilon}\n", 1)
    return instances.create(tmp_path / "noised", text, database_url=backend)


def _client(instance):
    from fastapi.testclient import TestClient

    from vowkeep.web.app import create_app

    return TestClient(create_app(instance))


def test_shr3_noise_spends_the_budget_until_runs_are_refused(tmp_path, sample_policy_path, backend):
    """SHR-3: with epsilon 0.5 a run adds OpenDP noise to each released count and spends 0.5 of the recipient's
    budget of 1.0; the third run is refused (403, the rule named), nothing disclosed, the refusal audited."""
    instance, _ = _noised_instance(tmp_path, sample_policy_path, backend)
    try:
        many = {f"C{i}": (40, 40) for i in range(12)}
        _traffic(instance, many)
        with _client(instance) as client:
            key = _recipient_key(instance)
            first = client.get("/api/v1/reports/visits_by_country", headers=key).json()
            second = client.get("/api/v1/reports/visits_by_country", headers=key).json()
            assert first["budget"] == {"epsilon_budget": 1.0, "spent": 0.5, "remaining": 0.5}
            assert second["budget"] == {"epsilon_budget": 1.0, "spent": 1.0, "remaining": 0.0}
            noisy = [g["visitors"] for run in (first, second) for g in run["groups"]]
            assert len(noisy) == 24 and noisy != [80] * 24 and all(n >= 0 for n in noisy)
            assert first["noise"] == "discrete laplace (OpenDP)" and first["epsilon"] == 0.5
            third = client.get("/api/v1/reports/visits_by_country", headers=key)
            assert third.status_code == 403
            assert third.json()["rule"] == "privacy-budget"
            assert third.json()["message"] == (
                "the privacy budget of 'ad_companies' is spent: 0 of 1 left, this report needs 0.5"
            )
            listed = client.get("/api/v1/reports", headers=key).json()["reports"]
            assert listed[0]["budget"]["remaining"] == 0.0
        instance.vault.settle_audit()
        with instance.engine.connect() as conn:
            assert len(conn.execute(select(report_runs)).all()) == 2
            refusal = conn.execute(select(audit_log).order_by(audit_log.c.seq.desc()).limit(1)).one()
        assert (refusal.action, refusal.decision, refusal.rule) == ("report", "deny", "privacy-budget")
    finally:
        instance.close()


def test_shr3_a_noised_report_without_opendp_says_to_install_the_extra(
    tmp_path, sample_policy_path, backend, monkeypatch
):
    """SHR-3: OpenDP is an optional extra; without it a report declaring epsilon fails clearly and spends nothing,
    while reports without noise still run."""
    instance, _ = _noised_instance(tmp_path, sample_policy_path, backend)
    try:
        _traffic(instance)
        for name in [m for m in sys.modules if m == "opendp" or m.startswith("opendp.")]:
            monkeypatch.delitem(sys.modules, name)
        monkeypatch.setitem(sys.modules, "opendp", None)
        monkeypatch.setitem(sys.modules, "opendp.prelude", None)
        with _client(instance) as client:
            response = client.get("/api/v1/reports/visits_by_country", headers=_recipient_key(instance))
        assert response.status_code == 501
        assert response.json()["message"] == (
            "report 'visits_by_country' declares epsilon 0.5 (differential-privacy noise), which needs OpenDP: "
            "install it with `pip install 'vowkeep[dp]'`"
        )
        with instance.engine.connect() as conn:
            assert conn.execute(select(report_runs)).all() == []
    finally:
        instance.close()


ITEMS_REPORT = """
  - key: subjects_by_birth_year
    label: Members by year of birth
    recipient: ad_companies
    purpose: advertising
    source: items
    dimensions: [user.demographic.date_of_birth:year]
    measure: subjects
"""


def test_shr3_item_reports_count_subjects_the_purpose_may_use(tmp_path, sample_policy_path, backend):
    """SHR-3: a report over items reads values through the gate for its purpose — so only subjects who consented
    to advertising count — groups them by year of birth and suppresses the small group."""
    text = sample_policy_path.read_text()
    text = text.replace(
        "    categories: [user.behavior.browsing_history]\n    legal_basis: consent\n    consent: opt_in\n"
        "    retention: {period: P1M, after: collection}\n  - key: analytics",
        "    categories: [user.behavior.browsing_history, user.demographic.date_of_birth]\n    legal_basis: consent\n"
        "    consent: opt_in\n    retention: {period: P1M, after: collection}\n  - key: analytics",
    )
    text = text.replace(
        "    categories: [user.behavior.browsing_history]\n    purposes: [advertising]",
        "    categories: [user.behavior.browsing_history, user.demographic.date_of_birth]\n    purposes: [advertising]",
    )
    text = text.replace("    measure: visitors\n", "    measure: visitors\n" + ITEMS_REPORT, 1)
    # The date of birth is collected at registration; the gate lets a consent-based purpose use only what was
    # collected for it (COL-1), so registration declares advertising too.
    text = text.replace(
        "purposes: [account, service_messages, partner_offers]",
        "purposes: [account, service_messages, partner_offers, advertising]",
        1,
    )
    instance, result = instances.create(tmp_path / "items", text, database_url=backend)
    try:
        with _client(instance) as client:
            client.service = {"Authorization": f"Bearer {result.api_key}"}
            people = [("1990-05-01", True)] * 12 + [("1985-01-01", True)] * 3 + [("1990-07-01", False)] * 5
            for n, (born, consents) in enumerate(people):
                subject_id = register(client, {**REGISTRATION, "email": f"p{n}@example.org", "date_of_birth": born})
                if consents:
                    with instance.engine.begin() as conn:
                        ledger.record(
                            conn,
                            purpose="advertising",
                            choice="given",
                            method="banner",
                            policy_version=1,
                            subject_id=subject_id,
                        )
            response = client.get("/api/v1/reports/subjects_by_birth_year", headers=_recipient_key(instance))
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["groups"] == [{"user.demographic.date_of_birth:year": "1990", "subjects": 12}]
        assert body["groups_suppressed"] == 1
        instance.vault.settle_audit()
        with instance.engine.connect() as conn:
            reads = conn.execute(
                select(audit_log).where(audit_log.c.actor == "system:reports", audit_log.c.action == "read")
            ).all()
        assert len(reads) == 15 and all(r.purpose == "advertising" for r in reads)
        assert all(r.categories == "user.demographic.date_of_birth" for r in reads)
    finally:
        instance.close()


def _use(instance, change):
    policy = instance.vault.policy.model_copy(deep=True)
    change(policy)
    instance.vault.use_policy(PolicyState(policy=policy, version=instance.vault.policy_version))


def test_shr5_never_sell_cannot_be_published_and_the_gate_refuses_sale_anyway(
    client, instance, sample_policy_path, tmp_path
):
    """SHR-5: a declaration that forbids sale and names a partner taking data for its own promotions does not
    publish (lint); and should such a state reach the gate, every disclosure to the partner is refused, as is a
    report for a recipient that pays."""
    from vowkeep.policy.versions import LintErrors

    forbidding = sample_policy_path.read_text().replace("never_sell: false", "never_sell: true")
    with pytest.raises(LintErrors) as refused:
        instances.create(tmp_path / "never", forbidding)
    assert "never-sell" in {p.rule for p in refused.value.problems}

    subject_id = register(client)
    with instance.engine.begin() as conn:
        ledger.record(
            conn, purpose="partner_offers", choice="given", method="form", policy_version=1, subject_id=subject_id
        )

    def never_sell(policy):
        policy.limits.never_sell = True
        policy.recipient_by_key["ad_companies"].pays_for_data = True

    _use(instance, never_sell)
    with pytest.raises(GateDenied) as denied, instance.vault.transaction() as conn:
        instance.vault.read(
            conn,
            actor=Actor.system("partners"),
            purpose="partner_offers",
            subject_id=subject_id,
            recipient="business_partners",
        )
    assert denied.value.rule == "never-sell"
    _traffic(instance)
    report = client.get("/api/v1/reports/visits_by_country", headers=_recipient_key(instance))
    assert report.status_code == 403 and report.json()["rule"] == "never-sell"


def test_shr6_partner_offers_go_only_to_subjects_who_consented(client, instance):
    """SHR-6: data reaches the business partners for their offers only with the subject's consent — refused
    before it, allowed with it, refused again after withdrawal; and their offer mail reaches only consenting
    subjects."""
    consenting = register(client)
    silent = register(client, {**REGISTRATION, "email": "quiet@example.org"})
    partners = Actor.system("partners")

    def disclose(subject_id):
        with instance.vault.transaction() as conn:
            return instance.vault.read(
                conn, actor=partners, purpose="partner_offers", subject_id=subject_id, recipient="business_partners"
            )

    with pytest.raises(GateDenied) as before:
        disclose(consenting)
    assert before.value.rule == "consent-required"
    with instance.engine.begin() as conn:
        ledger.record(
            conn, purpose="partner_offers", choice="given", method="form", policy_version=1, subject_id=consenting
        )
    assert {v.field for v in disclose(consenting)} == {"email", "first_name"}

    with smtp_server() as (inbox, url):
        import dataclasses

        instance.settings = dataclasses.replace(instance.settings, smtp_url=url)
        with instance.vault.transaction() as conn:
            for subject_id in (consenting, silent):
                outbox.queue(
                    conn,
                    vault=instance.vault,
                    template="notice",
                    kind="marketing",
                    subject_id=subject_id,
                    purpose="partner_offers",
                    context={"subject": "An offer", "body": "From our partner.", "organization": "WS Outsourcer"},
                )
        Worker(instance).run_until_idle()
    assert [m["To"] for m in inbox.messages] == [REGISTRATION["email"]]
    with instance.engine.connect() as conn:
        states = dict(conn.execute(select(outbox_table.c.subject_id, outbox_table.c.state)).all())
    assert states == {consenting: "sent", silent: "suppressed"}

    with instance.engine.begin() as conn:
        ledger.record(
            conn,
            purpose="partner_offers",
            choice="withdrawn",
            method="email_link",
            policy_version=1,
            subject_id=consenting,
        )
    with pytest.raises(GateDenied) as after:
        disclose(consenting)
    assert after.value.rule == "consent-required"
