"""`vowkeep policy lint` (TOOL-1): contradictions in a valid declaration, each with its rule, path and line."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from tests.conftest import POLICIES
from tests.test_policy_diff import _changed_value, _leaves, _set
from vowkeep.policy import load_text
from vowkeep.policy.diff import diff
from vowkeep.policy.errors import format_path
from vowkeep.policy.lint import RULES, counts, lint
from vowkeep.policy.model import Policy
from vowkeep.policy.references import check_references

SAMPLE = (POLICIES / "wsoutsourcer.yaml").read_text()


def _mutated(*replacements: tuple[str, str]) -> str:
    text = SAMPLE
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def _lint(*replacements: tuple[str, str]):
    loaded = load_text(_mutated(*replacements), "x.yaml")
    return lint(loaded.policy, lines=loaded.lines)


def _found(problems, rule: str) -> list[tuple[str, str]]:
    """(path, severity) of each problem of `rule`."""
    return [(format_path(p.path), p.severity) for p in problems if p.rule == rule]


def _message(problems, rule: str) -> str:
    (message,) = [p.message for p in problems if p.rule == rule]
    return message


def _line_of(text: str, needle: str) -> int:
    (line,) = [i for i, t in enumerate(text.splitlines(), 1) if needle in t]
    return line


# --- the sample declaration -------------------------------------------------------------------------


def test_sample_declaration_lints_with_one_warning_about_sale_TOOL_1():
    """WS Outsourcer shares data with business partners for their own promotions while never_sell is false:
    no never-sell error, but lint states the sale; nothing else is wrong."""
    loaded = load_text(SAMPLE, "wsoutsourcer.yaml")
    problems = lint(loaded.policy, lines=loaded.lines)
    assert [(p.rule, p.severity, format_path(p.path)) for p in problems] == [
        ("sale-allowed", "warning", "recipients[5].own_promotions")
    ]
    assert problems[0].line == _line_of(SAMPLE, "own_promotions: true")
    assert "business_partners" in problems[0].message
    assert counts(problems) == (0, 1)


def test_lint_without_lines_gives_paths_only():
    problems = lint(load_text(SAMPLE).policy)
    assert problems and all(p.line is None and p.path for p in problems)


def test_every_rule_has_an_id_severity_and_a_test():
    source = Path(__file__).read_text()
    for rule_id, rule in RULES.items():
        assert rule.severity in ("error", "warning")
        assert rule.summary and rule.promise
        assert f'"{rule_id}"' in source, f"no test names rule {rule_id}"


@pytest.mark.parametrize(
    "section", ["usage_data", "roles", "recipients", "reports", "cookie_categories", "cookies", "holds", "limits"]
)
def test_lint_and_diff_read_declarations_without_optional_sections(section):
    data = yaml.safe_load(SAMPLE)
    del data[section]
    if section == "recipients":
        del data["reports"], data["storage"]["transfers"]
    if section == "cookie_categories":
        del data["cookies"], data["usage_data"]["cookie_category"]
    policy = load_text(yaml.safe_dump(data)).policy
    assert all(p.rule in RULES for p in lint(policy))
    assert diff(load_text(SAMPLE).policy, policy).changes


def test_lint_reads_every_valid_variation_of_the_sample():
    """Each value of the sample changed in turn: whatever still loads, lint reads without an exception."""
    data = yaml.safe_load(SAMPLE)
    tried = 0
    for path, value in _leaves(data):
        mutated = copy.deepcopy(data)
        _set(mutated, path, _changed_value(value))
        try:
            policy = Policy.model_validate(mutated)
        except ValidationError:
            continue
        if not check_references(policy):
            tried += 1
            assert all(p.rule in RULES and p.path for p in lint(policy))
    assert tried > 150


# --- sale (SHR-5, SHR-6, SHR-3) ---------------------------------------------------------------------


def test_never_sell_with_a_recipient_for_its_own_promotions_is_an_error_SHR_5():
    problems = _lint(("never_sell: false", "never_sell: true"))
    assert _found(problems, "never-sell") == [("recipients[5].own_promotions", "error")]
    assert not _found(problems, "sale-allowed")
    assert "never_sell" in _message(problems, "never-sell")


def test_never_sell_with_a_paying_recipient_is_an_error_SHR_5():
    problems = _lint(
        ("never_sell: false", "never_sell: true"),
        ("    kind: affiliate\n", "    kind: affiliate\n    pays_for_data: true\n"),
    )
    assert ("recipients[4].pays_for_data", "error") in _found(problems, "never-sell")


def test_never_sell_with_a_partner_getting_identifiable_data_is_an_error_SHR_5():
    """A partner is a buyer even without `own_promotions`; an aggregate-only advertiser is not."""
    problems = _lint(
        ("never_sell: false", "never_sell: true"),
        ("    own_promotions: true\n", ""),
    )
    assert _found(problems, "never-sell") == [("recipients[5].kind", "error")]


def test_own_promotions_without_consent_is_an_error_SHR_6():
    problems = _lint(("    purposes: [partner_offers]\n", "    purposes: [partner_offers, account]\n"))
    assert _found(problems, "sale-without-consent") == [("recipients[5].purposes[1]", "error")]


def test_advertiser_that_is_not_aggregate_only_is_an_error_SHR_3():
    problems = _lint(("    aggregate_only: {min_group_size: 10}\n", ""))
    assert _found(problems, "advertiser-aggregate") == [("recipients[6].kind", "error")]
    # …and its report, and the sale it now is.
    assert _found(problems, "report-recipient") == [("reports[0].recipient", "error")]
    assert ("recipients[6].kind", "warning") in _found(problems, "sale-allowed")


def test_recipient_getting_categories_its_purposes_do_not_cover_is_an_error():
    problems = _lint(
        (
            "    categories: [user.name, user.contact, user.content]\n"
            "    # A buyer carries on the whole service: accounts, forums and support.\n"
            "    purposes: [account, community, support]\n",
            "    categories: [user.name, user.contact, user.content]\n    purposes: [account]\n",
        )
    )
    assert _found(problems, "recipient-categories") == [("recipients[8].categories[2]", "error")]
    message = _message(problems, "recipient-categories")
    assert "'user.content.public'" in message and "'user.content.private'" in message


def test_recipient_naming_a_parent_whose_held_children_are_all_covered_is_fine():
    """`hosting` gets `user.contact`: every contact category held is used by one of its purposes."""
    assert not _found(lint(load_text(SAMPLE).policy), "recipient-categories")


# --- financial data (USE-2) -------------------------------------------------------------------------


def test_financial_category_in_a_non_transaction_purpose_is_an_error_USE_2():
    problems = _lint(
        (
            "categories: [user.contact.email, user.name.first, user.demographic.profile]",
            "categories: [user.contact.email, user.name.first, user.demographic.profile, user.payment.card_token]",
        )
    )
    assert _found(problems, "financial-use") == [("purposes[6].categories[3]", "error")]


def test_parent_of_held_financial_data_in_a_non_transaction_purpose_is_an_error_USE_2():
    problems = _lint(
        (
            "    categories: [user.name, user.contact, user.content]\n    legal_basis: legal_obligation",
            "    categories: [user.name, user.contact, user.content, user]\n    legal_basis: legal_obligation",
        )
    )
    assert ("purposes[11].categories[3]", "error") in _found(problems, "financial-use")


def test_financial_category_to_a_non_transaction_recipient_is_an_error_USE_2():
    problems = _lint(
        (
            "    categories: [user.behavior.browsing_history]\n    purposes: [analytics]\n",
            "    categories: [user.behavior.browsing_history, user.payment.card_token]\n    purposes: [analytics]\n",
        )
    )
    assert _found(problems, "financial-use") == [("recipients[3].categories[1]", "error")]
    assert _found(problems, "recipient-categories") == [("recipients[3].categories[1]", "error")]


# --- retention (RET-2, RET-1, RET-3) ----------------------------------------------------------------


def test_purpose_retention_over_the_cap_is_an_error_nominally_RET_2():
    """Durations compare nominally: P30D fits a cap of P1M, P31D does not."""
    anchor = 'far longer than a month."\n    retention: {period: P1M, after: account_closure}'
    assert not _found(_lint((anchor, anchor.replace("P1M", "P30D"))), "retention-cap")
    problems = _lint((anchor, anchor.replace("P1M", "P31D")))
    assert _found(problems, "retention-cap") == [("purposes[0].retention.period", "error")]
    assert "P31D is longer than limits.retention_cap P1M" in _message(problems, "retention-cap")


def test_hold_and_raw_usage_retention_over_the_cap_are_errors_RET_2():
    problems = _lint(
        (
            "    categories: [user.name, user.contact]\n    retention: P1M",
            "    categories: [user.name, user.contact]\n    retention: P2M",
        ),
        ("  raw_retention: P7D", "  raw_retention: P6W"),
    )
    assert _found(problems, "retention-cap") == [("holds[0].retention", "error"), ("usage_data.raw_retention", "error")]


def test_no_cap_no_retention_errors_RET_2():
    problems = _lint(("  retention_cap: P1M\n", ""), ("  raw_retention: P7D", "  raw_retention: P1Y"))
    assert not _found(problems, "retention-cap")


def test_non_essential_cookie_outliving_the_cap_is_a_warning_RET_2():
    problems = _lint(
        (
            "{name: vk_visitor, category: analytics, purpose: analytics, lifetime: P30D",
            "{name: vk_visitor, category: analytics, purpose: analytics, lifetime: P1Y",
        )
    )
    # vk_consent (essential, P1Y) is not reported; vk_visitor is.
    assert _found(problems, "cookie-lifetime-cap") == [("cookies[2].lifetime", "warning")]


def test_retention_after_withdrawal_of_a_purpose_without_consent_is_an_error_RET_1():
    problems = _lint(
        (
            "    legal_basis: legitimate_interest\n    retention: {period: P1M, after: last_activity}",
            "    legal_basis: legitimate_interest\n    retention: {period: P1M, after: withdrawal}",
        )
    )
    assert _found(problems, "retention-never-starts") == [("purposes[2].retention.after", "error")]


def test_hold_keeping_categories_its_purpose_does_not_use_is_an_error_RET_3():
    problems = _lint(
        (
            "    categories: [user.name, user.contact]\n    retention: P1M",
            "    categories: [user.name, user.contact, user.content]\n    retention: P1M",
        )
    )
    assert _found(problems, "hold-categories") == [("holds[0].categories[2]", "error")]


# --- categories and collection (COL-3) -----------------------------------------------------------------


def test_category_named_but_not_declared_is_an_error():
    problems = _lint(
        (
            "categories: [user.contact.email, user.name.first, user.demographic.profile]",
            "categories: [user.contact.email, user.name.first, user.demographic.profile, user.demographic.gender]",
        ),
        (
            "never_store: [user.financial.credit_card, ",
            "never_store: [user.financial.credit_card, user.financial.bank_account, ",
        ),
        (
            "      - {name: profile, category: user.demographic.profile,",
            "      - {name: profile, category: user.demographic,",
        ),
    )
    assert _found(problems, "undeclared-category") == [
        ("purposes[6].categories[3]", "error"),
        ("limits.never_store[1]", "error"),
        # A field stores values of exactly its category: a parent of declared ones is not declared.
        ("collection_points[6].fields[2].category", "error"),
    ]


def test_parent_of_declared_categories_and_child_of_a_declared_parent_count_as_declared():
    problems = _lint(
        (
            "categories: [user.contact.email, user.name.first, user.demographic.profile]",
            "categories: [user.contact.email, user.name.first, user.demographic]",
        ),
    )
    assert not _found(problems, "undeclared-category")
    problems = _lint(
        (
            "  - {key: user.name.first, label: First name}\n  - {key: user.name.last, label: Last name}\n",
            "  - {key: user.name, label: Name}\n",
        ),
    )
    assert not _found(problems, "undeclared-category")


def test_declared_category_that_no_purpose_uses_is_a_warning():
    problems = _lint(
        (
            "  - {key: user.demographic.date_of_birth, label: Date of birth}\n",
            "  - {key: user.demographic.date_of_birth, label: Date of birth}\n"
            "  - {key: user.demographic.gender, label: Gender}\n",
        )
    )
    assert _found(problems, "unused-category") == [("categories[17].key", "warning")]
    assert counts(problems) == (0, 2)


def test_field_collecting_what_none_of_its_purposes_uses_is_an_error():
    problems = _lint(
        (
            "      # Only what marketing uses is kept: no last name.\n",
            "      - {name: last_name, category: user.name.last, type: text}\n",
        )
    )
    assert _found(problems, "field-purpose") == [("collection_points[6].fields[1].category", "error")]


def test_never_store_category_collected_is_an_error_COL_3():
    problems = _lint(
        (
            "      - {name: card_last4, category: user.payment.card_token, type: card_last4}\n",
            "      - {name: card_last4, category: user.payment.card_token, type: card_last4}\n"
            "      - {name: card_number, category: user.financial.credit_card, type: text}\n",
        )
    )
    assert _found(problems, "never-store-collected") == [("collection_points[4].fields[4].category", "error")]
    assert not _found(problems, "field-purpose")


def test_never_store_category_used_by_a_purpose_is_a_warning_COL_3():
    problems = _lint(
        (
            "categories: [user.contact.email, user.payment.card_token, user.contact.address]\n    legal_basis",
            "categories: [user.contact.email, user.payment.card_token, user.contact.address, "
            "user.financial.credit_card]\n    legal_basis",
        )
    )
    assert _found(problems, "never-store-used") == [("purposes[5].categories[3]", "warning")]


def test_identifying_by_a_field_without_a_blind_index_is_an_error():
    problems = _lint(
        (
            "    purposes: [account, service_messages, partner_offers]\n    identify_by: [email]",
            "    purposes: [account, service_messages, partner_offers]\n    identify_by: [email, first_name]",
        )
    )
    assert _found(problems, "identify-lookup") == [("collection_points[0].identify_by[1]", "error")]


# --- consent (USE-3, RIG-5) ----------------------------------------------------------------------


def test_opt_in_purpose_without_a_consent_path_is_an_error_USE_3():
    problems = _lint(("purposes: [account, service_messages, partner_offers]", "purposes: [account, service_messages]"))
    assert _found(problems, "consent-path") == [("purposes[7].consent", "error")]


def test_opt_in_email_purpose_without_a_sign_up_is_an_error_USE_3():
    problems = _lint(
        ("purposes: [account, service_messages, partner_offers]", "purposes: [account, service_messages]"),
        (
            "    legal_basis: consent\n    consent: opt_in\n    retention: {period: P1M, after: withdrawal}",
            "    legal_basis: consent\n    consent: opt_in\n    messages: marketing\n"
            "    retention: {period: P1M, after: withdrawal}",
        ),
    )
    message = _message(problems, "consent-path")
    assert "unsubscribe link only withdraws" in message


def test_cookie_banner_is_a_consent_path_USE_3():
    """`advertising` is opt-in and on no form: the advertising cookie category is where consent is given."""
    problems = _lint(("    advertising: true\n    purposes: [advertising]", "    advertising: true\n    purposes: []"))
    assert _found(problems, "consent-path") == [("purposes[8].consent", "error")]


def test_opt_out_purpose_without_a_way_to_object_is_an_error_USE_3():
    problems = _lint(
        ("    messages: marketing\n", ""),
        (
            "offered: [access, rectify, erase, deactivate, object, portability]",
            "offered: [access, rectify, erase, deactivate, portability]",
        ),
    )
    assert _found(problems, "objection-path") == [("purposes[6].consent", "error")]


def test_consent_basis_needs_opt_in_USE_3():
    problems = _lint(
        (
            "    legal_basis: consent\n    consent: opt_in\n    retention: {period: P1M, after: withdrawal}",
            "    legal_basis: consent\n    consent: opt_out\n    retention: {period: P1M, after: withdrawal}",
        )
    )
    assert _found(problems, "consent-basis") == [("purposes[7].consent", "error")]


def test_marketing_email_without_consent_or_opt_out_is_an_error_RIG_5():
    problems = _lint(("    consent: opt_out\n    messages: marketing", "    consent: none\n    messages: marketing"))
    assert _found(problems, "marketing-consent") == [("purposes[6].messages", "error")]


# --- cookies and usage data (CK-1, CK-2, CK-4) -------------------------------------------------------


def test_cookie_without_purpose_is_an_error_CK_4():
    problems = _lint(
        ("{name: vk_consent, category: essential, purpose: account,", "{name: vk_consent, category: essential,")
    )
    assert _found(problems, "cookie-purpose") == [("cookies[0]", "error")]


def test_cookie_serving_a_purpose_outside_its_category_is_an_error_CK_2():
    problems = _lint(("category: advertising, purpose: advertising", "category: advertising, purpose: analytics"))
    assert _found(problems, "cookie-category-purpose") == [("cookies[3].purpose", "error")]


def test_essential_cookie_category_serving_consent_purposes_is_an_error_CK_1():
    problems = _lint(
        (
            "    essential: true\n    purposes: [account]",
            "    essential: true\n    advertising: true\n    purposes: [account, analytics]",
        )
    )
    assert _found(problems, "essential-cookie-consent") == [
        ("cookie_categories[0].advertising", "error"),
        ("cookie_categories[0].purposes[1]", "error"),
    ]


def test_usage_data_serving_a_purpose_outside_its_cookie_category_is_an_error_CK_2():
    problems = _lint(
        ("  purposes: [analytics]\n  raw_retention: P7D", "  purposes: [analytics, advertising]\n  raw_retention: P7D")
    )
    assert _found(problems, "usage-data-purpose") == [("usage_data.purposes[1]", "error")]


# --- reports (SHR-3) ---------------------------------------------------------------------------------


def test_report_to_a_recipient_that_is_not_aggregate_only_is_an_error_SHR_3():
    problems = _lint(
        (
            "    recipient: ad_companies\n    purpose: advertising",
            "    recipient: analytics_provider\n    purpose: analytics",
        )
    )
    assert _found(problems, "report-recipient") == [("reports[0].recipient", "error")]
    assert not _found(problems, "report-purpose")


def test_report_purpose_not_among_its_recipients_purposes_is_an_error_SHR_3():
    problems = _lint(
        ("    recipient: ad_companies\n    purpose: advertising", "    recipient: ad_companies\n    purpose: analytics")
    )
    assert _found(problems, "report-purpose") == [("reports[0].purpose", "error")]


@pytest.mark.parametrize(("budget", "fires"), [(None, True), (0.5, True), (5, False)])
def test_report_noise_must_fit_the_recipients_budget_SHR_3(budget, fires):
    group = "{min_group_size: 10}" if budget is None else f"{{min_group_size: 10, epsilon_budget: {budget}}}"
    problems = _lint(
        ("    aggregate_only: {min_group_size: 10}\n", f"    aggregate_only: {group}\n"),
        ("    measure: visitors\n", "    measure: visitors\n    epsilon: 1.0\n"),
    )
    assert _found(problems, "report-epsilon") == ([("reports[0].epsilon", "error")] if fires else [])


def test_traffic_report_by_a_signal_not_collected_is_an_error_SHR_3():
    problems = _lint(("    dimensions: [country]", "    dimensions: [country, search_terms]"))
    assert _found(problems, "report-dimension") == [
        ("reports[0].dimensions[1]", "error"),
        ("reports[0].dimensions[1]", "error"),
    ]


@pytest.mark.parametrize(
    ("dimension", "message"),
    [
        ("page", None),
        ("total", None),
        ("search", "but usage_data.collect does not collect 'search_terms'"),
        (
            "pages",
            "which is not a traffic dimension (one of: total, page, referrer, browser, os, device_class, "
            "country, language, search)",
        ),
    ],
)
def test_traffic_report_dimensions_are_the_roll_ups_SHR_3(dimension, message):
    """SHR-3: a traffic report groups by a dimension of the daily roll-up, whose usage signal is collected."""
    problems = _lint(("    dimensions: [country]", f"    dimensions: [{dimension}]"))
    if message is None:
        assert not _found(problems, "report-dimension")
    else:
        assert (
            _message(problems, "report-dimension") == f"report 'visits_by_country' groups by '{dimension}', {message}"
        )


ITEM_REPORT = (
    "    source: traffic\n    dimensions: [country]\n    measure: visitors",
    "    source: items\n    dimensions: [{dims}]\n    measure: {measure}",
)


@pytest.mark.parametrize(
    ("dims", "measure", "rule", "message"),
    [
        ("user.behavior.browsing_history", "subjects", None, None),
        (
            "user.contact.email",
            "subjects",
            "report-dimension",
            "but its purpose 'advertising' does not declare 'user.contact.email'",
        ),
        (
            "user.behavior.browsing_history:month",
            "subjects",
            "report-dimension",
            "but ':month' is not a known generalisation (use ':year' for a date)",
        ),
        ("user.behavior.browsing_history", "visitors", "report-measure", None),
    ],
)
def test_item_reports_group_by_their_purposes_categories_and_count_subjects_SHR_3(dims, measure, rule, message):
    """SHR-3: an item report groups subjects by categories its purpose declares, and counts subjects."""
    problems = _lint((ITEM_REPORT[0], ITEM_REPORT[1].format(dims=dims, measure=measure)))
    found = {p.rule for p in problems} & {"report-dimension", "report-measure"}
    assert found == ({rule} if rule else set())
    if message:
        assert _message(problems, rule).endswith(message)
    if rule == "report-measure":
        assert _message(problems, "report-measure") == (
            "report 'visits_by_country' counts visitors, but a report over items counts subjects"
        )


def test_a_year_is_taken_only_of_dates_SHR_3():
    problems = _lint(
        (ITEM_REPORT[0], ITEM_REPORT[1].format(dims="user.name.first:year", measure="subjects")),
        (
            "    categories: [user.behavior.browsing_history]\n    legal_basis: consent",
            "    categories: [user.behavior.browsing_history, user.name.first]\n    legal_basis: consent",
        ),
    )
    assert _message(problems, "report-dimension").endswith("but 'user.name.first' is not collected as a date")


def test_traffic_report_counts_visitors_or_events_SHR_3():
    problems = _lint(("    measure: visitors", "    measure: subjects"))
    assert _found(problems, "report-measure") == [("reports[0].measure", "error")]


# --- transfers (XFR-1) -------------------------------------------------------------------------------


def test_transfer_naming_a_recipient_that_gets_nothing_is_a_warning_XFR_1():
    problems = _lint(
        (
            "    categories: [user.name, user.contact, user.content]\n"
            "    purposes: [legal_compliance, fraud_prevention]",
            "    purposes: [legal_compliance, fraud_prevention]",
        ),
        (
            "recipients: [payment_processor, email_delivery, hosting, analytics_provider]",
            "recipients: [payment_processor, email_delivery, hosting, analytics_provider, authorities]",
        ),
    )
    assert _found(problems, "transfer-recipient") == [("storage.transfers[0].recipients[4]", "warning")]


@pytest.mark.parametrize(
    ("recipient", "country", "fires"),
    [
        ("affiliate", "JP", True),
        ("affiliate", "DE", False),
        ("processor\n    categories: [user.name, user.contact, user.content]", "US", False),
    ],
)
def test_recipient_abroad_without_a_transfer_is_a_warning_XFR_1(recipient, country, fires):
    problems = _lint((f"    kind: {recipient}\n", f"    kind: {recipient}\n    country: {country}\n"))
    assert bool(_found(problems, "undeclared-transfer")) is fires


# --- minors (MIN-1, MIN-3) ---------------------------------------------------------------------------


def test_account_creation_without_an_age_check_is_an_error_MIN_1():
    problems = _lint(("    age_check: attestation\n    providers", "    age_check: none\n    providers"))
    assert _found(problems, "age-gate") == [("collection_points[5].registers_subject", "error")]


def test_age_check_by_date_of_birth_needs_the_field_MIN_1():
    problems = _lint(
        ("      - {name: date_of_birth, category: user.demographic.date_of_birth, type: date, required: true}\n", "")
    )
    assert _found(problems, "age-check-field") == [("collection_points[0].age_check", "error")]


def test_guardian_consent_with_minimum_age_zero_is_a_warning_MIN_3():
    problems = _lint(("  minimum_age: 18", "  minimum_age: 0"))
    assert _found(problems, "guardian-minimum-age") == [("minors.guardian_may_consent", "warning")]
    assert not _found(problems, "age-gate")


# --- the command -------------------------------------------------------------------------------------


def test_cli_lint_of_the_sample_exits_0_with_its_warning_TOOL_1(cli, sample_policy_path):
    result = cli("policy", "lint", sample_policy_path)
    assert result.exit_code == 0, result.output
    line = _line_of(SAMPLE, "own_promotions: true")
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{sample_policy_path}:{line}: recipients[5].own_promotions: [sale-allowed] warning: ")
    assert lines[-1] == "0 errors, 1 warning"


def test_cli_lint_errors_exit_1_with_file_line_path_and_rule_TOOL_1(cli, tmp_path):
    text = _mutated(("never_sell: false", "never_sell: true"), ("  raw_retention: P7D", "  raw_retention: P2M"))
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    result = cli("policy", "lint", path)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    raw = _line_of(text, "raw_retention: P2M")
    own = _line_of(text, "own_promotions: true")
    assert lines[0].startswith(f"{path}:{raw}: usage_data.raw_retention: [retention-cap] raw usage events")
    assert lines[1].startswith(f"{path}:{own}: recipients[5].own_promotions: [never-sell] limits.never_sell")
    assert lines[-1] == "2 errors, 0 warnings"


def test_cli_lint_json_TOOL_1(cli, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        _mutated(("  minimum_age: 18", "  minimum_age: 0"), ("    aggregate_only: {min_group_size: 10}\n", ""))
    )
    result = cli("policy", "lint", path, "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert set(report) == {"file", "errors", "warnings", "problems"}
    assert report["file"] == str(path)
    assert (report["errors"], report["warnings"]) == (2, 3)
    assert {p["rule"] for p in report["problems"]} == {
        "advertiser-aggregate",
        "report-recipient",
        "sale-allowed",
        "guardian-minimum-age",
    }
    first = report["problems"][0]
    assert set(first) == {"path", "line", "severity", "rule", "message"}
    assert isinstance(first["line"], int)


def test_cli_lint_json_of_the_sample_exits_0(cli, sample_policy_path):
    result = cli("policy", "lint", sample_policy_path, "--json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert (report["errors"], report["warnings"]) == (0, 1)


def test_cli_lint_of_a_declaration_that_fails_check_prints_check_errors(cli, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        SAMPLE.replace(
            "purposes: [marketing, partner_offers, contests]", "purposes: [markting, partner_offers, contests]"
        )
    )
    result = cli("policy", "lint", path)
    assert result.exit_code == 1
    assert "roles[2].purposes[0]: unknown purpose 'markting'" in result.stderr
    result = cli("policy", "lint", path, "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["errors"] == 1 and report["problems"][0]["rule"] == "reference"


def test_cli_lint_of_a_missing_file(cli, tmp_path):
    result = cli("policy", "lint", tmp_path / "nope.yaml")
    assert result.exit_code == 1
    assert "file not found" in result.stderr
