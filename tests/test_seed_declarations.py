"""The five seed declarations load, and each declares its seed's key promises (each test names the PROMISES ID)."""

from __future__ import annotations

from functools import cache

import pytest

from tests.conftest import POLICIES, SEEDS
from vowkeep.policy import Duration, Policy, load_file
from vowkeep.policy.model import ConsentMode, MessageKind, RecipientKind, Right
from vowkeep.policy.taxonomy import FINANCIAL_ROOTS, TRANSACTION_DATA_USE, covers, is_financial


@cache
def _policy(name: str) -> Policy:
    return load_file(POLICIES / f"{name}.yaml").policy


def _touches_financial(category: str) -> bool:
    """A financial category, or a parent that includes one (`user` covers `user.financial`)."""
    return is_financial(category) or any(covers(category, root) for root in FINANCIAL_ROOTS)


# --- all seeds ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_ntc1_seed_declaration_passes_policy_check(cli, name):
    """NTC-1: every seed has a declaration (the source of its rendered notice) that `vowkeep policy check` accepts."""
    result = cli("policy", "check", POLICIES / f"{name}.yaml")
    assert result.exit_code == 0, result.output
    assert f"{POLICIES / name}.yaml: ok — {_policy(name).organization.name}:" in result.stdout


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_ntc1_declaration_header_names_its_seed_text(name):
    """NTC-1: each declaration says which seed text it declares, so a reader can check one against the other."""
    header = (POLICIES / f"{name}.yaml").read_text().splitlines()[0]
    assert SEEDS[name] in header


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_shr4_legal_disclosures_need_approval(name):
    """SHR-4: every seed discloses to authorities only after an operator approves each release."""
    authorities = [r for r in _policy(name).recipients if r.kind == RecipientKind.authority]
    assert authorities
    assert all(r.requires_approval for r in authorities)


# --- 000 Wespro --------------------------------------------------------------------------------------------------


def test_use2_wespro_financial_data_only_completes_a_transaction():
    """USE-2: "We will not use your financial information for any purpose other than to complete a transaction"."""
    policy = _policy("wespro")
    financial_purposes = {p.key for p in policy.purposes if any(_touches_financial(c) for c in p.categories)}
    assert financial_purposes == {"transaction"}
    assert all(policy.purpose_by_key[k].data_use == TRANSACTION_DATA_USE for k in financial_purposes)
    for recipient in policy.recipients:
        if any(_touches_financial(c) for c in recipient.categories):
            assert set(recipient.purposes) <= financial_purposes, recipient.key
    for hold in policy.holds:
        assert not any(_touches_financial(c) for c in hold.categories), hold.key
    for point in policy.collection_points:
        for field in point.fields:
            if is_financial(field.category):
                assert any(policy.purpose_covers(p, field.category) for p in point.purposes), field.name


def test_shr3_wespro_advertisers_get_aggregates_only():
    """SHR-3: "We share your information with advertisers on an aggregate basis only"."""
    policy = _policy("wespro")
    advertisers = [r for r in policy.recipients if r.kind == RecipientKind.advertiser]
    assert [r.key for r in advertisers] == ["advertisers"]
    assert advertisers[0].aggregate_only is not None
    assert advertisers[0].aggregate_only.min_group_size >= 2
    assert {r.recipient for r in policy.reports} == {"advertisers"}
    assert policy.limits.never_sell


def test_col1_wespro_personal_data_enters_only_by_registration_survey_or_contest():
    """COL-1: "only as part of a voluntary registration process, on-line survey, or contest"."""
    assert [c.key for c in _policy("wespro").collection_points] == ["registration", "survey", "contest_entry"]


def test_ret3_rig3_wespro_archive_outlives_account_termination():
    """RET-3, RIG-3: "your information may remain stored in archive ... even after ... the termination of your
    account" — termination is offered and the archive is a hold."""
    policy = _policy("wespro")
    assert Right.erase in policy.rights.offered
    assert [h.key for h in policy.holds] == ["archive"]


