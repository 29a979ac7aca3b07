"""Disclosures over HTTP (SHR-1, SHR-2, SHR-4).

`POST /api/v1/disclosures` releases data to a declared recipient through the gate (services need the
`disclosures` scope, operators `approve_disclosures`, and either must serve the purpose); legal requests and
recipients marked `requires_approval` wait for another operator's approval, then are released once with
`POST /api/v1/disclosures/{id}/release`. `GET /api/v1/disclosures` is the register;
`GET /api/v1/subjects/{id}/disclosures` shows a subject the disclosures about them.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import select

from vowkeep.instance import Instance
from vowkeep.rights import requests as rights_requests
from vowkeep.sharing import disclosures as service
from vowkeep.store.tables import request_subjects, subjects
from vowkeep.web.api.requests import bearer
from vowkeep.web.deps import Caller, current_caller, get_instance, is_operator
from vowkeep.web.errors import ApiError

router = APIRouter(tags=["disclosures"])


def _errors(exc: service.DisclosureError) -> ApiError:
    return ApiError(exc.status, exc.code, exc.message)


def require_discloser(caller: Caller) -> None:
    caller.require("approve_disclosures" if is_operator(caller) else "disclosures")


def require_register_reader(caller: Caller) -> None:
    if is_operator(caller):
        if not ({"*", "approve_disclosures", "read_audit"} & caller.permissions):
            raise ApiError(403, "forbidden", "the register is for operators who approve disclosures or read the audit")
    else:
        caller.require("disclosures")


class LegalRequest(BaseModel):
    kind: str = Field(..., description="subpoena, court_order or authority")
    reference: str = Field(..., max_length=500, description="The order's or demand's reference.")
    scope: str = Field(..., max_length=2000, description="What it asks for, in its own words.")
    authority: str | None = Field(None, max_length=500, description="Who issued it.")


class NewDisclosure(BaseModel):
    recipient: str = Field(..., max_length=64, description="A declared recipient.")
    purpose: str = Field(..., max_length=64, description="A purpose the recipient is declared for.")
    categories: list[str] = Field(..., min_length=1, max_length=100)
    subject_ids: list[str] = Field(..., min_length=1, max_length=service.MAX_SUBJECTS)
    legal_basis: str | None = Field(None, max_length=64)
    reference: str | None = Field(None, max_length=500, description="Contract, ticket or order reference.")
    legal_request: LegalRequest | None = None


@router.post("/api/v1/disclosures")
def file_disclosure(
    body: NewDisclosure, caller: Caller = Depends(current_caller), instance: Instance = Depends(get_instance)
):
    """Release data to a declared recipient (201 with the data), or record one that awaits approval (202)."""
    require_discloser(caller)
    try:
        with instance.vault.transaction() as conn:
            found, data = service.file(
                conn,
                vault=instance.vault,
                actor=caller.actor,
                recipient=body.recipient,
                purpose=body.purpose,
                categories=body.categories,
                subject_ids=body.subject_ids,
                legal_basis=body.legal_basis,
                reference=body.reference,
                legal=body.legal_request.model_dump() if body.legal_request else None,
            )
    except service.DisclosureError as exc:
        raise _errors(exc) from None
    if data is None:
        return JSONResponse({"disclosure": found.as_dict()}, status_code=202)
    return JSONResponse({"disclosure": found.as_dict(), "data": data}, status_code=201)


@router.get("/api/v1/disclosures")
def disclosure_register(
    state: str | None = Query(None, pattern="^(pending|approved|released|denied)$"),
    recipient: str | None = Query(None, max_length=64),
    limit: int = Query(100, ge=1, le=500),
    offset: int = Query(0, ge=0),
    caller: Caller = Depends(current_caller),
    instance: Instance = Depends(get_instance),
):
    """The disclosure register (SHR-2), newest first."""
    require_register_reader(caller)
    with instance.vault.transaction() as conn:
        found = service.register(
            conn, vault=instance.vault, state=state, recipient=recipient, limit=limit, offset=offset
        )
        instance.vault.audit(conn, actor=caller.actor, action="disclosure:list", detail={"entries": len(found)})
    return {"disclosures": [d.as_dict() for d in found]}


@router.get("/api/v1/disclosures/{disclosure_id}")
def read_disclosure(
    disclosure_id: str, caller: Caller = Depends(current_caller), instance: Instance = Depends(get_instance)
):
    require_register_reader(caller)
    try:
        with instance.engine.connect() as conn:
            return {
                "disclosure": service.get_or_raise(conn, vault=instance.vault, disclosure_id=disclosure_id).as_dict()
            }
    except service.DisclosureError as exc:
        raise _errors(exc) from None


def _operator_approver(caller: Caller) -> None:
    if not is_operator(caller):
        raise ApiError(403, "forbidden", "disclosures are approved by operators", rule="permission")
    caller.require("approve_disclosures")


@router.post("/api/v1/disclosures/{disclosure_id}/approve")
def approve_disclosure(
    disclosure_id: str, caller: Caller = Depends(current_caller), instance: Instance = Depends(get_instance)
):
    """Approve a pending disclosure (SHR-4); the one who filed it cannot."""
    _operator_approver(caller)
    try:
        with instance.vault.transaction() as conn:
            found = service.approve(conn, vault=instance.vault, disclosure_id=disclosure_id, actor=caller.actor)
    except service.DisclosureError as exc:
        raise _errors(exc) from None
    return {"disclosure": found.as_dict()}


class DisclosureDenial(BaseModel):
    reason: str = Field(..., max_length=2000)


@router.post("/api/v1/disclosures/{disclosure_id}/deny")
def deny_disclosure(
    disclosure_id: str,
    body: DisclosureDenial,
    caller: Caller = Depends(current_caller),
    instance: Instance = Depends(get_instance),
):
    """Refuse a pending disclosure, with a reason; nothing is released."""
    _operator_approver(caller)
    try:
        with instance.vault.transaction() as conn:
            found = service.deny(
                conn, vault=instance.vault, disclosure_id=disclosure_id, actor=caller.actor, reason=body.reason
            )
    except service.DisclosureError as exc:
        raise _errors(exc) from None
    return {"disclosure": found.as_dict()}


@router.post("/api/v1/disclosures/{disclosure_id}/release")
def release_disclosure(
    disclosure_id: str, caller: Caller = Depends(current_caller), instance: Instance = Depends(get_instance)
):
    """Release an approved disclosure, once, through the gate; returns the data for the recipient."""
    try:
        with instance.vault.transaction() as conn:
            found = service.get_or_raise(conn, vault=instance.vault, disclosure_id=disclosure_id)
            if found.requested_by != caller.actor.label:
                require_discloser(caller)
            found, data = service.release(conn, vault=instance.vault, disclosure_id=disclosure_id, actor=caller.actor)
    except service.DisclosureError as exc:
        raise _errors(exc) from None
    return {"disclosure": found.as_dict(), "data": data}


@router.get("/api/v1/subjects/{subject_id}/disclosures")
def subject_disclosures(subject_id: str, request: Request, instance: Instance = Depends(get_instance)):
    """The disclosures about a subject (SHR-2): for the subject (the token of a verified request that matched them),
    or for staff who review requests or disclosures."""
    token = bearer(request)
    if token is not None and token.startswith("vkr_"):
        with instance.engine.connect() as conn:
            request_ids = conn.execute(
                select(request_subjects.c.request_id).where(request_subjects.c.subject_id == subject_id)
            ).scalars()
            found = [rights_requests.get_or_raise(conn, vault=instance.vault, request_id=r) for r in request_ids]
        if not any(rights_requests.token_valid(r, token) for r in found):
            raise ApiError(403, "forbidden", "this token is not from a request about this subject", rule="token")
        actor = rights_requests.REQUESTER
    else:
        caller = current_caller(request, instance)
        if not ({"*", "review_requests", "approve_disclosures", "read_audit", "disclosures"} & caller.permissions):
            raise ApiError(403, "forbidden", "this caller may not see a subject's disclosures", rule="permission")
        actor = caller.actor
    with instance.vault.transaction() as conn:
        if conn.execute(select(subjects.c.id).where(subjects.c.id == subject_id)).first() is None:
            raise ApiError(404, "not_found", "no such subject")
        entries = service.for_subject(conn, policy=instance.vault.policy, subject_id=subject_id)
        instance.vault.audit(
            conn, actor=actor, action="disclosure:list", subject_id=subject_id, detail={"entries": len(entries)}
        )
    return {"subject_id": subject_id, "disclosures": entries}
