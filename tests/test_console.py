"""The operator console over HTTP, section by section, as an operator's browser meets it (without JavaScript):
the request queue with due dates and approve/deny (RIG-9, RIG-10), the disclosure register and legal requests
(SHR-2, SHR-4), holds and retention (RET-1, RET-3), the audit chain status (SEC-3), consent and traffic charts
(COL-5, USE-3), policy versions and their diff (NTC-1, NTC-2); need-to-know roles (USE-5), CSRF and escaping."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
import yaml
from sqlalchemy import select, update

from tests.conftest import POLICIES
from tests.support.api import REGISTRATION, register
from tests.support.rights import deliver, file_request, filed_and_verified, mailbox, outcome_mail
from vowkeep import clock
from vowkeep.policy import load_text
from vowkeep.policy.diff import diff
from vowkeep.store.tables import audit_log, disclosures, holds, rights_requests
from vowkeep.vault import operators

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def csrf_of(page_text: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page_text).group(1)


def sign_in(client, instance, role: str, username: str | None = None) -> str:
    """Sign in on the console's form as a new operator with `role`; returns a CSRF token for later forms."""
    username = username or f"op-{role}"
    with instance.engine.begin() as conn:
        _, password = operators.add(conn, policy=instance.vault.policy, username=username, role=role)
    client.cookies.clear()
    token = csrf_of(client.get("/admin/login").text)
    response = client.post(
        "/admin/login", data={"username": username, "password": password, "csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    return token


def nav_links(page_text: str) -> list[str]:
    nav = re.search(r'<nav aria-label="Main">(.*?)</nav>', page_text, re.S).group(1)
    return re.findall(r'href="(/admin[^"]*)"', nav)


def state_of(instance, request_id: str) -> str:
    with instance.engine.connect() as conn:
        return conn.execute(select(rights_requests.c.state).where(rights_requests.c.id == request_id)).scalar_one()


@pytest.mark.postgres
def test_rig9_queue_shows_due_dates_overdue_first_and_approval_fulfils(client, instance):
    """RIG-9: the console's queue shows each request's due date, overdue ones first; approving one fulfils it and
    the requester is told by e-mail."""
    register(client)
    with mailbox(instance) as inbox:
        clock.travel_to(clock.now() - timedelta(days=40), frozen=False)
        late, _ = filed_and_verified(client, instance, inbox, "access", REGISTRATION["email"])
        clock.reset()
        fresh, _ = filed_and_verified(client, instance, inbox, "portability", "someone.else@example.org")
        token = sign_in(client, instance, "admin")
        queue = client.get("/admin/requests")
        assert queue.status_code == 200
        assert "1 overdue." in queue.text
        assert queue.text.index(f"/admin/requests/{late}") < queue.text.index(f"/admin/requests/{fresh}")
        assert 'class="overdue"' in queue.text and "30 days" in queue.text

        detail = client.get(f"/admin/requests/{late}")
        assert "in review" in detail.text and REGISTRATION["email"] in detail.text
        approved = client.post(f"/admin/requests/{late}/approve", data={"csrf_token": token}, follow_redirects=True)
        assert approved.status_code == 200
        assert "Approved: the request was fulfilled" in approved.text
        assert state_of(instance, late) == "fulfilled"
        deliver(instance)
        assert outcome_mail(inbox, REGISTRATION["email"]) is not None


def test_rig9_deny_needs_a_reason_and_it_comes_back_escaped(client, instance):
    """RIG-9: a denial carries a reason the requester reads; in the console it is shown escaped, never as markup;
    the note the requester wrote (their own text) is escaped too."""
    register(client, {**REGISTRATION, "email": "eve@example.org"})
    with mailbox(instance) as inbox:
        request_id, _ = filed_and_verified(client, instance, inbox, "access", "eve@example.org", note=XSS)
    token = sign_in(client, instance, "privacy_officer")
    empty = client.post(f"/admin/requests/{request_id}/deny", data={"csrf_token": token, "reason": " "})
    assert empty.status_code == 422 and "needs a reason" in empty.text
    assert state_of(instance, request_id) == "in_review"
    denied = client.post(
        f"/admin/requests/{request_id}/deny",
        data={"csrf_token": token, "reason": XSS, "denial": "suspected_fraud"},
        follow_redirects=True,
    )
    assert denied.status_code == 200 and state_of(instance, request_id) == "denied"
    assert XSS not in denied.text and "<img src=x" not in denied.text
    assert html.escape(XSS, quote=False) in denied.text.replace("&#34;", '"').replace("&#39;", "'")


def test_rig10_operator_files_a_request_received_by_email(client, instance):
    """RIG-10: an operator files a request that arrived by e-mail; a code goes to the requester."""
    token = sign_in(client, instance, "admin")
    page = client.get("/admin/requests").text
    # The sample declaration takes requests by the privacy centre and by e-mail (not by phone).
    assert "File a request received by email" in page and "<option>phone</option>" not in page
    filed = client.post(
        "/admin/requests",
        data={"csrf_token": token, "right": "access", "email": "caller@example.org", "channel": "email"},
        follow_redirects=True,
    )
    assert filed.status_code == 200 and "Filed: a code was sent" in filed.text
    assert "by email (filed by operator:op-admin)" in filed.text
    phone = client.post(
        "/admin/requests",
        data={"csrf_token": token, "right": "access", "email": "caller@example.org", "channel": "phone"},
    )
    assert phone.status_code == 422 and "not taken by &#39;phone&#39;" in phone.text


def test_csrf_missing_or_wrong_token_is_refused_and_nothing_changes(client, instance):
    """Every console form needs its CSRF token: without it, or with another, the change is refused (403)."""
    register(client, {**REGISTRATION, "email": "mallory@example.org"})
    with mailbox(instance) as inbox:
        request_id, _ = filed_and_verified(client, instance, inbox, "access", "mallory@example.org")
    sign_in(client, instance, "admin")
    for data in ({}, {"csrf_token": "x" * 43}):
        refused = client.post(f"/admin/requests/{request_id}/approve", data=data)
        assert refused.status_code == 403 and "security token" in refused.text
    assert state_of(instance, request_id) == "in_review"
    assert client.post("/admin/holds", data={"subject_id": "x", "hold": "legal_claim"}).status_code == 403


def test_use5_a_narrow_role_sees_only_its_sections_and_gets_403_elsewhere(client, instance):
    """USE-5: need to know — a support agent's nav lists no section its role may not open, and each such section
    answers 403 (the inbox it answers is listed); a marketer sees the charts but not the requests; an administrator
    sees every section."""
    sign_in(client, instance, "support_agent")
    home = client.get("/admin")
    assert home.status_code == 200
    assert nav_links(home.text) == ["/admin", "/admin/inbox", "/admin/policy"]
    for path in (
        "/admin/requests",
        "/admin/disclosures",
        "/admin/holds",
        "/admin/retention",
        "/admin/audit",
        "/admin/conformance",
        "/admin/charts",
    ):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "Not allowed" in response.text
    assert client.get("/admin/policy").status_code == 200

    sign_in(client, instance, "marketer")
    assert nav_links(client.get("/admin").text) == ["/admin", "/admin/charts", "/admin/policy"]
    assert client.get("/admin/charts").status_code == 200
    assert client.get("/admin/requests").status_code == 403

    sign_in(client, instance, "admin")
    assert len(nav_links(client.get("/admin").text)) == 10


def test_console_needs_a_signed_in_operator(client):
    for path in ("/admin/requests", "/admin/audit", "/admin/policy"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/admin/login"


@pytest.mark.postgres
def test_shr4_legal_request_recorded_then_approved_by_another_operator(client, instance):
    """SHR-4: a legal request is recorded with its reference and scope and waits; the one who filed it cannot
    approve it; another operator approves it. SHR-2: the register shows it, its fields escaped."""
    subject_id = register(client)
    token = sign_in(client, instance, "privacy_officer", "officer-1")
    page = client.get("/admin/disclosures")
    assert page.status_code == 200 and "Record a legal request" in page.text
    recipient = re.search(r'name="recipient" value="([^"]+)"', page.text).group(1)
    purpose = re.search(r'id="purpose-[^"]+" name="purpose"><option>([^<]+)<', page.text).group(1)
    category = re.search(r'name="categories" value="([^"]+)"', page.text).group(1)
    filed = client.post(
        "/admin/disclosures/legal",
        data={
            "csrf_token": token,
            "recipient": recipient,
            "purpose": purpose,
            "categories": [category],
            "subject_ids": subject_id,
            "kind": "court_order",
            "reference": "CO-1234/2026",
            "scope": XSS,
            "authority": "County Court",
        },
        follow_redirects=True,
    )
    assert filed.status_code == 200, filed.text
    assert "waits for another operator" in filed.text and "CO-1234/2026" in filed.text
    assert XSS not in filed.text and "&lt;script&gt;" in filed.text
    with instance.engine.connect() as conn:
        [row] = conn.execute(select(disclosures)).all()
    assert row.state == "pending" and row.kind == "legal"
    assert "Another operator approves it." in filed.text
    own = client.post(f"/admin/disclosures/{row.id}/approve", data={"csrf_token": token})
    assert own.status_code == 403

    token = sign_in(client, instance, "privacy_officer", "officer-2")
    approved = client.post(f"/admin/disclosures/{row.id}/approve", data={"csrf_token": token}, follow_redirects=True)
    assert approved.status_code == 200 and "Approved" in approved.text
    with instance.engine.connect() as conn:
        assert conn.execute(select(disclosures.c.state)).scalar_one() == "approved"

    # Released once from the console: the data comes back as a file; a second release is refused.
    assert client.post(f"/admin/disclosures/{row.id}/release").status_code == 403  # no CSRF token
    released = client.post(f"/admin/disclosures/{row.id}/release", data={"csrf_token": token})
    assert released.status_code == 200, released.text
    assert released.headers["content-disposition"] == f'attachment; filename="disclosure-{row.id}.json"'
    body = released.json()
    assert body["disclosure"]["state"] == "released" and body["data"][0]["items"]
    again = client.post(f"/admin/disclosures/{row.id}/release", data={"csrf_token": token})
    assert again.status_code == 409 and "already released" in again.text


def test_ret3_place_and_end_a_hold_from_the_console(client, instance):
    """RET-3: an operator who manages holds places a declared hold on a subject, sees it open, and ends it."""
    subject_id = register(client)
    token = sign_in(client, instance, "privacy_officer")
    placed = client.post(
        "/admin/holds",
        data={"csrf_token": token, "subject_id": subject_id, "hold": "fraud_investigation"},
        follow_redirects=True,
    )
    assert placed.status_code == 200 and "The hold is placed" in placed.text and subject_id in placed.text
    unknown = client.post("/admin/holds", data={"csrf_token": token, "subject_id": "nobody", "hold": "legal_claim"})
    assert unknown.status_code == 404
    with instance.engine.connect() as conn:
        hold_id = conn.execute(select(holds.c.id)).scalar_one()
    ended = client.post(f"/admin/holds/{hold_id}/end", data={"csrf_token": token}, follow_redirects=True)
    assert "The hold is ended" in ended.text and "No open holds." in ended.text


@pytest.mark.postgres
def test_ret1_retention_page_forecasts_what_expires_next(client, instance):
    """RET-1, RET-2: the retention page shows each purpose's declared retention within the cap, and counts what
    the sweeper removes now and within 7 and 30 days."""
    entry = {"email": "old@example.org", "card_token": "tok_demo_4242", "card_last4": "4242"}
    for days_ago, email in ((45, "old@example.org"), (20, "recent@example.org")):
        clock.travel_to(clock.now() - timedelta(days=days_ago), frozen=False)
        response = client.post("/api/v1/collect/purchase", json={**entry, "email": email}, headers=client.service)
        assert response.status_code == 201, response.text
        clock.reset()
    sign_in(client, instance, "privacy_officer")
    page = client.get("/admin/retention")
    assert page.status_code == 200
    assert "No purpose keeps anything longer than 1 month." in page.text
    row = re.search(r'<th scope="row">user.contact.email</th><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td>', page.text)
    assert row is not None and row.groups() == ("1", "1", "2")


def test_sec3_audit_page_shows_the_chain_status(client, instance):
    """SEC-3: the audit page verifies the hash chain on each visit: intact, then broken once a record is altered."""
    register(client)
    sign_in(client, instance, "privacy_officer")
    page = client.get("/admin/audit")
    assert page.status_code == 200 and "<strong>Intact.</strong>" in page.text and "collect" in page.text
    instance.vault.settle_audit()
    with instance.engine.begin() as conn:
        first = conn.execute(select(audit_log.c.seq).order_by(audit_log.c.seq)).scalars().first()
        conn.execute(update(audit_log).where(audit_log.c.seq == first).values(action="tampered"))
    broken = client.get("/admin/audit")
    assert "<strong>Broken</strong>" in broken.text and f"at record {first}" in broken.text


def test_ntc1_ntc2_policy_versions_and_their_diff(client, instance, tmp_path, cli):
    """NTC-1: every published version is listed; NTC-2: a version shows what changed from the one before, material
    changes marked."""
    text = (POLICIES / "wsoutsourcer.yaml").read_text()
    data = yaml.safe_load(text)
    data["rights"]["response_deadline"] = "P20D"
    data["purposes"][0]["retention"]["period"] = "P3W"
    path = tmp_path / "v2.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    result = cli("policy", "publish", path, "--data-dir", instance.settings.data_dir)
    assert result.exit_code == 0, result.output
    sign_in(client, instance, "support_agent")
    listing = client.get("/admin/policy")
    assert "Version 1" in listing.text and "Version 2" in listing.text
    page = client.get("/admin/policy/2")
    assert page.status_code == 200 and "Changes from version 1" in page.text
    expected = diff(load_text(text, "v1").policy, load_text(path.read_text(), "v2").policy)
    assert expected.changes
    for change in expected.changes:
        assert html.escape(change.summary, quote=True).replace("&#x27;", "&#39;") in page.text
    assert client.get("/admin/policy/9").status_code == 404
    assert "The first version" in client.get("/admin/policy/1").text


@pytest.mark.postgres
def test_col5_use3_charts_are_server_rendered_svg(client, instance):
    """COL-5, USE-3: the charts page draws consent choices and traffic as inline SVG — no script, nothing fetched."""
    for n, accepted in enumerate((["analytics"], ["analytics"], [])):
        choice = client.post("/t/consent", json={"cid": f"visitor{n:02d}" + "v" * 14, "accepted": accepted})
        assert choice.status_code in (200, 201), choice.text
    sign_in(client, instance, "marketer")
    page = client.get("/admin/charts")
    assert page.status_code == 200
    assert page.text.count("<svg") == 5 and "<script" not in page.text
    assert 'role="img"' in page.text and "Current consent choices per purpose" in page.text
    # The numbers behind the consent chart: two visitors accepted analytics, one refused it.
    analytics = instance.vault.policy.purpose_by_key["analytics"].label
    assert re.search(
        rf'<th scope="row">{re.escape(html.escape(analytics))}</th><td>2</td><td>1</td><td>0</td>', page.text
    )
    assert f"{html.escape(analytics)}, given: 2" in page.text
    assert "http://" not in page.text.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_file_request_helper_is_used_the_same_way(client, instance):
    """RIG-10: a request filed by the person (privacy centre channel) appears in the queue as waiting for its code."""
    with mailbox(instance):
        filed = file_request(client, "access", "zoe@example.org")
    sign_in(client, instance, "admin")
    page = client.get(f"/admin/requests/{filed['id']}")
    assert "verifying" in page.text and "It can be approved once the requester has confirmed" in page.text