# --- 001 Wescom --------------------------------------------------------------------------------------------------


def test_col3_wescom_never_stores_payment_data():
    """COL-3: "We do not store or have direct access to your payment information at any time"."""
    policy = _policy("wescom")
    never = policy.limits.never_store
    assert any(covers(k, "user.financial.credit_card") for k in never)
    for point in policy.collection_points:
        for field in point.fields:
            assert not any(covers(k, field.category) for k in never), f"{point.key}.{field.name}"


def test_col7_rig5_wescom_download_email_serves_only_the_link_and_update_mails():
    """COL-7, RIG-5: the free download takes name and e-mail, sends the link, and the e-mail serves nothing else
    but the software-update mails, which carry an unsubscribe link."""
    policy = _policy("wescom")
    download = policy.collection_point_by_key["free_download"]
    assert {f.category for f in download.fields} == {"user.contact.email", "user.name"}
    assert all(f.required for f in download.fields)
    assert set(download.purposes) == {"download_link", "software_updates"}
    link = policy.purpose_by_key["download_link"]
    assert link.messages == MessageKind.service
    updates = policy.purpose_by_key["software_updates"]
    assert updates.consent == ConsentMode.opt_out
    assert updates.messages == MessageKind.marketing


def test_ck5_ck2_wescom_traffic_logs_serve_statistics_then_are_removed():
    """CK-5, CK-2: traffic-log cookies serve statistics only, after consent, and the raw data is then removed."""
    policy = _policy("wescom")
    usage = policy.usage_data
    assert usage is not None
    assert usage.purposes == ["statistics"]
    assert policy.purpose_by_key["statistics"].data_use.startswith("analytics")
    assert policy.purpose_by_key["statistics"].consent == ConsentMode.opt_in
    assert usage.raw_retention <= Duration.parse("P1D")
    traffic = policy.cookie_category_by_key[usage.cookie_category]
    assert not traffic.essential


# --- 003 the retailer --------------------------------------------------------------------------------------------


def test_min1_retailer_refuses_members_under_18():
    """MIN-1: "Any individual below 18 Years age are not allowed to apply for a membership"."""
    policy = _policy("retailer")
    assert policy.minors.minimum_age == 18
    assert not policy.minors.guardian_may_consent
    registering = [c for c in policy.collection_points if c.registers_subject]
    assert registering
    assert all(c.age_check != "none" for c in registering)


def test_shr5_retailer_never_sell_and_partner_offers_both_kept():
    """SHR-5: the seed's contradiction is kept for lint to report — "We never share or trade our customer data with
    any third party" and "Business partners for sending their business offers to the users"."""
    policy = _policy("retailer")
    assert policy.limits.never_sell
    partners = [r for r in policy.recipients if r.kind == RecipientKind.partner and r.own_promotions]
    assert [r.key for r in partners] == ["business_partners"]


def test_shr6_use3_retailer_promotions_and_partner_offers_need_prior_approval():
    """SHR-6, USE-3: "Usually we take prior approval from our customers" — opt-in, with an opt-out."""
    policy = _policy("retailer")
    for key in ("promotions", "partner_offers"):
        assert policy.purpose_by_key[key].consent == ConsentMode.opt_in, key
    assert Right.object in policy.rights.offered


def test_rig9_rig4_retailer_reviews_deactivation_case_by_case():
    """RIG-9, RIG-4, RET-3: deletion or deactivation "on a case-to-case basis"; archival records may remain."""
    policy = _policy("retailer")
    assert policy.rights.review == "case_by_case"
    assert {Right.erase, Right.deactivate} <= set(policy.rights.offered)
    assert [h.key for h in policy.holds] == ["archival_records"]


