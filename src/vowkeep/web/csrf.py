"""CSRF protection for every form: a double-submit token, compared in constant time.

Each browser gets a random token in an HttpOnly, SameSite=Strict cookie; every form carries the same token in a
hidden field; a POST is accepted only when the two match. An attacker's page can make the browser send the cookie,
but cannot read it to put it in the form. Console sessions bind the token to the session as well.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request
from fastapi.responses import Response

COOKIE = "vk_csrf"
FIELD = "csrf_token"


class CsrfError(Exception):
    """A form arrived without the token its page was given."""


def token_for(request: Request) -> str:
    """This browser's token: the one in its cookie, or a new one."""
    existing = request.cookies.get(COOKIE, "")
    if 20 <= len(existing) <= 100 and existing.replace("-", "").replace("_", "").isalnum():
        return existing
    if not hasattr(request.state, "csrf_token"):
        request.state.csrf_token = secrets.token_urlsafe(32)
    return request.state.csrf_token


def set_cookie(request: Request, response: Response, token: str) -> None:
    if request.cookies.get(COOKIE) != token:
        response.set_cookie(
            COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https", path="/"
        )


def verify(request: Request, submitted: str | None) -> None:
    """Raise CsrfError unless the form's token equals the cookie's."""
    cookie = request.cookies.get(COOKIE)
    if not cookie or not submitted or not hmac.compare_digest(cookie.encode(), str(submitted).encode()):
        raise CsrfError("the form is missing its security token or it does not match; reload the page and retry")
