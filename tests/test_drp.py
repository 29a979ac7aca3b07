"""RIG-10: authorized agents file requests through the Data Rights Protocol 1.0 — Ed25519-signed bodies (the
signature, then the JSON, base64, text/plain), a pairwise bearer token, statuses mapped from the workflow, times
with explicit offsets. The negative cases are ours to prove: a bad signature, a wrong business id, an expired
message, another agent's token — 403, and nothing recorded."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from nacl.signing import SigningKey
from sqlalchemy import select

from tests.support.api import REGISTRATION, operator_headers, register
from tests.support.receiver import http_receiver
from tests.support.rights import deliver, last_code, mailbox, outcome_mail, write_declaration
from vowkeep import clock
from vowkeep.store.tables import drp_agents, rights_requests

pytestmark = pytest.mark.postgres
EMAIL = REGISTRATION["email"]
AGENT = "CONSUMER_AGENT"
OTHER = "OTHER_AGENT"
BUSINESS = "WS_OUTSOURCER"


@pytest.fixture
def sample_policy_path(tmp_path):
    return write_declaration(tmp_path, channels=["center", "email", "agent"])


@pytest.fixture
def keys():
    return {AGENT: SigningKey.generate(), OTHER: SigningKey.generate()}


@pytest.fixture
def configured(cli, instance, keys, backend):
    """The business id and two trusted agents, configured through the CLI."""
    env = {"VOWKEEP_DATABASE_URL": backend} if backend else {}
    data_dir = instance.settings.data_dir
    assert cli("drp", "business-id", BUSINESS, "--data-dir", data_dir, env=env).exit_code == 0
    for agent_id, key in keys.items():
        verify_key = base64.b64encode(bytes(key.verify_key)).decode()
        done = cli("drp", "trust", agent_id, "--name", agent_id.title(), "--verify-key", verify_key,
                   "--data-dir", data_dir, env=env)  # fmt: skip
        assert done.exit_code == 0, done.stderr
    listed = cli("drp", "agents", "--data-dir", data_dir, env=env)
    assert AGENT in listed.stdout and "no token yet" in listed.stdout
    bad = cli("drp", "trust", "X", "--name", "x", "--verify-key", "not-a-key", "--data-dir", data_dir, env=env)
    assert bad.exit_code == 1 and "32-byte" in bad.stderr
    return keys


def signed(key: SigningKey, message: dict) -> bytes:
    return base64.b64encode(key.sign(json.dumps(message).encode()))


def claims(agent_id=AGENT, *, business=BUSINESS, issued=None, ttl=timedelta(minutes=10), **extra) -> dict:
    issued = issued or clock.now()
    return {
        "agent-id": agent_id,
        "business-id": business,
        "issued-at": issued.isoformat(),
        "expires-at": (issued + ttl).isoformat(),
        "drp.version": "1.0",
        **extra,
    }


def pair(client, keys, agent_id=AGENT) -> str:
    response = client.post(
        f"/v1/agent/{agent_id}",
        content=signed(keys[agent_id], claims(agent_id)),
        headers={"content-type": "text/plain"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["agent-id"] == agent_id
    return response.json()["token"]


def exercise(client, key, token, message):
    return client.post(
        "/v1/data-rights-request",
        content=signed(key, message),
        headers={"content-type": "text/plain", "authorization": f"Bearer {token}"},
    )


def _requests(instance):
    with instance.engine.connect() as conn:
        return conn.execute(select(rights_requests)).all()


def test_rig10_an_agent_pairs_and_files_a_verified_access_request(client, instance, configured, monkeypatch):
    """RIG-10: pairwise setup issues a token (kept only as a hash); an access request with a verified e-mail goes
    straight to review; the operator approves; the agent's callback receives the new status; the person is mailed
    a link to their copy."""
    register(client)
    token = pair(client, configured)
    with instance.engine.connect() as conn:
        stored = conn.execute(select(drp_agents.c.token_hash).where(drp_agents.c.id == AGENT)).scalar()
    assert stored is not None and token.encode() not in bytes(stored)
    info = client.get(f"/v1/agent/{AGENT}", headers={"authorization": f"Bearer {token}"})
    assert info.status_code == 200 and info.json() == {}
    assert client.get(f"/v1/agent/{OTHER}", headers={"authorization": f"Bearer {token}"}).status_code == 403
    # The agent's receiver listens on this machine: allow callbacks to local addresses for this test.
    monkeypatch.setenv("VOWKEEP_DRP_PRIVATE_CALLBACKS", "allow")
    with http_receiver([200]) as callback, mailbox(instance) as inbox:
        response = exercise(
            client,
            configured[AGENT],
            token,
            claims(
                exercise="access",
                regime="ccpa",
                email=EMAIL,
                email_verified=True,
                name="Ada Lovelace",
                status_callback=f"{callback.url}/drp/status",
                **{"agent-request-id": "agent-req-1"},
            ),
        )
        assert response.status_code == 200, response.text
        status = response.json()
        assert status["status"] == "in_progress" and "reason" not in status
        assert status["agent_request_id"] == "agent-req-1"
        assert status["received_at"].endswith("+00:00") and status["expected_by"].endswith("+00:00")
        request_id = status["request_id"]
        [row] = _requests(instance)
        assert (row.channel, row.agent_id, row.state, row.verified_by) == ("agent", AGENT, "in_review", "agent")
        assert row.filed_by == f"agent:{AGENT}"
        reviewer = operator_headers(client, instance, "privacy_officer", "olga")
        assert client.post(f"/api/v1/requests/{request_id}/approve", headers=reviewer).status_code == 200
        deliver(instance)
        [posted] = callback.received
        pushed = json.loads(posted.body)
        assert posted.path == "/drp/status" and pushed["status"] == "fulfilled"
        assert pushed["results_url"].endswith(f"/requests/{request_id}") and pushed["expires_at"].endswith("+00:00")
        assert "/verify?code=" in outcome_mail(inbox, EMAIL).get_content()
    now = client.get(f"/v1/data-rights-request/{request_id}", headers={"authorization": f"Bearer {token}"})
    assert now.status_code == 200 and now.json()["status"] == "fulfilled"
    assert "ready" in now.json()["processing_details"]


def test_rig10_without_an_agent_attestation_the_person_verifies(client, instance, configured):
    """RIG-8 with RIG-10: an agent that does not attest a verified address gets `need_user_verification`; the
    person is mailed a code like anyone else."""
    register(client)
    token = pair(client, configured)
    with mailbox(instance) as inbox:
        response = exercise(client, configured[AGENT], token, claims(exercise="deletion", email=EMAIL))
        assert response.status_code == 200, response.text
        status = response.json()
        assert (status["status"], status["reason"]) == ("in_progress", "need_user_verification")
        assert status["user_verification_url"].endswith(f"/requests/{status['request_id']}/verify")
        deliver(instance)
        code = last_code(inbox, EMAIL)
    verified = client.post(f"/api/v1/requests/{status['request_id']}/verify", json={"code": code})
    assert verified.status_code == 200
    after = client.get(f"/v1/data-rights-request/{status['request_id']}", headers={"authorization": f"Bearer {token}"})
    assert after.json()["status"] == "in_progress" and "reason" not in after.json()
    [row] = _requests(instance)
    assert row.kind == "erase"


def test_rig10_refusals_are_403_and_record_nothing(client, instance, configured):
    """RIG-10 negative cases: bad signature, unknown agent, wrong business id, expired or future messages, times
    without an offset, no token, another agent's token — each a 403, and no request and no token recorded."""
    register(client)
    key, other_key = configured[AGENT], configured[OTHER]
    setups = [
        (AGENT, other_key, claims()),  # signed with another key
        ("UNKNOWN", key, claims("UNKNOWN")),  # not trusted
        (AGENT, key, claims(OTHER)),  # the path and the claim disagree
        (AGENT, key, claims(business="SOMEONE_ELSE")),
        (AGENT, key, claims(issued=clock.now() - timedelta(minutes=20))),  # expired
    ]
    for path_id, signing, message in setups:
        refused = client.post(f"/v1/agent/{path_id}", content=signed(signing, message))
        assert refused.status_code == 403 and refused.content == b"", message
    garbage = client.post(f"/v1/agent/{AGENT}", content=b"this is not base64!")
    assert garbage.status_code == 403
    with instance.engine.connect() as conn:
        assert all(r.token_hash is None for r in conn.execute(select(drp_agents)))

    token = pair(client, configured)
    other_token = pair(client, configured, OTHER)
    naive = claims(exercise="access", email=EMAIL)
    naive["issued-at"] = clock.now().replace(tzinfo=None).isoformat()
    cases = [
        (other_key, token, claims(exercise="access", email=EMAIL)),  # bad signature for this token's agent
        (key, token, claims(exercise="access", email=EMAIL, business="SOMEONE_ELSE")),
        (key, token, claims(exercise="access", email=EMAIL, issued=clock.now() - timedelta(minutes=11))),
        (key, token, claims(exercise="access", email=EMAIL, issued=clock.now() + timedelta(minutes=5))),
        (key, token, naive),
        (key, other_token, claims(exercise="access", email=EMAIL)),  # another agent's token
        (other_key, other_token, claims(exercise="access", email=EMAIL)),  # ...claiming to be this agent
        (key, "not-a-token", claims(exercise="access", email=EMAIL)),
    ]
    for signing, bearer, message in cases:
        refused = exercise(client, signing, bearer, message)
        assert refused.status_code == 403, (message, refused.text)
        assert refused.json()["code"] == "403"
    assert client.post("/v1/data-rights-request", content=signed(key, claims(exercise="access"))).status_code == 403
    assert _requests(instance) == []

    filed = exercise(client, key, token, claims(exercise="access", email=EMAIL)).json()
    foreign = client.get(
        f"/v1/data-rights-request/{filed['request_id']}", headers={"authorization": f"Bearer {other_token}"}
    )
    assert foreign.status_code == 403
    revoke = client.request(
        "DELETE",
        f"/v1/data-rights-request/{filed['request_id']}",
        content=signed(other_key, {"reason": "not mine"}),
        headers={"authorization": f"Bearer {other_token}"},
    )
    assert revoke.status_code == 403
    assert [r.state for r in _requests(instance)] == ["verifying"]


