"""The privacy centre `/center` over HTTP: sign-in with a code from real mail (RIG-8), what is held (RIG-1, SHR-2),
correction (RIG-2), the portable copy (RIG-7), consent (USE-3, NTC-2), mail opt-outs (RIG-5, RIG-6), deactivation
and erasure (RIG-4, RIG-3), CSRF on every form and escaped output."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from tests.support.api import REGISTRATION, operator_headers, register, service_headers
from tests.support.center import ask_code, code_mailed, form_token, post, sign_in
from tests.support.rights import deliver, mailbox, mails_to
from vowkeep.store.tables import audit_log, center_sessions

ADA = REGISTRATION["email"]


def _give(client, consents, subject_id, purpose="partner_offers"):
    body = {"purpose": purpose, "choice": "given"}
    response = client.post(f"/api/v1/subjects/{subject_id}/consents", json=body, headers=consents)
    assert response.status_code == 201, response.text


@pytest.fixture
def mail(instance):
    with mailbox(instance) as inbox:
        yield inbox


@pytest.mark.postgres
def test_rig8_sign_in_with_the_code_from_the_mail_then_sign_out(client, instance, mail):
    """RIG-8: the code arrives by e-mail; entering it opens the dashboard; the session cookie is HttpOnly, SameSite
    Lax, limited to /center; only hashes are stored; sign-in and sign-out are audited; sign-out ends the session."""
    register(client)
    dashboard = sign_in(client, instance, mail, ADA)
    assert dashboard.status_code == 200 and "The data we hold about you" in dashboard.text
    assert "Lovelace" in dashboard.text
    instance.vault.settle_audit()
    with instance.engine.connect() as conn:
        row = conn.execute(select(center_sessions)).one()
        actions = list(conn.execute(select(audit_log.c.action)).scalars())
    assert len(row.code_hash) == 32 and len(row.token_hash) == 32
    assert ADA.encode() not in bytes(row.sealed)
    assert "center:sign-in" in actions
    post(client, "/center/sign-out", follow_redirects=False)
    assert "Send me a code" in client.get("/center").text
    instance.vault.settle_audit()
    with instance.engine.connect() as conn:
        assert "center:sign-out" in list(conn.execute(select(audit_log.c.action)).scalars())


def test_rig8_session_cookie_attributes(client, instance, mail):
    """RIG-8: the subject session is a separate cookie from the console's: HttpOnly, SameSite=Lax, path /center."""
    register(client)
    asked = ask_code(client, ADA)
    deliver(instance)
    path = asked.headers["location"]
    entered = client.post(
        path, data={"code": code_mailed(mail, ADA), "csrf_token": form_token(client, path)}, follow_redirects=False
    )
    cookie = entered.headers["set-cookie"].lower()
    assert cookie.startswith("vk_center=") and "httponly" in cookie and "samesite=lax" in cookie
    assert "path=/center" in cookie and "max-age=1800" in cookie


def test_rig8_a_wrong_code_is_refused_and_five_spend_the_sign_in(client, instance, mail):
    """RIG-8: a wrong code is refused with the tries left; after five, even the right code no longer opens it."""
    register(client)
    path = ask_code(client, ADA).headers["location"]
    deliver(instance)
    right = code_mailed(mail, ADA)
    wrong = "000000" if right != "000000" else "111111"
    first = client.post(path, data={"code": wrong, "csrf_token": form_token(client, path)})
    assert first.status_code == 400 and "4 tries left" in first.text
    for _ in range(4):
        client.post(path, data={"code": wrong, "csrf_token": form_token(client)})
    late = client.post(path, data={"code": right, "csrf_token": form_token(client)}, follow_redirects=False)
    assert late.status_code == 400 and "vk_center" not in late.headers.get("set-cookie", "")
    assert "Send me a code" in client.get("/center").text


