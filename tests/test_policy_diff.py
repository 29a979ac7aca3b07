"""`vowkeep policy diff`: every change between two declarations, material ones marked (NTC-2)."""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest
import yaml
from pydantic import ValidationError

from tests.conftest import POLICIES
from vowkeep.policy import load_text
from vowkeep.policy.diff import SECTIONS, diff
from vowkeep.policy.duration import Duration
from vowkeep.policy.errors import format_path
from vowkeep.policy.model import ChangeKind, Policy
from vowkeep.policy.references import check_references

SAMPLE = (POLICIES / "wsoutsourcer.yaml").read_text()
OLD = load_text(SAMPLE).policy

NEW_PURPOSE = """  - key: legal_compliance
"""
PROFILING = """  - key: profiling
    label: Profiling
    data_use: marketing.advertising.profiling
    categories: [user.behavior.browsing_history]
    legal_basis: consent
    consent: opt_in
    retention: {period: P1M}
  - key: legal_compliance
"""
MARKETING_CATEGORIES = "categories: [user.contact.email, user.name.first, user.demographic.profile]"


def _new(*replacements: tuple[str, str]) -> Policy:
    text = SAMPLE
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return load_text(text).policy


def _diff(*replacements: tuple[str, str]):
    return diff(OLD, _new(*replacements))


def _kinds(result) -> list[tuple[str, str, bool]]:
    return [(c.kind, format_path(c.path), c.material) for c in result.changes]


def test_identical_declarations_have_no_changes_NTC_2():
    result = diff(OLD, load_text(SAMPLE).policy)
    assert result.changes == []
    assert not result.material
    assert result.purposes_needing_reconsent() == []


def test_every_section_of_the_declaration_is_compared():
    assert set(SECTIONS) == set(Policy.model_fields)


# --- material kinds (NTC-2) -------------------------------------------------------------------------


def test_new_category_is_material_NTC_2():
    result = _diff(
        (
            "  - {key: user.demographic.date_of_birth, label: Date of birth}\n",
            "  - {key: user.demographic.date_of_birth, label: Date of birth}\n"
            "  - {key: user.demographic.gender, label: Gender}\n",
        )
    )
    assert _kinds(result) == [("new_category", "categories[17]", True)]
    assert result.changes[0].summary == "new category 'user.demographic.gender' (Gender)"
    assert result.changes[0].new == "user.demographic.gender"
    assert result.material


def test_new_purpose_is_material_and_needs_reconsent_NTC_2():
    result = _diff((NEW_PURPOSE, PROFILING))
    assert _kinds(result) == [("new_purpose", "purposes[11]", True)]
    assert result.changes[0].summary.startswith(
        "new purpose 'profiling' (Profiling): uses 'user.behavior.browsing_history'"
    )
    assert result.purposes_needing_reconsent() == ["profiling"]


def test_changed_data_use_is_a_new_purpose_NTC_2():
    result = _diff(("    data_use: marketing.advertising.third_party", "    data_use: marketing.advertising.profiling"))
    assert _kinds(result) == [("new_purpose", "purposes[8].data_use", True)]
    assert result.purposes_needing_reconsent() == ["advertising"]


def test_new_recipient_is_material_and_its_consent_purposes_need_reconsent_NTC_2():
    result = _diff(
        (
            "  - key: authorities\n",
            "  - key: more_partners\n    name: More partners\n    kind: partner\n    own_promotions: true\n"
            "    categories: [user.contact.email]\n    purposes: [partner_offers]\n  - key: authorities\n",
        )
    )
    assert _kinds(result) == [
        ("new_recipient", "recipients[7]", True),
        ("sale_allowed", "recipients[7]", True),
    ]
    assert result.purposes_needing_reconsent() == ["partner_offers"]