def test_rig10_the_agent_revokes_a_request(client, instance, configured):
    """RIG-10: a signed DELETE withdraws an open request: the status becomes `revoked`."""
    register(client)
    token = pair(client, configured)
    key = configured[AGENT]
    filed = exercise(client, key, token, claims(exercise="deletion", email=EMAIL, email_verified=True)).json()
    bad = client.request(
        "DELETE",
        f"/v1/data-rights-request/{filed['request_id']}",
        content=signed(configured[OTHER], {"reason": "x"}),
        headers={"authorization": f"Bearer {token}"},
    )
    assert bad.status_code == 403
    revoked = client.request(
        "DELETE",
        f"/v1/data-rights-request/{filed['request_id']}",
        content=signed(key, {"reason": "I changed my mind"}),
        headers={"authorization": f"Bearer {token}"},
    )
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    again = client.request(
        "DELETE",
        f"/v1/data-rights-request/{filed['request_id']}",
        content=signed(key, {"reason": "again"}),
        headers={"authorization": f"Bearer {token}"},
    )
    assert again.status_code == 400 and again.json()["fatal"] is False


def test_rig10_exercises_map_to_rights_the_declaration_offers(client, instance, configured):
    """RIG-10: `deletion` is an erasure, `sale:opt_out` an objection to every purpose that sells or shares;
    an unsupported action or version is a fatal 400 and records nothing; an untrusted agent is refused after
    `vowkeep drp distrust`."""
    register(client)
    token = pair(client, configured)
    key = configured[AGENT]
    unsupported = exercise(client, key, token, claims(exercise="sale:opt_in", email=EMAIL))
    assert unsupported.status_code == 400 and unsupported.json()["fatal"] is True
    old = exercise(client, key, token, {**claims(exercise="access", email=EMAIL), "drp.version": "0.9.4"})
    assert old.status_code == 400 and "1.0" in old.json()["message"]
    no_email = exercise(client, key, token, claims(exercise="access", name="Ada"))
    assert no_email.status_code == 400
    assert _requests(instance) == []
    opt_out = exercise(client, key, token, claims(exercise="sale:opt_out", email=EMAIL, email_verified=True))
    assert opt_out.status_code == 200, opt_out.text
    [row] = _requests(instance)
    assert row.kind == "object" and row.purposes == ["advertising", "partner_offers"]