def test_rig8_an_unknown_address_is_answered_exactly_like_a_known_one(client, instance, mail):
    """RIG-8: asking for a code answers the same for a known and an unknown address (status, page, mail); only the
    code's owner learns, after signing in, that nothing is held."""
    register(client)
    known = ask_code(client, ADA)
    unknown = ask_code(client, "nobody@example.org")
    assert known.status_code == unknown.status_code == 303
    assert known.headers["location"].rsplit("/", 1)[0] == unknown.headers["location"].rsplit("/", 1)[0]
    known_page, unknown_page = client.get(known.headers["location"]), client.get(unknown.headers["location"])
    strip = lambda r: r.text.replace(r.url.path, "").replace(form_token(client), "")  # noqa: E731
    assert known_page.status_code == unknown_page.status_code == 200
    assert strip(known_page) == strip(unknown_page)
    deliver(instance)
    assert len(mails_to(mail, ADA)) == len(mails_to(mail, "nobody@example.org")) == 1
    dashboard = sign_in(client, instance, mail, "nobody@example.org")
    assert "We hold no personal data linked to this e-mail address" in dashboard.text


def test_rig8_codes_per_address_are_limited_alike_for_known_and_unknown_addresses(client, instance, mail):
    """RIG-8: five codes an hour per address; the sixth is refused the same way whether the address is known."""
    register(client)
    for address in (ADA, "nobody@example.org"):
        for _ in range(5):
            assert ask_code(client, address).status_code == 303
        refused = ask_code(client, address)
        assert refused.status_code == 429 and "too many codes" in refused.text


def test_rig8_sign_ins_are_forgotten_after_a_day(client, instance, mail):
    """RIG-8, data minimisation: the hourly housekeeping deletes sign-ins (and their sealed address) after a day."""
    import datetime as dt

    from vowkeep import clock
    from vowkeep.store import jobs

    register(client)
    sign_in(client, instance, mail, ADA)
    clock.travel_to(clock.now() + dt.timedelta(hours=23))
    with instance.engine.begin() as conn:
        jobs.enqueue(conn, kind="rights.housekeeping")
    deliver(instance)
    with instance.engine.connect() as conn:
        assert len(conn.execute(select(center_sessions)).all()) == 1
    clock.travel_to(clock.now() + dt.timedelta(hours=2))
    with instance.engine.begin() as conn:
        jobs.enqueue(conn, kind="rights.housekeeping")
    deliver(instance)
    with instance.engine.connect() as conn:
        assert conn.execute(select(center_sessions)).all() == []


def test_rig1_shr2_everything_held_with_purpose_source_retention_and_disclosures(client, instance, mail):
    """RIG-1, SHR-2: each value grouped by category, with the collection point, purposes and retention end; the
    released disclosures about the person; the recipients the policy allows."""
    subject_id = register(client)
    officer = operator_headers(client, instance, "privacy_officer", "olga")
    admin = operator_headers(client, instance, "admin", "ann")
    body = {
        "recipient": "authorities",
        "purpose": "legal_compliance",
        "categories": ["user.contact.email"],
        "subject_ids": [subject_id],
        "legal_request": {"kind": "court_order", "reference": "Case 1", "scope": "Contact", "authority": "Court"},
    }
    filed = client.post("/api/v1/disclosures", json=body, headers=officer).json()["disclosure"]["id"]
    assert client.post(f"/api/v1/disclosures/{filed}/approve", headers=admin).status_code == 200
    assert client.post(f"/api/v1/disclosures/{filed}/release", headers=officer).status_code == 200
    text = sign_in(client, instance, mail, ADA).text
    for expected in ("E-mail address", "Account registration", "Ada", "+442079460958", "1985-12-10"):
        assert expected in text, expected
    assert "Who received your data" in text and "Courts, public authorities and law enforcement" in text
    assert "court order" in text
    assert "after your account is closed" in html.unescape(text)  # retention: the declared rule, not yet a date
    assert "correct horse" not in text and "$argon2" not in text  # a password is said to be held, never shown
    assert "kept only as a one-way hash" in text


