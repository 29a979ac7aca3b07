"""The requester's pages (RIG-1, RIG-8): confirm a request with the mailed code or link, follow it, read the report.

`/requests/{id}/verify` is where the e-mailed link lands: a form (CSRF-protected) with the code filled in; a good
code leaves the request-scoped token in an HttpOnly, SameSite=Strict cookie limited to `/requests/{id}`.
`/requests/{id}` shows where the request stands; `/requests/{id}/report` is the readable access report, rendered
from the same data as the JSON one (`report.json`, and `report.csv` for the portable copy).
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse

from vowkeep.rights import report
from vowkeep.rights import requests as service
from vowkeep.rights.errors import RequestError
from vowkeep.rights.states import State
from vowkeep.web import csrf
from vowkeep.web.api.requests import client_of, limiter, report_response
from vowkeep.web.errors import ApiError
from vowkeep.web.pages.templating import page

router = APIRouter(prefix="/requests", tags=["requests"], include_in_schema=False)
COOKIE = "vk_request"


def _load(request: Request, request_id: str) -> service.RightsRequest:
    instance = request.app.state.instance
    try:
        with instance.engine.connect() as conn:
            return service.get_or_raise(conn, vault=instance.vault, request_id=request_id)
    except RequestError:
        raise ApiError(404, "not_found", "There is no such request.") from None


def _holds_token(request: Request, found: service.RightsRequest) -> bool:
    return service.token_valid(found, request.cookies.get(COOKIE))


@router.get("/{request_id}/verify")
def verify_form(request_id: str, request: Request, code: str | None = Query(None, max_length=12)):
    found = _load(request, request_id)
    return page(request, "requests/verify.html", found=found, code=code or "", error=None)


@router.post("/{request_id}/verify")
def verify(request_id: str, request: Request, code: str = Form("", max_length=20), csrf_token: str = Form("")):
    csrf.verify(request, csrf_token)
    found = _load(request, request_id)
    instance = request.app.state.instance
    if not limiter(request, "verify", 30, 3600).hit(client_of(request)):
        return page(
            request,
            "requests/verify.html",
            status_code=429,
            found=found,
            code="",
            error="Too many tries; wait an hour.",
        )
    try:
        with instance.vault.transaction() as conn:
            result = service.verify(conn, instance=instance, request_id=request_id, code=code, method="link")
    except RequestError as exc:
        return page(request, "requests/verify.html", status_code=400, found=found, code="", error=exc.message)
    if not result.ok:
        messages = {
            "wrong": f"That code is not right. {result.attempts_left} tries left.",
            "expired": "That code has expired. Ask for a new one below.",
            "exhausted": "Too many wrong codes: the request was closed. You can file a new one.",
            "none": "There is no code waiting for this request.",
        }
        return page(
            request,
            "requests/verify.html",
            status_code=400,
            found=result.request,
            code="",
            error=messages[result.problem],
        )
    response = RedirectResponse(f"/requests/{request_id}", status_code=303)
    response.set_cookie(
        COOKIE,
        result.token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path=f"/requests/{request_id}",
        max_age=int(service.KEEP_AFTER_DECISION.total_seconds()),
    )
    return response


@router.post("/{request_id}/resend")
def resend(request_id: str, request: Request, csrf_token: str = Form("")):
    csrf.verify(request, csrf_token)
    instance = request.app.state.instance
    found = _load(request, request_id)
    if not limiter(request, "file", 20, 3600).hit(client_of(request)):
        return page(
            request,
            "requests/verify.html",
            status_code=429,
            found=found,
            code="",
            error="Too many tries; wait an hour.",
        )
    try:
        with instance.vault.transaction() as conn:
            found = service.resend(conn, instance=instance, request_id=request_id)
    except RequestError as exc:
        return page(request, "requests/verify.html", status_code=exc.status, found=found, code="", error=exc.message)
    return page(request, "requests/verify.html", found=found, code="", error=None, sent=True)


@router.get("/{request_id}")
def status_page(request_id: str, request: Request):
    found = _load(request, request_id)
    if not _holds_token(request, found):
        return page(request, "requests/verify.html", status_code=403, found=found, code="", error=None)
    instance = request.app.state.instance
    with instance.engine.connect() as conn:
        processors = service.processor_statuses(conn, request_id=request_id)
    return page(
        request,
        "requests/status.html",
        found=found,
        lines=[line for line in service.outcome_lines(found) if line] if found.state not in service.OPEN else [],
        processors=processors,
        has_report=found.state == State.fulfilled and found.kind in ("access", "portability"),
    )


@router.post("/{request_id}/cancel")
def cancel(request_id: str, request: Request, csrf_token: str = Form("")):
    csrf.verify(request, csrf_token)
    found = _load(request, request_id)
    if not _holds_token(request, found):
        raise ApiError(403, "forbidden", "Open the link from your e-mail first.")
    instance = request.app.state.instance
    try:
        with instance.vault.transaction() as conn:
            service.cancel(conn, instance=instance, request_id=request_id, actor=service.REQUESTER)
    except RequestError as exc:
        raise ApiError(exc.status, exc.code, exc.message) from None
    return RedirectResponse(f"/requests/{request_id}", status_code=303)


@router.get("/{request_id}/report")
def report_page(request_id: str, request: Request):
    """The readable access report (RIG-1): the same data as the JSON report, for people."""
    found = _load(request, request_id)
    if not _holds_token(request, found):
        raise ApiError(403, "forbidden", "Open the link from your e-mail first: it shows your report.")
    if found.kind not in ("access", "portability") or found.state != State.fulfilled:
        raise ApiError(404, "not_found", "This request has no report.")
    instance = request.app.state.instance
    with instance.engine.connect() as conn:
        subjects = service.results(conn, vault=instance.vault, request=found)
    if not subjects:
        raise ApiError(410, "gone", "The report is no longer kept: it is deleted 30 days after the decision.")
    whole = report.assemble(vault=instance.vault, request_id=found.id, subject_reports=subjects)
    return page(request, "requests/report.html", found=found, report=whole, policy=instance.vault.policy)


@router.get("/{request_id}/report.json")
def report_json(request_id: str, request: Request):
    found = _load(request, request_id)
    if not _holds_token(request, found):
        raise ApiError(403, "forbidden", "Open the link from your e-mail first.")
    return report_response(request.app.state.instance, found, "json")


@router.get("/{request_id}/report.csv")
def report_csv(request_id: str, request: Request):
    found = _load(request, request_id)
    if not _holds_token(request, found):
        raise ApiError(403, "forbidden", "Open the link from your e-mail first.")
    return report_response(request.app.state.instance, found, "csv")
