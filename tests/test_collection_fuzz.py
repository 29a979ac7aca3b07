"""Bad input at the collection endpoint (COL-2): whatever arrives, never a 500 and never a partial write."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.support.api import REGISTRATION
from vowkeep.store.tables import blind_index, items, subjects

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=12,
)
# Submissions near the real shape (declared fields with wrong or hostile values, extra fields) and far from it.
field_values = st.one_of(
    json_values,
    st.sampled_from(
        [
            "4111111111111111",
            "+442079460958",
            "a@b.c",
            "",
            " ",
            "\x00",
            "<script>",
            "1985-02-30",
            "x" * 600,
            "😀" * 50,
            "4111-1111-1111-1111",
        ]
    ),
)
near_submissions = st.dictionaries(
    st.sampled_from([*REGISTRATION, "password_hint", "address", "extra", "__proto__"]), field_values, max_size=9
)


def _counts(instance):
    with instance.engine.connect() as conn:
        return tuple(
            conn.execute(select(func.count()).select_from(t)).scalar_one() for t in (subjects, items, blind_index)
        )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.one_of(near_submissions, json_values),
    point=st.sampled_from(["registration", "inquiry", "purchase", "social_login", "other_sources", "nope"]),
)
def test_col2_fuzzed_submissions_never_fail_with_500_or_store_half(client, instance, body, point):
    before = _counts(instance)
    response = client.post(f"/api/v1/collect/{point}", json=body, headers=client.service)
    assert response.status_code in (201, 404, 422), (response.status_code, response.text)
    after = _counts(instance)
    if response.status_code == 201:
        assert after[1] > before[1] or after[0] == before[0]
    else:
        assert after == before
        assert "Traceback" not in response.text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=200))
def test_col2_non_json_bodies_are_clean_422s(client, instance, raw):
    before = _counts(instance)
    response = client.post(
        "/api/v1/collect/registration", content=raw, headers={**client.service, "content-type": "application/json"}
    )
    assert response.status_code in (201, 400, 422), response.text
    if response.status_code != 201:
        assert json.loads(response.text)["error"] in {"bad_request", "invalid_request", "invalid_submission"}
        assert _counts(instance) == before