def test_xfr1_col3_retailer_transfers_outside_india_and_stores_no_card_data():
    """XFR-1, COL-3: data "might be within India our outside India"; banking details are never stored."""
    policy = _policy("retailer")
    assert policy.storage.regions == ["IN"]
    assert [t.to for t in policy.storage.transfers] == ["Outside India"]
    assert any(covers(k, "user.financial.credit_card") for k in policy.limits.never_store)


# --- 004 Spera ---------------------------------------------------------------------------------------------------


def test_ntc4_spera_declares_jurisdiction_governing_law_and_courts():
    """NTC-4: "governed by the laws of India ... brought exclusively in the courts of Kolkata, India"."""
    org = _policy("spera").organization
    assert org.jurisdiction == "India"
    assert org.governing_law is not None
    assert "India" in org.governing_law
    assert org.courts is not None
    assert "Kolkata" in org.courts


def test_sec1_sec2_sec3_spera_lists_its_security_measures():
    """SEC-1, SEC-2, SEC-3: "This includes encryption, access controls, firewalls, and regular security audits"."""
    measures = " ".join(_policy("spera").notice.security_measures).lower()
    for measure in ("encryption", "access control", "firewall", "audit", "training"):
        assert measure in measures, measure


def test_shr5_spera_never_sells_and_no_recipient_promotes():
    """SHR-5: "We do not sell, rent, or trade personal information with third parties for their promotional
    purposes" — and no declared recipient contradicts it."""
    policy = _policy("spera")
    assert policy.limits.never_sell
    assert not any(r.own_promotions or r.pays_for_data for r in policy.recipients)


def test_rig1_rig2_rig3_rig5_spera_rights_and_promotions_opt_out():
    """RIG-1, RIG-2, RIG-3, RIG-5: access, correct or delete; opt-out of promotional communications."""
    policy = _policy("spera")
    assert {Right.access, Right.rectify, Right.erase} <= set(policy.rights.offered)
    promotions = policy.purpose_by_key["promotions"]
    assert promotions.consent == ConsentMode.opt_out
    assert promotions.messages == MessageKind.marketing


def test_col1_spera_takes_client_provided_data():
    """COL-1: "Spera Digital may collect data provided by our clients" — a client-upload collection point."""
    client = _policy("spera").collection_point_by_key["client_data"]
    assert client.channel == "client_upload"
    assert not client.registers_subject


# --- 002 WS Outsourcer -------------------------------------------------------------------------------------------


def test_ret2_wsoutsourcer_caps_retention_at_a_month():
    """RET-2: "No purpose in this policy will require us keeping your personal information far longer than a month"."""
    policy = _policy("wsoutsourcer")
    cap = policy.limits.retention_cap
    assert cap == Duration.parse("P1M")
    for purpose in policy.purposes:
        assert purpose.retention.period <= cap, purpose.key
    for hold in policy.holds:
        assert hold.retention <= cap, hold.key


def test_min3_wsoutsourcer_guardian_may_consent():
    """MIN-3: "you are at least 18 or that you are the parent or guardian of such a minor and consent"."""
    minors = _policy("wsoutsourcer").minors
    assert minors.minimum_age == 18
    assert minors.guardian_may_consent


LINT_FINDINGS = {
    "wespro": [
        ("unused-category", "warning"),
        ("consent-basis", "error"),
        ("consent-basis", "error"),
        ("consent-basis", "error"),
    ],
    "wescom": [],
    "wsoutsourcer": [("sale-allowed", "warning")],
    "retailer": [("never-sell", "error"), ("never-sell", "error")],
    "spera": [],
}


@pytest.mark.parametrize("seed", sorted(LINT_FINDINGS))
def test_tool1_lint_reports_exactly_each_seeds_self_contradictions(seed):
    """TOOL-1 / SHR-5: lint finds what each seed text contradicts in itself, and nothing else (the list is the one
    in examples/policies/README.md)."""
    from vowkeep.policy.lint import lint

    found = [(p.rule, p.severity) for p in lint(load_file(POLICIES / f"{seed}.yaml").policy)]
    assert found == LINT_FINDINGS[seed]
