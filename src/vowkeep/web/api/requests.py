"""Data-subject requests over HTTP (RIG-1…RIG-10).

Who may do what:
- anyone may file a request (`POST /api/v1/requests`, rate-limited per client); a code goes to the address given;
- whoever holds the code verifies (`POST /api/v1/requests/{id}/verify`) and receives a request-scoped token
  (`Authorization: Bearer vkr_…`) to follow the request, withdraw it and fetch its report;
- operators whose role has `review_requests` (and services with the `requests` scope) file requests received by
  e-mail or phone, list the queue and read a request; operators with `review_requests` approve or deny.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from contextlib import contextmanager

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, Field

from vowkeep.instance import Instance
from vowkeep.rights import report
from vowkeep.rights import requests as service
from vowkeep.rights.errors import RequestError
from vowkeep.rights.states import InvalidTransition, State
from vowkeep.web.deps import Caller, current_caller, get_instance, is_operator
from vowkeep.web.errors import ApiError

router = APIRouter(prefix="/api/v1/requests", tags=["requests"])


class WindowLimiter:
    """At most `limit` events per key in a sliding window (per app: each process keeps its own count)."""

    def __init__(self, limit: int, window_seconds: float):
        self.limit, self.window = limit, window_seconds
        self._events: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def hit(self, key: str) -> bool:
        """Record an event; False if the key is over its limit (the event is then not counted)."""
        now = time.monotonic()
        with self._lock:
            events = self._events[key]
            while events and now - events[0] > self.window:
                events.popleft()
            if len(events) >= self.limit:
                return False
            events.append(now)
            return True


def limiter(request: Request, name: str, limit: int, window_seconds: float) -> WindowLimiter:
    limiters = request.app.state.__dict__.setdefault("rights_limiters", {})
    return limiters.setdefault(name, WindowLimiter(limit, window_seconds))


def client_of(request: Request) -> str:
    return request.client.host if request.client else "-"


@contextmanager
def api_errors():
    """Domain errors of the rights package as API errors."""
    try:
        yield
    except RequestError as exc:
        raise ApiError(exc.status, exc.code, exc.message, **exc.extra) from None
    except InvalidTransition as exc:
        raise ApiError(409, "wrong_state", str(exc)) from None


def bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def require_reviewer(caller: Caller) -> None:
    """Operators need `review_requests`; services the `requests` scope."""
    caller.require("review_requests" if is_operator(caller) else "requests")


def require_operator_reviewer(caller: Caller) -> None:
    if not is_operator(caller):
        raise ApiError(403, "forbidden", "requests are approved and denied by operators", rule="permission")
    caller.require("review_requests")


def caller_or_requester(request: Request, instance: Instance, found: service.RightsRequest) -> Caller | None:
    """The staff caller, or None when the request's own token was presented; 401/403 otherwise."""
    token = bearer(request)
    if token is not None and token.startswith("vkr_"):
        if service.token_valid(found, token):
            return None
        raise ApiError(403, "forbidden", "this token is not valid for this request (or has expired)", rule="token")
    caller = current_caller(request, instance)
    require_reviewer(caller)
    return caller


def _load(instance: Instance, request_id: str) -> service.RightsRequest:
    with instance.engine.connect() as conn, api_errors():
        return service.get_or_raise(conn, vault=instance.vault, request_id=request_id)


def staff_view(conn, instance: Instance, found: service.RightsRequest) -> dict:
    return {
        **found.summary(),
        "contact": found.details.get("contact"),
        "corrected_fields": sorted(found.details.get("values", {})),
        "note": found.details.get("note"),
        "denial_reason": found.details.get("denial_reason"),
        "outcome": found.outcome,
        "processors": service.processor_statuses(conn, request_id=found.id),
        "history": service.history(conn, request_id=found.id),
    }


def requester_view(conn, instance: Instance, found: service.RightsRequest) -> dict:
    out = {**found.for_requester(), "processors": service.processor_statuses(conn, request_id=found.id)}
    if found.state == State.fulfilled and found.kind in ("access", "portability"):
        base = f"/api/v1/requests/{found.id}/report"
        out["report"] = {"json": base, "csv": f"{base}?format=csv", "page": f"/requests/{found.id}/report"}
    return out


class NewRequest(BaseModel):
    right: str = Field(..., max_length=32, description="access, rectify, erase, deactivate, restrict, object, …")
    email: str = Field(..., max_length=320, description="The requester's address: the verification code goes there.")
    channel: str | None = Field(
        None, description="How it arrived: `center` (default for the person), `email` or `phone` (operators)."
    )
    purposes: list[str] | None = Field(None, max_length=50, description="For an objection: the purposes objected to.")
    purpose: str | None = Field(None, max_length=64, description="For an objection to one purpose.")
    values: dict[str, object] | None = Field(None, description="For a correction: new values by field name.")
    note: str | None = Field(None, max_length=2000, description="Anything the requester or operator adds.")


