"""Console sessions: a signed-in operator's browser holds a random session token in an HttpOnly cookie."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from vowkeep.vault import operators

COOKIE = "vk_console"


class SignInRequired(Exception):
    """The page needs a signed-in operator."""


def current_operator(request: Request) -> operators.Operator:
    """The operator signed in on this browser, or SignInRequired (the app redirects to the sign-in page)."""
    token = request.cookies.get(COOKIE)
    if token:
        with request.app.state.instance.engine.begin() as conn:
            session = operators.session_for(conn, token=token, kind="page")
        if session is not None:
            return session.operator
    raise SignInRequired()


def start(request: Request, response: Response, operator: operators.Operator) -> None:
    with request.app.state.instance.engine.begin() as conn:
        token, _ = operators.start_session(conn, operator=operator, kind="page")
    # A session cookie (no max-age): it ends with the browser, or when the server-side session expires.
    response.set_cookie(COOKIE, token, httponly=True, samesite="lax", secure=request.url.scheme == "https", path="/")


def end(request: Request, response: Response) -> None:
    token = request.cookies.get(COOKIE)
    if token:
        with request.app.state.instance.engine.begin() as conn:
            operators.end_session(conn, token=token)
    response.delete_cookie(COOKIE, path="/")


def to_sign_in(request: Request) -> RedirectResponse:
    return RedirectResponse("/admin/login", status_code=303)
