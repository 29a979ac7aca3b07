"""Helpers for privacy-centre tests: the CSRF token of a page, signing in with the code read from real mail."""

from __future__ import annotations

import re

from tests.support.rights import deliver, mails_to


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def form_token(client, path: str = "/center") -> str:
    response = client.get(path)
    assert response.status_code in (200, 401), response.text
    return csrf_of(response.text)


def ask_code(client, email: str):
    """Submit the sign-in form; returns the response (a redirect to the code form)."""
    return client.post(
        "/center/sign-in", data={"email": email, "csrf_token": form_token(client)}, follow_redirects=False
    )


def code_mailed(inbox, email: str) -> str:
    mails = [m for m in mails_to(inbox, email) if "sign in" in m["Subject"]]
    assert mails, f"no sign-in code was mailed; subjects: {[m['Subject'] for m in inbox.messages]}"
    return re.search(r"Your sign-in code: (\d{6})", mails[-1].get_content()).group(1)


def sign_in(client, instance, inbox, email: str):
    """Ask for a code, read it from the mail the SMTP server received, enter it; returns the dashboard response."""
    asked = ask_code(client, email)
    assert asked.status_code == 303, asked.text
    code_path = asked.headers["location"]
    deliver(instance)
    entered = client.post(
        code_path,
        data={"code": code_mailed(inbox, email), "csrf_token": form_token(client, code_path)},
        follow_redirects=False,
    )
    assert entered.status_code == 303, entered.text
    assert "vk_center" in entered.headers.get("set-cookie", "")
    return client.get("/center")


def post(client, path: str, data: dict | None = None, **kwargs):
    """POST a centre form with this browser's CSRF token."""
    return client.post(path, data={**(data or {}), "csrf_token": form_token(client)}, **kwargs)