def test_rig2_correction_is_made_through_the_gate_and_recorded_as_a_request(client, instance, mail):
    """RIG-2: a corrected value is validated, stored, shown, and recorded as a fulfilled correction request; an
    invalid one is refused and nothing changes."""
    subject_id = register(client)
    sign_in(client, instance, mail, ADA)
    changed = post(client, "/center/correct", {"field_last_name": "Byron"}, follow_redirects=False)
    assert changed.status_code == 303 and changed.headers["location"] == "/center?done=corrected"
    page = client.get(changed.headers["location"]).text
    assert "Byron" in page and "Your data was corrected." in page and "Correction" in page
    support = service_headers(instance, "purpose:account")
    read = client.get(f"/api/v1/subjects/{subject_id}", params={"purpose": "account"}, headers=support).json()
    assert {i["field"]: i["value"] for i in read["items"]}["last_name"] == "Byron"
    refused = post(client, "/center/correct", {"field_date_of_birth": "not a date"})
    assert refused.status_code == 400 and "The correction was refused" in refused.text
    assert "1985-12-10" in client.get("/center").text


def test_rig2_after_correcting_the_address_the_session_follows_it(client, instance, mail):
    """RIG-2: a corrected e-mail address is the one later requests match and mail go to."""
    register(client)
    sign_in(client, instance, mail, ADA)
    post(client, "/center/correct", {"field_email": "ada.byron@example.org"})
    page = client.get("/center").text
    assert "Signed in as ada.byron@example.org" in page
    got = post(client, "/center/export", {"format": "json"})
    assert got.status_code == 200, got.text
    assert {i["field"]: i["value"] for i in got.json()["subjects"][0]["items"]}["email"] == "ada.byron@example.org"
    deliver(instance)
    assert any("portability request: done" in m["Subject"] for m in mails_to(mail, "ada.byron@example.org"))


def test_rig7_download_the_portable_copy(client, instance, mail):
    """RIG-7: the copy downloads at once as JSON (and CSV), as a fulfilled portability request."""
    register(client)
    sign_in(client, instance, mail, ADA)
    got = post(client, "/center/export", {"format": "json"})
    assert got.status_code == 200 and got.headers["content-type"].startswith("application/json")
    assert "attachment" in got.headers["content-disposition"]
    copy = got.json()
    assert copy["format"] == "vowkeep-portability/1"
    values = {i["field"]: i["value"] for i in copy["subjects"][0]["items"]}
    assert values["email"] == ADA and values["first_name"] == "Ada"
    csv = post(client, "/center/export", {"format": "csv"})
    assert csv.status_code == 200 and "first_name" in csv.text and "Ada" in csv.text
    request_id = got.headers["content-disposition"].split("portability-")[1].split(".")[0]
    status = client.get(f"/requests/{request_id}")
    assert status.status_code == 200 and "fulfilled" in status.text.lower()


def test_use3_withdrawing_consent_in_the_centre_stops_a_consent_based_read(client, instance, mail):
    """USE-3: giving consent in the centre lets an opt-in purpose read; withdrawing it stops the next read at once."""
    subject_id = register(client)
    reader = service_headers(instance, "purpose:partner_offers")

    def read():
        return client.get(f"/api/v1/subjects/{subject_id}", params={"purpose": "partner_offers"}, headers=reader)

    assert read().status_code == 403
    text = sign_in(client, instance, mail, ADA).text
    assert "Partners" in text or "partner" in text.lower()
    post(client, "/center/consent", {"purpose": "partner_offers", "choice": "given"})
    assert read().status_code == 200
    post(client, "/center/consent", {"purpose": "partner_offers", "choice": "withdrawn"})
    denied = read()
    assert denied.status_code == 403 and denied.json()["rule"] == "consent-required"
    # A purpose that does not rest on consent cannot be switched off here.
    refused = post(client, "/center/consent", {"purpose": "account", "choice": "withdrawn"})
    assert refused.status_code == 400