@router.post("", status_code=202)
def file_request(body: NewRequest, request: Request, instance: Instance = Depends(get_instance)):
    """File a request. Without credentials it is the person's own (channel `center`); a code is mailed to them."""
    if bearer(request) is not None:
        caller = current_caller(request, instance)
        require_reviewer(caller)
        if body.channel is None:
            raise ApiError(422, "invalid_request", "say how the request arrived: `channel` is email, phone or center")
        actor, channel = caller.actor, body.channel
    else:
        if body.channel not in (None, "center"):
            raise ApiError(403, "forbidden", "only operators file requests that arrived by e-mail or phone")
        if not limiter(request, "file", 20, 3600).hit(client_of(request)):
            raise ApiError(429, "too_many_requests", "too many requests from this client; wait an hour")
        actor, channel = service.REQUESTER, "center"
    purposes = list(body.purposes or []) + ([body.purpose] if body.purpose else [])
    with api_errors(), instance.vault.transaction() as conn:
        filed = service.file(
            conn,
            instance=instance,
            kind=body.right,
            email=body.email,
            channel=channel,
            actor=actor,
            purposes=purposes,
            values=body.values,
            note=body.note,
        )
    return {
        "id": filed.id,
        "right": filed.kind,
        "state": filed.state,
        "due_at": filed.due_at.isoformat(),
        "message": "a code was sent to the address; send it to the verify endpoint to confirm the request",
        "verify": f"/api/v1/requests/{filed.id}/verify",
    }


@router.get("")
def list_requests(
    state: str | None = Query(None, description="received, verifying, in_review, fulfilled, denied, …"),
    right: str | None = Query(None),
    overdue: bool | None = Query(None, description="true: only overdue ones; false: none of them"),
    limit: int = Query(100, ge=1, le=500),
    offset: int = Query(0, ge=0),
    caller: Caller = Depends(current_caller),
    instance: Instance = Depends(get_instance),
):
    """The review queue (RIG-9): overdue requests first, then open ones by due date, then decided ones."""
    require_reviewer(caller)
    if state is not None and state not in [s.value for s in State]:
        raise ApiError(422, "invalid_request", f"`state` is one of: {', '.join(s.value for s in State)}")
    with instance.engine.connect() as conn:
        found = service.list_requests(
            conn, vault=instance.vault, state=state, kind=right, overdue=overdue, limit=limit, offset=offset
        )
    return {"requests": [r.summary() for r in found], "overdue": sum(1 for r in found if r.overdue)}


@router.get("/{request_id}")
def read_request(request_id: str, request: Request, instance: Instance = Depends(get_instance)):
    """One request: the staff's view (with its history and processors), or the requester's with their token."""
    found = _load(instance, request_id)
    caller = caller_or_requester(request, instance, found)
    with instance.vault.transaction() as conn:
        if caller is None:
            return requester_view(conn, instance, found)
        instance.vault.audit(conn, actor=caller.actor, action="request:view", detail={"request": request_id})
        return staff_view(conn, instance, found)


class Code(BaseModel):
    code: str = Field(..., max_length=20)


@router.post("/{request_id}/verify")
def verify_request(request_id: str, body: Code, request: Request, instance: Instance = Depends(get_instance)):
    """Confirm the request with the mailed code (RIG-8); returns the request-scoped token."""
    if not limiter(request, "verify", 30, 3600).hit(client_of(request)):
        raise ApiError(429, "too_many_requests", "too many codes tried from this client; wait an hour")
    with api_errors(), instance.vault.transaction() as conn:
        result = service.verify(conn, instance=instance, request_id=request_id, code=body.code)
    if not result.ok:
        messages = {
            "wrong": "the code is wrong",
            "expired": "the code has expired; ask for a new one",
            "exhausted": "too many wrong codes; the request was closed",
            "none": "there is no code to check for this request",
        }
        raise ApiError(
            400,
            "verification_failed",
            messages[result.problem],
            problem=result.problem,
            attempts_left=result.attempts_left,
            state=result.request.state,
        )
    with instance.engine.connect() as conn:
        view = requester_view(conn, instance, result.request)
    return {"token": result.token, "token_type": "bearer", "request": view}


