"""The privacy inbox (NTC-3): a question or complaint — from the public form or the privacy centre — is tracked in
the console until an operator answers it, and the answer reaches the asker by e-mail (a real SMTP server)."""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.support.api import REGISTRATION, register
from tests.support.center import csrf_of, form_token, post, sign_in
from tests.support.rights import deliver, mailbox, mails_to
from vowkeep import clock
from vowkeep.store.tables import audit_log, inquiries
from vowkeep.vault import operators
from vowkeep.vault.actors import Actor

MESSAGE = "Why do you keep my phone number? Reference Zebra-Quokka-4471."
ANSWER = "We keep it to reach you about your orders; you can delete it in the privacy centre."


@pytest.fixture
def mail(instance):
    with mailbox(instance) as inbox:
        yield inbox


def console(client, instance, role: str, username: str):
    """Sign an operator with `role` in to the console through its login form (the client keeps the cookie)."""
    with instance.engine.begin() as conn:
        _, password = operators.add(conn, policy=instance.vault.policy, username=username, role=role)
    token = csrf_of(client.get("/admin/login").text)
    signed = client.post(
        "/admin/login",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert signed.status_code == 303, signed.text


def _ask_publicly(client, email="grace@example.org", kind="question", message=MESSAGE):
    return post(client, "/center/contact", {"email": email, "kind": kind, "message": message})


def _only_inquiry_id(instance) -> str:
    with instance.engine.connect() as conn:
        return conn.execute(select(inquiries.c.id)).scalar_one()


@pytest.mark.postgres
def test_ntc3_a_public_question_is_tracked_until_answered_and_the_answer_is_mailed(client, instance, mail):
    """NTC-3: the public form opens an inquiry (due by the declared response deadline); the console lists it open
    with its age and due date; an operator answers it; it is closed, the asker receives the answer by e-mail, and
    every step is audited."""
    sent = _ask_publicly(client, kind="complaint")
    assert sent.status_code == 200 and "your message is recorded" in sent.text
    inquiry_id = _only_inquiry_id(instance)
    with instance.engine.connect() as conn:
        row = conn.execute(select(inquiries)).one()
    assert row.state == "open" and row.kind == "complaint" and row.channel == "public"
    assert (row.due_at - row.received_at).days == 30  # rights.response_deadline: P30D

    console(client, instance, "support_agent", "sam")
    listed = client.get("/admin/inbox")
    assert listed.status_code == 200 and "1 open" in listed.text and "complaint" in listed.text
    assert row.due_at.strftime("%Y-%m-%d") in listed.text and "0 days" in listed.text
    assert MESSAGE not in listed.text  # the list shows no text
    viewed = client.get(f"/admin/inbox/{inquiry_id}")
    assert MESSAGE in viewed.text and "grace@example.org" in viewed.text
    answered = client.post(
        f"/admin/inbox/{inquiry_id}/answer",
        data={"text": ANSWER, "csrf_token": csrf_of(viewed.text)},
        follow_redirects=False,
    )
    assert answered.status_code == 303
    closed = client.get(f"/admin/inbox/{inquiry_id}").text
    assert "answered" in closed and "by operator:sam" in closed and ANSWER in closed
    again = client.post(f"/admin/inbox/{inquiry_id}/answer", data={"text": "twice", "csrf_token": csrf_of(closed)})
    assert again.status_code == 400 and "already answered" in again.text

    deliver(instance)
    received = mails_to(mail, "grace@example.org")
    assert len(received) == 1 and received[0]["Subject"] == "Our answer to your privacy complaint"
    assert ANSWER in received[0].get_content() and inquiry_id in received[0].get_content()
    instance.vault.settle_audit()
    with instance.engine.connect() as conn:
        actions = list(conn.execute(select(audit_log.c.action, audit_log.c.actor)))
    assert ("inquiry:open", "system:center") in actions
    assert ("inquiry:read", "operator:sam") in actions and ("inquiry:answer", "operator:sam") in actions


def test_ntc3_from_the_centre_the_person_sees_their_question_and_its_answer(client, instance, mail):
    """NTC-3: a signed-in person's question is tied to them, listed in their centre, and shows the answer there."""
    register(client)
    sign_in(client, instance, mail, REGISTRATION["email"])
    asked = post(client, "/center/ask", {"kind": "question", "message": MESSAGE}, follow_redirects=False)
    assert asked.headers["location"] == "/center?done=asked"
    page = client.get("/center").text
    assert MESSAGE in page and "We answer by" in page
    inquiry_id = _only_inquiry_id(instance)
    # The console in another browser.
    from fastapi.testclient import TestClient

    with TestClient(client.app) as operator_browser:
        console(operator_browser, instance, "privacy_officer", "olga")
        view = operator_browser.get(f"/admin/inbox/{inquiry_id}")
        assert "signed in to the privacy centre" in view.text
        operator_browser.post(
            f"/admin/inbox/{inquiry_id}/answer", data={"text": ANSWER, "csrf_token": csrf_of(view.text)}
        )
    page = client.get("/center").text
    assert "Our answer:" in page and ANSWER in page
    deliver(instance)
    assert any(ANSWER in m.get_content() for m in mails_to(mail, REGISTRATION["email"]))


def test_ntc3_overdue_inquiries_come_first_and_are_flagged(client, instance):
    """NTC-3: the console lists open inquiries first, soonest due first, and flags those past their due date."""
    clock.travel_to(clock.now() - dt.timedelta(days=40))
    _ask_publicly(client, email="old@example.org")
    clock.reset()
    _ask_publicly(client, email="new@example.org")
    console(client, instance, "admin", "ann")
    text = client.get("/admin/inbox").text
    assert "2 open" in text and text.count("overdue") == 1
    assert text.index("40 days") < text.index("0 days")


def test_ntc3_only_roles_that_answer_the_inbox_may_open_it(client, instance):
    """NTC-3 / USE-5: a role without the declaration's `answer_inbox` permission is refused the inbox and its
    inquiries; without a session the console asks for a sign-in."""
    _ask_publicly(client)
    inquiry_id = _only_inquiry_id(instance)
    assert client.get("/admin/inbox", follow_redirects=False).headers["location"] == "/admin/login"
    console(client, instance, "marketer", "mia")
    assert client.get("/admin/inbox").status_code == 403
    viewed = client.get(f"/admin/inbox/{inquiry_id}")
    assert viewed.status_code == 403 and MESSAGE not in viewed.text
    refused = client.post(f"/admin/inbox/{inquiry_id}/answer", data={"text": "x", "csrf_token": form_token(client)})
    assert refused.status_code == 403
    with instance.engine.connect() as conn:
        assert conn.execute(select(inquiries.c.state)).scalar_one() == "open"


def test_ntc3_the_answer_form_needs_its_csrf_token(client, instance):
    """CSRF: an answer posted without the form's token is refused and the inquiry stays open."""
    _ask_publicly(client)
    inquiry_id = _only_inquiry_id(instance)
    console(client, instance, "admin", "ann")
    assert client.post(f"/admin/inbox/{inquiry_id}/answer", data={"text": ANSWER}).status_code == 403
    with instance.engine.connect() as conn:
        assert conn.execute(select(inquiries.c.state)).scalar_one() == "open"


def test_ntc3_bad_input_is_refused_in_the_page_and_nothing_is_stored(client, instance):
    """A missing message, an invalid address or an unknown kind is a 422 in the page; nothing is stored."""
    for body in (
        {"email": "grace@example.org", "kind": "question", "message": "   "},
        {"email": "not-an-address", "kind": "question", "message": MESSAGE},
        {"email": "grace@example.org", "kind": "threat", "message": MESSAGE},
        {"email": "grace@example.org", "kind": "question", "message": "x" * 5001},
    ):
        response = post(client, "/center/contact", body)
        assert response.status_code == 422 and 'role="alert"' in response.text
    with instance.engine.connect() as conn:
        assert conn.execute(select(inquiries)).all() == []


XSS = "<script>alert(1)</script><img src=x onerror=alert(2)>"


def test_ntc3_payloads_in_the_message_and_answer_come_back_escaped(client, instance):
    """Escaped output: a message and an answer carrying markup are shown as text in the console."""
    _ask_publicly(client, email="grace@example.org", message=XSS)
    inquiry_id = _only_inquiry_id(instance)
    console(client, instance, "admin", "ann")
    view = client.get(f"/admin/inbox/{inquiry_id}")
    client.post(f"/admin/inbox/{inquiry_id}/answer", data={"text": XSS, "csrf_token": csrf_of(view.text)})
    text = client.get(f"/admin/inbox/{inquiry_id}").text
    assert "<script>alert(1)</script>" not in text and "<img src=x" not in text
    assert text.count(html.escape("<script>alert(1)</script>")) == 2


def test_ntc3_no_plaintext_of_an_inquiry_in_the_database_file(client, instance, mail):
    """NTC-3: the asker's address, the message and the answer are sealed: none of them is in the database file."""
    _ask_publicly(client, email="grace.hopper@example.org")
    inquiry_id = _only_inquiry_id(instance)
    console(client, instance, "admin", "ann")
    view = client.get(f"/admin/inbox/{inquiry_id}")
    client.post(f"/admin/inbox/{inquiry_id}/answer", data={"text": ANSWER, "csrf_token": csrf_of(view.text)})
    deliver(instance)
    assert mails_to(mail, "grace.hopper@example.org")
    instance.engine.dispose()
    data_dir = Path(instance.settings.data_dir)
    files = [p for p in data_dir.iterdir() if re.search(r"\.db(-wal)?$", p.name)]
    assert any(p.name == "vowkeep.db" for p in files)
    blob = b"".join(p.read_bytes() for p in files)
    assert b"inquiry:answer" in blob  # the files hold the latest writes (the audit log names the action in clear)
    for secret in ("Zebra-Quokka-4471", "grace.hopper@example.org", "you can delete it in the privacy centre"):
        assert secret.encode() not in blob, secret
        assert secret.encode("utf-16-le") not in blob, secret


def test_ntc3_rig3_an_erasure_takes_the_persons_inquiries_with_it(client, instance, mail):
    """RIG-3: an inquiry sent from the centre is sealed under the person's data key, so their erasure makes it
    unreadable: the console says so and refuses to answer it."""
    subject_id = register(client)
    sign_in(client, instance, mail, REGISTRATION["email"])
    post(client, "/center/ask", {"kind": "question", "message": MESSAGE})
    inquiry_id = _only_inquiry_id(instance)
    with instance.vault.transaction() as conn:
        instance.vault.erase_subject(conn, actor=Actor.system("test"), subject_id=subject_id, reason="erasure")
    from fastapi.testclient import TestClient

    with TestClient(client.app) as operator_browser:
        console(operator_browser, instance, "admin", "ann")
        view = operator_browser.get(f"/admin/inbox/{inquiry_id}")
        assert view.status_code == 200 and "can no longer be read or answered" in view.text
        assert MESSAGE not in view.text and REGISTRATION["email"] not in view.text
        refused = operator_browser.post(
            f"/admin/inbox/{inquiry_id}/answer", data={"text": ANSWER, "csrf_token": csrf_of(view.text)}
        )
        assert refused.status_code == 400 and "no one to answer" in refused.text
