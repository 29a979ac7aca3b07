"""The operator console's doorway: sign in, sign out, and a home page that shows what the role may do."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from vowkeep.vault import operators
from vowkeep.web import csrf, sessions
from vowkeep.web.api.auth import limiter
from vowkeep.web.pages.templating import page

router = APIRouter(prefix="/admin", tags=["console"], include_in_schema=False)


@router.get("/login")
def sign_in_form(request: Request):
    return page(request, "admin/login.html", error=None, username=None)


@router.post("/login")
def sign_in(
    request: Request,
    username: str = Form(..., max_length=100),
    password: str = Form(..., max_length=1024),
    csrf_token: str = Form(""),
):
    csrf.verify(request, csrf_token)
    client = request.client.host if request.client else "-"
    if not limiter.allow(username, client):
        return page(
            request,
            "admin/login.html",
            status_code=429,
            username=username,
            error="Too many failed sign-ins. Wait a few minutes and try again.",
        )
    with request.app.state.instance.engine.begin() as conn:
        operator = operators.authenticate(conn, username=username, password=password)
    if operator is None:
        limiter.failed(username, client)
        return page(
            request,
            "admin/login.html",
            status_code=401,
            username=username,
            error="Wrong username or password, or the account is disabled.",
        )
    limiter.succeeded(username, client)
    response = RedirectResponse("/admin", status_code=303)
    sessions.start(request, response, operator)
    return response


@router.post("/logout")
def sign_out(request: Request, csrf_token: str = Form("")):
    csrf.verify(request, csrf_token)
    response = RedirectResponse("/admin/login", status_code=303)
    sessions.end(request, response)
    return response


@router.get("")
def home(request: Request, operator: operators.Operator = Depends(sessions.current_operator)):
    role = request.app.state.instance.vault.policy.role_by_key.get(operator.role)
    return page(request, "admin/home.html", operator=operator, role=role)