@pytest.mark.parametrize(
    ("old", "new", "kind"),
    [
        ("{period: P7D, after: collection}", "{period: P8D, after: collection}", "longer_retention"),
        ("{period: P7D, after: collection}", "{period: P6D, after: collection}", "shorter_retention"),
        # Nominal comparison: a week is seven days, and counting from a later event keeps data longer.
        ("{period: P7D, after: collection}", "{period: P1W, after: collection}", "retention_changed"),
        ("{period: P7D, after: collection}", "{period: P7D, after: last_activity}", "longer_retention"),
        ("{period: P7D, after: collection}", "{period: P7D, then: anonymise}", "retention_changed"),
    ],
)
def test_longer_retention_is_material_NTC_2(old, new, kind):
    result = _diff((f"    retention: {old}", f"    retention: {new}"))
    assert [c.kind for c in result.changes] == [kind]
    assert result.material is (kind == "longer_retention")
    assert result.purposes_needing_reconsent() == (["analytics"] if kind == "longer_retention" else [])


def test_longer_hold_raw_usage_window_and_cap_are_longer_retention_NTC_2():
    result = _diff(
        (
            "    categories: [user.name, user.contact]\n    retention: P1M",
            "    categories: [user.name, user.contact]\n    retention: P2M",
        ),
        ("  raw_retention: P7D", "  raw_retention: P14D"),
        ("  retention_cap: P1M\n", ""),
    )
    assert _kinds(result) == [
        ("longer_retention", "usage_data.raw_retention", True),
        ("longer_retention", "holds[0].retention", True),
        ("longer_retention", "limits.retention_cap", True),
    ]
    # Not tied to a consent-based purpose: nobody to ask again.
    assert result.purposes_needing_reconsent() == []


def test_lower_minimum_age_is_material_and_higher_is_not_NTC_2():
    assert _kinds(_diff(("  minimum_age: 18", "  minimum_age: 16"))) == [
        ("lower_minimum_age", "minors.minimum_age", True)
    ]
    assert _kinds(_diff(("  minimum_age: 18", "  minimum_age: 21"))) == [
        ("higher_minimum_age", "minors.minimum_age", False)
    ]


@pytest.mark.parametrize(
    ("old", "new", "kind", "reconsent"),
    [
        ("opt_in", "opt_out", "weaker_consent", ["partner_offers"]),
        ("opt_in", "none", "weaker_consent", []),  # nothing left to consent to
    ],
)
def test_weaker_consent_is_material_NTC_2(old, new, kind, reconsent):
    anchor = "    legal_basis: consent\n    consent: {}\n    retention: {{period: P1M, after: withdrawal}}"
    result = _diff((anchor.format(old), anchor.format(new)))
    assert _kinds(result) == [(kind, "purposes[7].consent", True)]
    assert result.purposes_needing_reconsent() == reconsent


def test_opt_out_to_none_is_weaker_and_opt_out_to_opt_in_is_stronger_NTC_2():
    assert _kinds(_diff(("    consent: opt_out\n", "    consent: none\n"))) == [
        ("weaker_consent", "purposes[6].consent", True)
    ]
    assert _kinds(_diff(("    consent: opt_out\n", "    consent: opt_in\n"))) == [
        ("stronger_consent", "purposes[6].consent", False)
    ]


def test_purpose_categories_added_is_material_and_removed_is_not_NTC_2():
    result = _diff((MARKETING_CATEGORIES, "categories: [user.contact.email, user.name, user.demographic.profile]"))
    assert _kinds(result) == [("purpose_categories_added", "purposes[6].categories", True)]
    assert "now also uses 'user.name'" in result.changes[0].summary
    # marketing is opt-out: its subjects are told and may object again.
    assert result.purposes_needing_reconsent() == ["marketing"]
    result = _diff((MARKETING_CATEGORIES, "categories: [user.contact.email, user.demographic.profile]"))
    assert _kinds(result) == [("purpose_categories_removed", "purposes[6].categories", False)]


def test_categories_added_to_a_purpose_without_consent_need_no_reconsent_NTC_2():
    result = _diff(
        (
            "    categories: [user.name, user.contact]\n    legal_basis: legitimate_interest",
            "    categories: [user.name, user.contact, user.content]\n    legal_basis: legitimate_interest",
        )
    )
    assert _kinds(result) == [("purpose_categories_added", "purposes[10].categories", True)]
    assert result.purposes_needing_reconsent() == []


def test_recipient_categories_added_is_material_NTC_2():
    result = _diff(
        (
            "    categories: [user.contact.email, user.name.first]\n    purposes: [partner_offers]",
            "    categories: [user.contact.email, user.name]\n    purposes: [partner_offers]",
        )
    )
    assert _kinds(result) == [("recipient_categories_added", "recipients[5].categories", True)]
    assert result.purposes_needing_reconsent() == ["partner_offers"]


