"""Communications: marketing campaigns, the free-download flow, and opting out of mail in one action.

`POST /api/v1/campaigns` (USE-3), `POST /api/v1/downloads/{point}` (COL-7),
`POST /api/v1/subjects/{id}/communications/opt-out` (RIG-5, RIG-6).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from vowkeep.comms import downloads, marketing, preferences
from vowkeep.consent.ledger import Method
from vowkeep.instance import Instance
from vowkeep.vault.intake import check_submission
from vowkeep.web.api.consents import require_consents, subject_state_or_404
from vowkeep.web.deps import Caller, current_caller, get_instance
from vowkeep.web.errors import ApiError

router = APIRouter(prefix="/api/v1", tags=["communications"])


class CampaignIn(BaseModel):
    purpose: str = Field(..., description="A declared purpose with `messages: marketing`.")
    subject: str = Field(..., min_length=1, max_length=200, description="The e-mail's subject line.")
    body: str = Field(..., min_length=1, max_length=50_000, description="The e-mail's text.")


@router.post("/campaigns", status_code=201)
def campaign(body: CampaignIn, caller: Caller = Depends(current_caller), instance: Instance = Depends(get_instance)):
    """Queue a marketing e-mail to every subject whose consent for the purpose allows it."""
    vault = instance.vault
    decision = vault.check(caller.actor, body.purpose, ["user.contact.email"])
    if not decision.allowed:
        raise ApiError(403, "denied", decision.reason, rule=decision.rule)
    try:
        with vault.transaction() as conn:
            result = marketing.queue_campaign(
                conn, vault=vault, actor=caller.actor, purpose=body.purpose, subject_line=body.subject, body=body.body
            )
    except marketing.CampaignError as exc:
        raise ApiError(422, "invalid_campaign", str(exc)) from None
    return {"purpose": result.purpose, "queued": result.queued, "without_consent": result.without_consent}


class DownloadIn(BaseModel):
    submission: dict[str, Any] = Field(..., description="The collection point's fields (name, email…).")
    link: str = Field(..., description="The download link to mail.")


@router.post("/downloads/{point}", status_code=201)
def download(
    point: str, body: DownloadIn, caller: Caller = Depends(current_caller), instance: Instance = Depends(get_instance)
):
    """Collect a free-download form and mail its link to the address given (COL-7)."""
    vault = instance.vault
    declared = vault.policy.collection_point_by_key.get(point)
    if declared is None:
        raise ApiError(404, "unknown_collection_point", f"'{point}' is not a declared collection point")
    try:
        link = downloads.check_link(body.link)
        downloads.link_purpose(vault.policy, declared)
    except downloads.DownloadError as exc:
        raise ApiError(422, "invalid_download", str(exc)) from None
    submission = check_submission(declared, body.submission)
    with vault.transaction() as conn:
        result = downloads.send_download(
            conn, vault=vault, actor=caller.actor, point=declared, submission=submission, link=link
        )
    return {"subject_id": result.subject_id, "created": result.created, "purpose": result.purpose, "mail_queued": True}


class OptOutIn(BaseModel):
    scope: Literal["marketing", "all_non_essential"] = Field(
        "all_non_essential", description="Marketing mail, or every non-essential communication (RIG-6)."
    )
    method: Method = Field(Method.api, description="How the subject asked (center, email_link, operator…).")


@router.post("/subjects/{subject_id}/communications/opt-out")
def opt_out(
    subject_id: str,
    body: OptOutIn,
    caller: Caller = Depends(current_caller),
    instance: Instance = Depends(get_instance),
):
    """Opt the subject out of marketing or of every non-essential communication, in one action."""
    require_consents(caller)
    vault = instance.vault
    with vault.transaction() as conn:
        subject_state_or_404(conn, subject_id)
        result = preferences.opt_out(
            conn, vault=vault, subject_id=subject_id, scope=body.scope, method=body.method, actor=caller.actor
        )
    return {
        "subject_id": subject_id,
        "scope": result.scope,
        "withdrawn": result.withdrawn,
        "suppressed": result.suppressed,
    }
