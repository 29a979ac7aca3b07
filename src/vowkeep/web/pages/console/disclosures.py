"""Console: the disclosure register (SHR-2), legal requests recorded with their reference and scope and released
only after another operator approves (SHR-4). The rules are `sharing.disclosures`'s own; this is their face."""

from __future__ import annotations

from contextlib import contextmanager

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse

from vowkeep.policy.model import RecipientKind
from vowkeep.sharing import disclosures as service
from vowkeep.vault.decisions import GateDenied
from vowkeep.vault.gate import SubjectNotFound
from vowkeep.web import csrf
from vowkeep.web.errors import ApiError
from vowkeep.web.pages.console import ConsoleUser, console_page, section

router = APIRouter(prefix="/admin/disclosures", tags=["console"], include_in_schema=False)
reader = section("disclosures")
STATES = ("pending", "approved", "released", "denied")


@contextmanager
def page_errors():
    """The sharing package's refusals as a page with a 4xx status."""
    try:
        yield
    except service.DisclosureError as exc:
        raise ApiError(exc.status, exc.code, exc.message) from None
    except GateDenied as exc:
        raise ApiError(403, "denied", exc.decision.reason, rule=exc.decision.rule) from None
    except SubjectNotFound:
        raise ApiError(404, "not_found", "a subject named in the request does not exist") from None


def require_approver(user: ConsoleUser) -> None:
    if not user.holds("approve_disclosures"):
        raise ApiError(403, "forbidden", "your role may read the register but not file or decide disclosures")


@router.get("")
def register(
    request: Request,
    state: str | None = Query(None, max_length=20),
    done: str | None = Query(None, max_length=20),
    user: ConsoleUser = Depends(reader),
):
    instance = request.app.state.instance
    state = state if state in STATES else None
    with instance.vault.transaction() as conn:
        found = service.register(conn, vault=instance.vault, state=state, limit=200)
        counts = service.count_by_state(conn)
        instance.vault.audit(conn, actor=user.caller.actor, action="disclosure:list", detail={"entries": len(found)})
    policy = instance.vault.policy
    authorities = [r for r in policy.recipients if r.kind == RecipientKind.authority]
    messages = {
        "filed": "Recorded: the legal request waits for another operator's approval.",
        "approved": "Approved: it may now be released, once.",
        "denied": "Denied: nothing is released.",
    }
    return console_page(
        request,
        user,
        "admin/disclosures.html",
        current="disclosures",
        entries=[d.as_dict() for d in found],
        counts=counts,
        state=state,
        states=STATES,
        authorities=authorities,
        legal_kinds=service.LEGAL_KINDS,
        may_decide=user.holds("approve_disclosures"),
        me=user.caller.actor.label,
        done=messages.get(done or ""),
    )


@router.post("/legal")
def file_legal_request(
    request: Request,
    recipient: str = Form(..., max_length=64),
    purpose: str = Form(..., max_length=64),
    categories: list[str] = Form([]),
    subject_ids: str = Form(..., max_length=20000),
    kind: str = Form(..., max_length=20),
    reference: str = Form(..., max_length=500),
    scope: str = Form(..., max_length=2000),
    authority: str = Form("", max_length=500),
    csrf_token: str = Form(""),
    user: ConsoleUser = Depends(reader),
):
    """Record a subpoena, court order or authority's demand; nothing is released before an approval (SHR-4)."""
    csrf.verify(request, csrf_token)
    require_approver(user)
    instance = request.app.state.instance
    with page_errors(), instance.vault.transaction() as conn:
        service.file(
            conn,
            vault=instance.vault,
            actor=user.caller.actor,
            recipient=recipient,
            purpose=purpose,
            categories=categories,
            subject_ids=subject_ids.replace(",", " ").split(),
            legal={"kind": kind, "reference": reference, "scope": scope, "authority": authority or None},
        )
    return RedirectResponse("/admin/disclosures?done=filed", status_code=303)


@router.post("/{disclosure_id}/approve")
def approve(request: Request, disclosure_id: str, csrf_token: str = Form(""), user: ConsoleUser = Depends(reader)):
    csrf.verify(request, csrf_token)
    require_approver(user)
    instance = request.app.state.instance
    with page_errors(), instance.vault.transaction() as conn:
        service.approve(conn, vault=instance.vault, disclosure_id=disclosure_id, actor=user.caller.actor)
    return RedirectResponse("/admin/disclosures?done=approved", status_code=303)


@router.post("/{disclosure_id}/deny")
def deny(
    request: Request,
    disclosure_id: str,
    reason: str = Form("", max_length=2000),
    csrf_token: str = Form(""),
    user: ConsoleUser = Depends(reader),
):
    csrf.verify(request, csrf_token)
    require_approver(user)
    instance = request.app.state.instance
    with page_errors(), instance.vault.transaction() as conn:
        service.deny(conn, vault=instance.vault, disclosure_id=disclosure_id, actor=user.caller.actor, reason=reason)
    return RedirectResponse("/admin/disclosures?done=denied", status_code=303)


@router.post("/{disclosure_id}/release")
def release(request: Request, disclosure_id: str, csrf_token: str = Form(""), user: ConsoleUser = Depends(reader)):
    """Release an approved disclosure, once, as `POST /api/v1/disclosures/{id}/release` does: the data read through
    the gate for the recipient comes back as a JSON file for the operator to hand over, and is kept by nobody."""
    csrf.verify(request, csrf_token)
    instance = request.app.state.instance
    with page_errors(), instance.vault.transaction() as conn:
        found = service.get_or_raise(conn, vault=instance.vault, disclosure_id=disclosure_id)
        if found.requested_by != user.caller.actor.label:
            require_approver(user)
        found, data = service.release(conn, vault=instance.vault, disclosure_id=disclosure_id, actor=user.caller.actor)
    return JSONResponse(
        {"disclosure": found.as_dict(), "data": data},
        headers={
            "Content-Disposition": f'attachment; filename="disclosure-{found.id}.json"',
            "Cache-Control": "no-store",
        },
    )