def test_advertiser_losing_aggregate_only_gets_identifiable_data_NTC_2():
    result = _diff(("    aggregate_only: {min_group_size: 10}\n", ""))
    assert _kinds(result) == [("recipient_categories_added", "recipients[6].aggregate_only", True)]
    assert result.purposes_needing_reconsent() == ["advertising"]


def test_sale_allowed_when_never_sell_is_dropped_or_a_recipient_pays_NTC_2():
    old = _new(("never_sell: false", "never_sell: true"))
    result = diff(old, OLD)
    assert _kinds(result) == [("sale_allowed", "limits.never_sell", True)]
    assert _kinds(diff(OLD, old)) == [("sale_forbidden", "limits.never_sell", False)]
    result = _diff(("    kind: affiliate\n", "    kind: affiliate\n    pays_for_data: true\n"))
    assert _kinds(result) == [("sale_allowed", "recipients[4].pays_for_data", True)]
    assert result.changes[0].summary == "recipient 'affiliates' now pays for data"


def test_new_transfer_is_material_only_when_the_new_declaration_says_so_NTC_2():
    us = "      recipients: [payment_processor, email_delivery, hosting, analytics_provider]\n"
    transfer = (us, us + "    - to: JP\n      safeguard: Adequacy decision\n")
    result = _diff(transfer)
    assert _kinds(result) == [("new_transfer", "storage.transfers[1]", False)]
    assert result.changes[0].summary == "new transfer to JP (Adequacy decision)"
    material = "  notify: [email, banner]"
    result = _diff(transfer, (material, material + "\n  material: [new_transfer]"))
    assert ("new_transfer", "storage.transfers[1]", True) in _kinds(result)
    assert result.material


def test_recipients_added_to_a_transfer_are_a_new_transfer_NTC_2():
    us = "      recipients: [payment_processor, email_delivery, hosting, analytics_provider]"
    result = _diff((us, us[:-1] + ", affiliates]"))
    assert _kinds(result) == [("new_transfer", "storage.transfers[0].recipients", False)]
    assert result.changes[0].summary == "transfer to US now also for 'affiliates'"


def test_materiality_follows_the_new_declarations_list_NTC_2():
    result = _diff(
        (NEW_PURPOSE, PROFILING), ("  notify: [email, banner]", "  notify: [email, banner]\n  material: [new_category]")
    )
    assert ("new_purpose", "purposes[11]", False) in _kinds(result)
    assert not result.material
    assert result.purposes_needing_reconsent() == []


# --- minor changes --------------------------------------------------------------------------------


def test_minor_changes_are_listed_in_plain_language():
    result = _diff(
        ("effective_date: 2018-09-04", "effective_date: 2019-01-01"),
        ("    email: support@wsoutsourcer.com\n", "    email: privacy@wsoutsourcer.com\n"),
        ("    label: Forums\n", "    label: Community forums\n"),
        ("    Thank you for choosing", "    Thanks for choosing"),
        ("  regions: [EU]", "  regions: [EU, CH]"),
        ("  channels: [center, email]", "  channels: [center]"),
    )
    summaries = {c.kind: c.summary for c in result.changes}
    assert summaries == {
        "organization_changed": "contact email: 'support@wsoutsourcer.com' → 'privacy@wsoutsourcer.com'",
        "effective_date_changed": "effective date: '2018-09-04' → '2019-01-01'",
        "region_added": "data now also stored in CH",
        "purpose_changed": "purpose 'community' label: 'Forums' → 'Community forums'",
        "rights_changed": "rights channels: removed 'email'",
        "notice_changed": "notice introduction: reworded",
    }
    assert not result.material


def test_reordering_a_list_of_keys_is_no_change():
    assert (
        _diff(
            ("  regions: [EU]\n  transfers:", "  regions: [EU]\n  transfers:"),
            (
                "    purposes: [account, support, service_messages]",
                "    purposes: [support, account, service_messages]",
            ),
        ).changes
        == []
    )


