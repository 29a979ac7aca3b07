"""`vowkeep policy check`: a declaration is valid, or every problem is named with its path and line."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import POLICIES
from vowkeep.policy import PolicyError, load_bytes, load_text

SAMPLE = (POLICIES / "wsoutsourcer.yaml").read_text()


def _mutated(old: str, new: str, count: int = 1) -> str:
    assert old in SAMPLE, old
    return SAMPLE.replace(old, new, count)


def test_sample_declaration_checks_ok(cli, sample_policy_path):
    result = cli("policy", "check", sample_policy_path)
    assert result.exit_code == 0, result.output
    assert "ok — WS Outsourcer" in result.stdout


def test_unknown_category_names_path_line_and_nearest_key(cli, tmp_path):
    """An unknown fideslang key is named with its YAML path, its line and the nearest valid key."""
    text = _mutated(
        "categories: [user.contact.email, user.name.first, user.demographic.profile]",
        "categories: [user.contact.emial, user.name.first, user.demographic.profile]",
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "user.contact.emial" in t)
    result = cli("policy", "check", bad)
    assert result.exit_code == 1
    assert (
        f"{bad}:{line}: purposes[6].categories[0]: unknown category 'user.contact.emial'"
        f" — did you mean 'user.contact.email'?"
    ) in result.stderr
    assert "Traceback" not in result.output


def test_unknown_key_suggests_field(cli, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(_mutated("  cookie_category: analytics", "  cookie_categroy: analytics"))
    result = cli("policy", "check", bad)
    assert result.exit_code == 1
    assert "usage_data.cookie_categroy: unknown key 'cookie_categroy' — did you mean 'cookie_category'?" in (
        result.stderr
    )


def test_wrong_type_and_bad_duration_are_named(tmp_path):
    text = _mutated("  minimum_age: 18", "  minimum_age: eighteen")
    text = text.replace("response_deadline: P30D", "response_deadline: thirty days")
    with pytest.raises(PolicyError) as caught:
        load_text(text, "x.yaml")
    messages = str(caught.value)
    assert "minors.minimum_age" in messages
    assert "rights.response_deadline: 'thirty days' is not an ISO-8601 duration" in messages


def test_custom_category_must_extend_a_fideslang_key(tmp_path):
    text = _mutated("    extends: user.social\n", "    extends: user.socail\n")
    with pytest.raises(PolicyError) as caught:
        load_text(text, "x.yaml")
    assert "'user.socail' is not a fideslang category — did you mean 'user.social'?" in str(caught.value)


def test_custom_category_without_extends_is_refused():
    text = _mutated("  - key: user.social.friends\n    extends: user.social\n", "  - key: user.social.friends\n")
    with pytest.raises(PolicyError) as caught:
        load_text(text, "x.yaml")
    assert "a custom category needs `extends:`" in str(caught.value)


def test_unknown_reference_suggests_nearest_purpose():
    text = _mutated(
        "    purposes: [marketing, partner_offers, contests]", "    purposes: [markting, partner_offers, contests]"
    )
    with pytest.raises(PolicyError) as caught:
        load_text(text, "x.yaml")
    assert "roles[2].purposes[0]: unknown purpose 'markting' — did you mean 'marketing'?" in str(caught.value)


def test_duplicate_yaml_key_is_an_error():
    text = SAMPLE.replace("effective_date: 2018-09-04", "effective_date: 2018-09-04\neffective_date: 2019-01-01")
    with pytest.raises(PolicyError) as caught:
        load_text(text, "x.yaml")
    assert "effective_date: is given twice" in str(caught.value)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "NUL bytes"),
        (b"\xff\xfe\xfa", "is not UTF-8"),
        (b"organization: [\n", "is not valid YAML"),
        (b"- a\n- b\n", "must be a YAML mapping"),
        (b"just words", "must be a YAML mapping"),
        (b"vowkeep: 2\n", "unsupported declaration schema version"),
        (b"a: &a [*a, *a]\n", "unknown key"),
    ],
)
def test_malformed_files_give_clean_errors(cli, tmp_path, content, expected):
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    result = cli("policy", "check", path)
    assert result.exit_code == 1
    assert expected in result.stderr
    assert "Traceback" not in result.output


def test_missing_file_is_a_clean_error(cli, tmp_path):
    result = cli("policy", "check", tmp_path / "nope.yaml")
    assert result.exit_code == 1
    assert "file not found" in result.stderr


def test_billion_laughs_is_cheap():
    lol = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8)
    )
    with pytest.raises(PolicyError):
        load_text(lol)


yaml_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20), st.dates()
)
yaml_values = st.recursive(
    yaml_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(section=st.sampled_from(list(yaml.safe_load(SAMPLE))), value=yaml_values)
def test_generated_malformed_sections_always_give_a_clean_error(section, value):
    """Any section replaced by arbitrary YAML data gives a Policy or a PolicyError — never another exception."""
    data = yaml.safe_load(SAMPLE)
    data[section] = value
    text = yaml.safe_dump(data, allow_unicode=True)
    try:
        load_text(text, "generated.yaml")
    except PolicyError as exc:
        assert exc.problems and all(p.message for p in exc.problems)


@settings(max_examples=200, deadline=None)
@given(raw=st.binary(max_size=300))
def test_generated_binary_junk_always_gives_a_clean_error(raw):
    try:
        load_bytes(raw, "junk.yaml")
    except PolicyError as exc:
        assert exc.problems


@settings(max_examples=100, deadline=None)
@given(cut=st.integers(min_value=0, max_value=len(SAMPLE)))
def test_truncated_declarations_always_give_a_clean_error(cut):
    try:
        load_text(SAMPLE[:cut], "truncated.yaml")
    except PolicyError as exc:
        assert exc.problems


def test_report_named_traffic_is_reserved():
    text = SAMPLE.replace("  - key: visits_by_country\n", "  - key: traffic\n")
    with pytest.raises(PolicyError) as caught:
        load_text(text, "x.yaml")
    assert "reports[0].key: 'traffic' is reserved for the usage statistics report" in str(caught.value)