@pytest.mark.parametrize("scope", ["marketing", "all_non_essential"])
def test_rig5_rig6_opt_out_from_the_centre_suppresses_the_address(client, instance, mail, scope):
    """RIG-5, RIG-6: the opt-out withdraws the scope's purposes and puts the address on the suppression list."""
    subject_id = register(client)
    consents = service_headers(instance, "consents")
    _give(client, consents, subject_id)
    sign_in(client, instance, mail, ADA)
    done = post(client, "/center/unsubscribe", {"scope": scope}, follow_redirects=False)
    assert done.headers["location"] == "/center?done=unsubscribed"
    from vowkeep.comms import suppression

    with instance.engine.connect() as conn:
        assert suppression.is_suppressed(conn, vault=instance.vault, address=ADA, kind="marketing")
    listed = client.get(f"/api/v1/subjects/{subject_id}/consents", headers=consents).json()["current"]
    current = {c["purpose"]: c for c in listed}
    if scope == "all_non_essential":
        assert current["partner_offers"]["allows_processing"] is False
    else:
        assert current["partner_offers"]["allows_processing"] is True
    assert current["marketing"]["allows_processing"] is False


def test_rig4_deactivate_and_reactivate(client, instance, mail):
    """RIG-4: deactivation stops every purpose at once (nothing is deleted); reactivation undoes it."""
    subject_id = register(client)
    reader = service_headers(instance, "purpose:account")

    def read():
        return client.get(f"/api/v1/subjects/{subject_id}", params={"purpose": "account"}, headers=reader)

    sign_in(client, instance, mail, ADA)
    assert read().status_code == 200
    post(client, "/center/deactivate")
    assert read().status_code == 403
    page = client.get("/center").text
    assert "Your account is deactivated" in page and "Ada" in page
    post(client, "/center/reactivate")
    assert read().status_code == 200


def test_rig3_deletion_shows_what_a_hold_keeps_and_goes_to_review(client, instance, mail):
    """RIG-3: the deletion page lists what a hold keeps (reason, end); the erasure request waits for an operator
    under `review: case_by_case`, appears in the queue and in the person's list; approved, the data is gone."""
    subject_id = register(client)
    officer = operator_headers(client, instance, "privacy_officer", "olga")
    hold = {"subject_id": subject_id, "hold": "fraud_investigation"}
    placed = client.post("/api/v1/holds", json=hold, headers=officer)
    assert placed.status_code == 201, placed.text
    sign_in(client, instance, mail, ADA)
    preview = client.get("/center/delete").text
    assert "What stays" in preview and "Fraud investigation" in preview
    unconfirmed = post(client, "/center/delete", {})
    assert unconfirmed.status_code == 400
    filed = post(client, "/center/delete", {"confirm": "yes"}, follow_redirects=False)
    assert filed.headers["location"] == "/center?done=erase-review"
    page = client.get("/center").text
    assert "Erasure" in page and "in review" in page
    queue = client.get("/api/v1/requests", params={"right": "erase"}, headers=officer).json()["requests"]
    assert [q["state"] for q in queue] == ["in_review"] and queue[0]["channel"] == "center"
    approved = client.post(f"/api/v1/requests/{queue[0]['id']}/approve", headers=officer)
    assert approved.status_code == 200, approved.text
    assert approved.json()["outcome"]["held"]


def test_rig3_erasure_without_review_is_done_at_once(tmp_path, mail_instance):
    """RIG-3: under `review: automatic` the erasure is fulfilled as soon as the signed-in person confirms."""
    client, instance, inbox = mail_instance
    register(client)
    sign_in(client, instance, inbox, ADA)
    done = post(client, "/center/delete", {"confirm": "yes"})
    assert done.status_code == 200 and "Your data was deleted" in done.text
    assert "Your data was erased" in client.get("/center").text


@pytest.fixture
def mail_instance(tmp_path):
    from fastapi.testclient import TestClient

    from tests.support import instances
    from tests.support.rights import declaration
    from vowkeep.web.app import create_app

    instance, result = instances.create(tmp_path / "auto", declaration(review="automatic"))
    try:
        with mailbox(instance) as inbox, TestClient(create_app(instance)) as test_client:
            test_client.service = {"Authorization": f"Bearer {result.api_key}"}
            yield test_client, instance, inbox
    finally:
        instance.close()