def test_collection_point_fields_are_compared_by_name():
    result = _diff(
        ("      - {name: phone, category: user.contact.phone_number, type: phone}\n", ""),
        (
            "      - {name: post, category: user.content.public, type: text, required: true, max_length: 20000}",
            "      - {name: post, category: user.content.public, type: text, required: true, max_length: 10000}",
        ),
    )
    assert _kinds(result) == [
        ("field_removed", "collection_points[0].fields[6]", False),
        ("field_changed", "collection_points[2].fields[1].max_length", False),
    ]
    assert result.changes[1].old == 20000 and result.changes[1].new == 10000


def _leaves(data, path=()):
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _leaves(value, (*path, i))
    else:
        yield path, data


def _changed_value(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, dt.date):
        return value + dt.timedelta(days=1)
    try:
        return "P3D" if Duration.parse(value).text != "P3D" else "P4D"
    except ValueError:
        return value + "x"


def _set(data, path, value):
    for part in path[:-1]:
        data = data[part]
    data[path[-1]] = value


def test_every_change_to_any_value_is_listed_where_it_is():
    """Change each value of the sample in turn: whenever the result is still a valid declaration, the diff
    lists at least one change, at the changed element or one that contains it."""
    data = yaml.safe_load(SAMPLE)
    tried = 0
    for path, value in _leaves(data):
        mutated = copy.deepcopy(data)
        _set(mutated, path, _changed_value(value))
        try:
            new = Policy.model_validate(mutated)
        except ValidationError:
            continue
        if check_references(new):
            continue
        tried += 1
        changes = diff(OLD, new).changes
        assert changes, f"changing {format_path(path)} went unnoticed"
        related = [c for c in changes if c.path == path[: len(c.path)] or path == c.path[: len(path)]]
        assert related, f"{format_path(path)}: {[format_path(c.path) for c in changes]}"
    assert tried > 150


# --- the command ---------------------------------------------------------------------------------


def test_cli_diff_of_a_file_with_itself_prints_no_changes(cli, sample_policy_path):
    result = cli("policy", "diff", sample_policy_path, sample_policy_path)
    assert result.exit_code == 0
    assert result.stdout == "no changes\n"


def test_cli_diff_lists_material_changes_first_NTC_2(cli, tmp_path):
    new = tmp_path / "new.yaml"
    new.write_text(
        SAMPLE.replace("effective_date: 2018-09-04", "effective_date: 2019-01-01").replace(NEW_PURPOSE, PROFILING)
    )
    result = cli("policy", "diff", POLICIES / "wsoutsourcer.yaml", new)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("MATERIAL  new purpose 'profiling' (Profiling): uses")
    assert lines[0].endswith("(purposes[11])")
    assert lines[1] == "minor     effective date: '2018-09-04' → '2019-01-01'  (effective_date)"
    assert lines[2] == "re-consent needed for: profiling"
    assert lines[-1] == "2 changes, 1 material"


def test_cli_diff_json_NTC_2(cli, tmp_path):
    new = tmp_path / "new.yaml"
    new.write_text(SAMPLE.replace("  minimum_age: 18", "  minimum_age: 16"))
    result = cli("policy", "diff", POLICIES / "wsoutsourcer.yaml", new, "--json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["new"] == str(new)
    assert (report["material"], report["count"], report["material_count"]) == (True, 1, 1)
    assert report["purposes_needing_reconsent"] == []
    assert report["changes"] == [
        {
            "kind": "lower_minimum_age",
            "path": "minors.minimum_age",
            "summary": "minimum age lowered from 18 to 16",
            "material": True,
            "old": 18,
            "new": 16,
        }
    ]


def test_cli_diff_of_an_invalid_declaration_exits_1(cli, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(SAMPLE.replace("  minimum_age: 18", "  minimum_age: eighteen"))
    result = cli("policy", "diff", POLICIES / "wsoutsourcer.yaml", bad)
    assert result.exit_code == 1
    assert "minors.minimum_age" in result.stderr


def test_material_kinds_are_the_model_change_kinds():
    assert {str(k) for k in ChangeKind} == {
        "new_category", "new_purpose", "new_recipient", "longer_retention", "lower_minimum_age",
        "weaker_consent", "new_transfer", "purpose_categories_added", "recipient_categories_added", "sale_allowed",
    }  # fmt: skip
