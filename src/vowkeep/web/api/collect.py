"""`POST /api/v1/collect/{point}`: data enters only through declared collection points (COL-1…COL-8)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends

from vowkeep.instance import Instance
from vowkeep.retention import minors
from vowkeep.vault.intake import check_submission
from vowkeep.web.deps import Caller, current_caller, get_instance
from vowkeep.web.errors import ApiError

router = APIRouter(prefix="/api/v1/collect", tags=["collection"])


@router.post("/{point}", status_code=201)
def collect(
    point: str,
    body: Any = Body(..., description="The submission: one key per declared field."),
    caller: Caller = Depends(current_caller),
    instance: Instance = Depends(get_instance),
):
    """Validate a submission against the collection point's declaration and store it, encrypted."""
    declared = instance.vault.policy.collection_point_by_key.get(point)
    if declared is None:
        raise ApiError(404, "unknown_collection_point", f"'{point}' is not a declared collection point")
    policy = instance.vault.policy
    body, claims = minors.take_claims(policy, declared, body)
    submission = check_submission(declared, body)
    try:
        # MIN-1: below the minimum age nothing is stored but the refusal count (MIN-3: unless a guardian consents).
        verdict = minors.check_age(instance.engine, policy, declared, submission, claims)
    except minors.BelowMinimumAge as refused:
        raise ApiError(403, "below_minimum_age", str(refused), rule="minimum-age") from None
    with instance.vault.transaction() as conn:
        result = instance.vault.collect(conn, actor=caller.actor, point=declared, submission=submission)
        guardian = minors.record_guardian_consent(
            conn, vault=instance.vault, subject_id=result.subject_id, point=declared, verdict=verdict
        )
    answer = {
        "subject_id": result.subject_id,
        "created": result.created,
        "items": len(result.item_ids),
        "purposes": declared.purposes,
        "policy_version": instance.vault.policy_version,
        "dropped": result.dropped,
    }
    if verdict.dependant:
        answer["guardian_consent"] = guardian
    return answer
