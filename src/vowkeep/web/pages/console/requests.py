"""Console: the request queue with due dates, overdue first; one request; approve or deny with a reason (RIG-9);
file a request that arrived by e-mail or phone (RIG-10). The decisions are the rights package's own."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse

from vowkeep.rights import requests as service
from vowkeep.rights.states import State
from vowkeep.web import csrf
from vowkeep.web.api.requests import api_errors, staff_view
from vowkeep.web.pages.console import ConsoleUser, console_page, section

router = APIRouter(prefix="/admin/requests", tags=["console"], include_in_schema=False)
reviewer = section("requests")


@router.get("")
def queue(
    request: Request,
    state: str | None = Query(None, max_length=20),
    user: ConsoleUser = Depends(reviewer),
):
    instance = request.app.state.instance
    state = state if state in [s.value for s in State] else None
    with instance.engine.connect() as conn:
        found = service.list_requests(conn, vault=instance.vault, state=state, limit=200)
    policy = instance.vault.policy
    return console_page(
        request,
        user,
        "admin/requests.html",
        current="requests",
        requests=[r.summary() | {"label": r.label} for r in found],
        overdue=sum(1 for r in found if r.overdue),
        state=state,
        states=[s.value for s in State],
        rights=service.offered(policy),
        channels=[c.value for c in policy.rights.channels if c.value in ("email", "phone")],
        deadline=policy.rights.response_deadline.describe(),
    )


@router.post("")
def file_request(
    request: Request,
    right: str = Form(..., max_length=32),
    email: str = Form(..., max_length=320),
    channel: str = Form(..., max_length=20),
    note: str = Form("", max_length=2000),
    csrf_token: str = Form(""),
    user: ConsoleUser = Depends(reviewer),
):
    """An operator files a request received by e-mail or phone; the code goes to the requester (RIG-10)."""
    csrf.verify(request, csrf_token)
    instance = request.app.state.instance
    with api_errors(), instance.vault.transaction() as conn:
        filed = service.file(
            conn,
            instance=instance,
            kind=right,
            email=email,
            channel=channel,
            actor=user.caller.actor,
            note=note or None,
        )
    return RedirectResponse(f"/admin/requests/{filed.id}?done=filed", status_code=303)


@router.get("/{request_id}")
def one(request: Request, request_id: str, done: str | None = Query(None), user: ConsoleUser = Depends(reviewer)):
    instance = request.app.state.instance
    with api_errors(), instance.vault.transaction() as conn:
        found = service.get_or_raise(conn, vault=instance.vault, request_id=request_id)
        instance.vault.audit(conn, actor=user.caller.actor, action="request:view", detail={"request": request_id})
        view = staff_view(conn, instance, found)
    messages = {
        "approved": "Approved: the request was fulfilled and the requester told.",
        "denied": "Denied: the requester is told the reason.",
        "filed": "Filed: a code was sent to the requester's address.",
    }
    return console_page(
        request,
        user,
        "admin/request.html",
        current="requests",
        r=view,
        label=found.label,
        can_approve=found.state == State.in_review,
        can_deny=found.open,
        denials=service.DENIALS,
        done=messages.get(done or ""),
    )


@router.post("/{request_id}/approve")
def approve(request: Request, request_id: str, csrf_token: str = Form(""), user: ConsoleUser = Depends(reviewer)):
    csrf.verify(request, csrf_token)
    instance = request.app.state.instance
    with api_errors(), instance.vault.transaction() as conn:
        service.approve(conn, instance=instance, request_id=request_id, actor=user.caller.actor)
    return RedirectResponse(f"/admin/requests/{request_id}?done=approved", status_code=303)


@router.post("/{request_id}/deny")
def deny(
    request: Request,
    request_id: str,
    reason: str = Form("", max_length=2000),
    denial: str = Form("other", max_length=40),
    csrf_token: str = Form(""),
    user: ConsoleUser = Depends(reviewer),
):
    csrf.verify(request, csrf_token)
    instance = request.app.state.instance
    with api_errors(), instance.vault.transaction() as conn:
        service.deny(
            conn, instance=instance, request_id=request_id, actor=user.caller.actor, reason=reason, denial=denial
        )
    return RedirectResponse(f"/admin/requests/{request_id}?done=denied", status_code=303)