def test_ntc2_reconsent_after_a_material_change(client, instance, mail, cli, tmp_path):
    """NTC-2: after a material change to a consent-based purpose the centre shows a banner; consenting again there
    lets the purpose run again."""
    from tests.test_policy_notices import WIDER, _publish

    subject_id = register(client)
    consents = service_headers(instance, "consents")
    reader = service_headers(instance, "purpose:partner_offers")
    _give(client, consents, subject_id)
    assert _publish(cli, instance, tmp_path, WIDER).exit_code == 0
    read = client.get(f"/api/v1/subjects/{subject_id}", params={"purpose": "partner_offers"}, headers=reader)
    assert read.json()["rule"] == "reconsent-required"
    page = sign_in(client, instance, mail, ADA).text
    assert "Our privacy policy changed" in page and "I consent under the new policy" in page
    post(client, "/center/reconsent")
    assert "Our privacy policy changed" not in client.get("/center").text
    read = client.get(f"/api/v1/subjects/{subject_id}", params={"purpose": "partner_offers"}, headers=reader)
    assert read.status_code == 200


def test_min2_the_centre_links_to_the_minor_report(client):
    """MIN-2: the centre links to the form for reporting a child's account."""
    assert 'href="/report-minor"' in client.get("/center").text


FORMS = [
    ("/center/sign-in", {"email": "ada@example.org"}),
    ("/center/correct", {"field_last_name": "X"}),
    ("/center/export", {"format": "json"}),
    ("/center/consent", {"purpose": "partner_offers", "choice": "given"}),
    ("/center/reconsent", {}),
    ("/center/unsubscribe", {"scope": "marketing"}),
    ("/center/deactivate", {}),
    ("/center/reactivate", {}),
    ("/center/delete", {"confirm": "yes"}),
    ("/center/ask", {"kind": "question", "message": "hi"}),
    ("/center/contact", {"email": "x@example.org", "kind": "question", "message": "hi"}),
    ("/center/sign-out", {}),
]


def test_every_centre_form_refuses_a_post_without_its_csrf_token(client, instance, mail):
    """CSRF: every form of the centre is refused (403) without the token, and nothing changes."""
    register(client)
    sign_in(client, instance, mail, ADA)
    for path, data in FORMS:
        refused = client.post(path, data=data)
        assert refused.status_code == 403, path
        assert "This form has expired" in refused.text
    wrong = client.post("/center/deactivate", data={"csrf_token": "x" * 43})
    assert wrong.status_code == 403
    assert "Your account is deactivated" not in client.get("/center").text


XSS = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


def test_xss_payloads_in_every_field_come_back_escaped(client, instance, mail):
    """Output is escaped: a payload stored in a value, a correction, a message, and echoed in a form comes back as
    text, never as markup."""
    register(client, {**REGISTRATION, "address": XSS, "password_hint": XSS})
    sign_in(client, instance, mail, ADA)
    post(client, "/center/correct", {"field_first_name": XSS})
    post(client, "/center/ask", {"kind": "complaint", "message": XSS})
    pages = [client.get("/center").text, post(client, "/center/contact", {"email": XSS, "message": XSS}).text]
    pages.append(post(client, "/center/sign-in", {"email": XSS}).text)
    for text in pages:
        assert "<script>alert(1)</script>" not in text and "<img src=x" not in text
    assert html.escape(XSS, quote=True) in pages[0] or "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[0]
    # Stored in the address and hint, corrected into the first name, and written in the complaint: four times.
    assert pages[0].count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 4, pages[0]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[1] and "&lt;script&gt;" in pages[2]


def test_signed_out_forms_are_refused(client):
    """A centre action needs a session: without one it is a 401 page, not an action."""
    response = post(client, "/center/deactivate")
    assert response.status_code == 401 and "sign in again" in response.text


def test_the_sign_in_page_is_accessible_and_loads_nothing_from_outside(client):
    """Pages: landmarks, labels for inputs, no outside resources."""
    text = client.get("/center").text
    assert "<main" in text and "<nav" in text and '<label for="email">' in text
    assert "http://" not in text.replace("http://testserver", "") and "https://" not in text
