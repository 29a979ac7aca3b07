"""`/report-minor` (MIN-2): anyone can tell us that an account belongs to a child under the minimum age.

The answer is the same whether or not the address matches an account, so the form tells nobody who has one. A
match deactivates the account at once; it is erased after a short review unless an operator finds the report
mistaken. Submissions are limited per client address.
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Request

from vowkeep.retention import minors
from vowkeep.web import csrf
from vowkeep.web.pages.templating import page
from vowkeep.web.ratelimit import SignInLimiter

router = APIRouter(tags=["minors"], include_in_schema=False)
limiter = SignInLimiter(max_failures=10, window_seconds=3600)


def _email(raw: str) -> str | None:
    """The address normalised as collection stores it (so the blind index finds it), or None."""
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def _form(request: Request, *, status_code: int = 200, error: str | None = None):
    instance = request.app.state.instance
    return page(
        request,
        "minors/report.html",
        status_code=status_code,
        minors=instance.vault.policy.minors,
        contact=instance.vault.policy.organization.contact,
        error=error,
    )


@router.get("/report-minor")
def report_form(request: Request):
    return _form(request)


@router.post("/report-minor")
def report_submit(request: Request, email: str = Form("", max_length=320), csrf_token: str = Form("")):
    csrf.verify(request, csrf_token)
    client = request.client.host if request.client else "-"
    if not limiter.allow(client, client):
        return _form(request, status_code=429, error="Too many reports from here. Please try again later.")
    address = _email(email)
    if address is None:
        return _form(request, status_code=422, error="Please give the e-mail address the account was registered with.")
    limiter.failed(client, client)  # every report from this address counts towards its limit
    instance = request.app.state.instance
    with instance.vault.transaction() as conn:
        minors.report_by_form(conn, vault=instance.vault, email=address)
    return page(
        request,
        "message.html",
        heading="Thank you",
        message=(
            "If an account uses this address, it no longer processes any data from now on, and it will be deleted "
            "after a short review. You do not need to do anything else."
        ),
        back="/privacy",
    )