def test_rig10_a_distrusted_agent_is_refused(client, instance, configured, cli, backend):
    register(client)
    token = pair(client, configured)
    env = {"VOWKEEP_DATABASE_URL": backend} if backend else {}
    assert cli("drp", "distrust", AGENT, "--data-dir", instance.settings.data_dir, env=env).exit_code == 0
    refused = exercise(client, configured[AGENT], token, claims(exercise="access", email=EMAIL))
    assert refused.status_code == 403
    again = client.post(f"/v1/agent/{AGENT}", content=signed(configured[AGENT], claims()))
    assert again.status_code == 403


def test_rig10_status_callbacks_never_reach_private_addresses(monkeypatch):
    """An agent names the callback URL, so the server refuses to POST to loopback or private networks
    unless the operator allows it."""
    from vowkeep.rights.drp import callback_refusal

    monkeypatch.delenv("VOWKEEP_DRP_PRIVATE_CALLBACKS", raising=False)
    for url in (
        "http://127.0.0.1:9000/x",
        "http://10.1.2.3/cb",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/cb",
        "http://localhost/cb",
    ):
        assert callback_refusal(url) is not None, url
    monkeypatch.setenv("VOWKEEP_DRP_PRIVATE_CALLBACKS", "allow")
    assert callback_refusal("http://127.0.0.1:9000/x") is None
