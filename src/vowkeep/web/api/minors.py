"""Minors (MIN-1, MIN-2): operators report a subject found to be a minor, review reports from the public form,
and see the count of registrations refused under the minimum age. Operators need `review_requests`; API keys the
`requests` scope."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from vowkeep.instance import Instance
from vowkeep.retention import minors
from vowkeep.web.deps import Caller, current_caller, get_instance
from vowkeep.web.errors import ApiError

router = APIRouter(prefix="/api/v1/minors", tags=["minors"])


def _allowed(caller: Caller) -> None:
    if not ({"review_requests", "requests", "*"} & caller.permissions):
        raise ApiError(403, "forbidden", "this caller lacks the 'review_requests' permission", rule="permission")


class NewReport(BaseModel):
    subject_id: str = Field(..., min_length=1, max_length=32)


@router.post("/reports", status_code=201)
def report_minor(body: NewReport, caller: Caller = Depends(current_caller), instance: Instance = Depends(get_instance)):
    """The subject is a minor: the account is deactivated now and its data erased promptly (MIN-2)."""
    _allowed(caller)
    with instance.vault.transaction() as conn:
        try:
            report = minors.report_by_operator(
                conn, vault=instance.vault, actor=caller.actor, subject_id=body.subject_id
            )
        except minors.MinorReportError as exc:
            raise ApiError(409, "already_erased", str(exc)) from None
    return report.as_dict()


@router.get("/reports")
def list_reports(
    state: str | None = Query(None, description=f"One of: {', '.join(minors.REPORT_STATES)}."),
    caller: Caller = Depends(current_caller),
    instance: Instance = Depends(get_instance),
):
    _allowed(caller)
    if state is not None and state not in minors.REPORT_STATES:
        raise ApiError(422, "invalid_request", f"state is one of: {', '.join(minors.REPORT_STATES)}")
    with instance.engine.connect() as conn:
        return {"reports": [r.as_dict() for r in minors.list_reports(conn, state=state)]}


def _resolve(action, report_id: str, caller: Caller, instance: Instance) -> dict:
    _allowed(caller)
    with instance.vault.transaction() as conn:
        try:
            return action(conn, vault=instance.vault, actor=caller.actor, report_id=report_id).as_dict()
        except minors.MinorReportNotFound:
            raise ApiError(404, "not_found", "no such report") from None
        except minors.MinorReportError as exc:
            raise ApiError(409, "not_pending", str(exc)) from None


@router.post("/reports/{report_id}/confirm")
def confirm_report(report_id: str, caller: Caller = Depends(current_caller), instance=Depends(get_instance)):
    """A report from the public form is right: erase the subject now rather than after the review time."""
    return _resolve(minors.confirm, report_id, caller, instance)


@router.post("/reports/{report_id}/dismiss")
def dismiss_report(report_id: str, caller: Caller = Depends(current_caller), instance=Depends(get_instance)):
    """A report from the public form is mistaken: the account is active again and nothing is erased."""
    return _resolve(minors.dismiss, report_id, caller, instance)


@router.get("/refusals")
def refusals(
    since: date | None = Query(None),
    caller: Caller = Depends(current_caller),
    instance: Instance = Depends(get_instance),
):
    """Registrations refused under the minimum age, per collection point and day: all that is kept of them."""
    _allowed(caller)
    with instance.engine.connect() as conn:
        return {
            "minimum_age": instance.vault.policy.minors.minimum_age,
            "refusals": minors.refusal_counts(conn, since=since),
        }