@router.post("/{request_id}/resend", status_code=202)
def resend_code(request_id: str, request: Request, instance: Instance = Depends(get_instance)):
    """Send a new code for a request still waiting for verification."""
    if not limiter(request, "file", 20, 3600).hit(client_of(request)):
        raise ApiError(429, "too_many_requests", "too many requests from this client; wait an hour")
    with api_errors(), instance.vault.transaction() as conn:
        found = service.resend(conn, instance=instance, request_id=request_id)
    return {"id": found.id, "state": found.state}


@router.post("/{request_id}/approve")
def approve_request(
    request_id: str, caller: Caller = Depends(current_caller), instance: Instance = Depends(get_instance)
):
    """Approve a verified request: it is fulfilled now and the requester told (RIG-9)."""
    require_operator_reviewer(caller)
    with api_errors(), instance.vault.transaction() as conn:
        found = service.approve(conn, instance=instance, request_id=request_id, actor=caller.actor)
        return staff_view(conn, instance, found)


class Denial(BaseModel):
    reason: str = Field(..., max_length=2000, description="Why; the requester reads it.")
    denial: str = Field("other", description="no_match, insuf_verification, claim_not_covered, suspected_fraud, …")


@router.post("/{request_id}/deny")
def deny_request(
    request_id: str,
    body: Denial,
    caller: Caller = Depends(current_caller),
    instance: Instance = Depends(get_instance),
):
    """Deny an open request with a reason; the requester is told (RIG-9)."""
    require_operator_reviewer(caller)
    with api_errors(), instance.vault.transaction() as conn:
        found = service.deny(
            conn, instance=instance, request_id=request_id, actor=caller.actor, reason=body.reason, denial=body.denial
        )
        return staff_view(conn, instance, found)


class Withdrawal(BaseModel):
    reason: str | None = Field(None, max_length=2000)


@router.post("/{request_id}/cancel")
def cancel_request(
    request_id: str, request: Request, body: Withdrawal | None = None, instance: Instance = Depends(get_instance)
):
    """Withdraw an open request (the requester with their token, or staff)."""
    found = _load(instance, request_id)
    caller = caller_or_requester(request, instance, found)
    actor = service.REQUESTER if caller is None else caller.actor
    with api_errors(), instance.vault.transaction() as conn:
        found = service.cancel(
            conn, instance=instance, request_id=request_id, actor=actor, reason=body.reason if body else None
        )
        return requester_view(conn, instance, found) if caller is None else staff_view(conn, instance, found)


@router.get("/{request_id}/report")
def request_report(
    request_id: str,
    request: Request,
    format: str = Query("json", pattern="^(json|csv)$"),
    instance: Instance = Depends(get_instance),
):
    """The requester's copy (RIG-1, RIG-7): everything held, as JSON; a portable copy as JSON or CSV."""
    found = _load(instance, request_id)
    token = bearer(request)
    if not (token and token.startswith("vkr_") and service.token_valid(found, token)):
        raise ApiError(403, "forbidden", "the report is for the requester, with the token their code gave them")
    return report_response(instance, found, format)


def report_response(instance: Instance, found: service.RightsRequest, fmt: str):
    if found.kind not in ("access", "portability"):
        raise ApiError(404, "not_found", f"a {found.label} request has no report")
    if found.state != State.fulfilled:
        raise ApiError(409, "wrong_state", f"the request is {found.state.replace('_', ' ')}; the report comes later")
    with instance.engine.connect() as conn:
        subjects = service.results(conn, vault=instance.vault, request=found)
    if not subjects:
        raise ApiError(410, "gone", "the report is no longer kept (it is deleted 30 days after the decision)")
    whole = report.assemble(vault=instance.vault, request_id=found.id, subject_reports=subjects)
    headers = {
        "Content-Disposition": f'attachment; filename="{found.kind}-{found.id}.{fmt}"',
        "Cache-Control": "no-store",
    }
    if fmt == "csv":
        return PlainTextResponse(report.portable_csv(whole), media_type="text/csv; charset=utf-8", headers=headers)
    body = report.portable(whole) if found.kind == "portability" else whole
    return JSONResponse(body, headers=headers)


@router.post("/{request_id}/processors/retry")
def retry_processors(
    request_id: str, caller: Caller = Depends(current_caller), instance: Instance = Depends(get_instance)
):
    """Queue again the processor deliveries of a request that failed for good (SHR-7)."""
    require_operator_reviewer(caller)
    _load(instance, request_id)
    with instance.vault.transaction() as conn:
        count = service.retry_processors(conn, request_id=request_id)
        return {"requeued": count, "processors": service.processor_statuses(conn, request_id=request_id)}
