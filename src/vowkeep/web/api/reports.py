"""Aggregate reports (SHR-3): `GET /api/v1/reports` lists what the caller may run, `GET /api/v1/reports/{name}`
runs one, `GET /api/v1/reports/{name}/runs` lists its past runs (each a recorded disclosure).

A recipient's API key carries the scope `recipient:<key>` and runs only that recipient's reports; operators need
the `read_reports` permission, internal services the `reports` scope.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Query

from vowkeep.instance import Instance
from vowkeep.sharing import reports
from vowkeep.web.deps import Caller, current_caller, get_instance
from vowkeep.web.errors import ApiError

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])


def _scope(caller: Caller) -> str | None:
    """The recipient the caller is bound to, or None for operators and internal services; 403 for anyone else."""
    bound = reports.recipient_of_scopes(caller.permissions)
    if bound is not None:
        return bound
    if {"read_reports", "reports", "*"} & caller.permissions:
        return None
    raise ApiError(403, "forbidden", "this caller lacks the 'read_reports' permission", rule="permission")


@router.get("")
def list_reports(caller: Caller = Depends(current_caller), instance: Instance = Depends(get_instance)):
    """The reports this caller may run, with each recipient's privacy budget."""
    recipient = _scope(caller)
    policy = instance.vault.policy
    with instance.engine.connect() as conn:
        return {
            "reports": [
                {
                    "report": r.key,
                    "label": r.label,
                    "recipient": r.recipient,
                    "purpose": r.purpose,
                    "source": r.source,
                    "dimensions": r.dimensions,
                    "measure": r.measure,
                    "epsilon": r.epsilon,
                    "budget": reports.budget_of(conn, policy, r.recipient),
                }
                for r in reports.visible(policy, recipient=recipient)
            ]
        }


@router.get("/{name}")
def run_report(
    name: str,
    since: date | None = Query(None, description="First day counted (traffic reports)."),
    until: date | None = Query(None, description="Last day counted (traffic reports)."),
    caller: Caller = Depends(current_caller),
    instance: Instance = Depends(get_instance),
):
    """Run a report: grouped counts, small groups suppressed, noise where declared; recorded as a disclosure."""
    recipient = _scope(caller)
    try:
        result = reports.run(
            instance.vault, actor=caller.actor, report_key=name, recipient_scope=recipient, since=since, until=until
        )
    except reports.ReportNotFound:
        raise ApiError(404, "not_found", f"no report '{name}' for this caller") from None
    except reports.ReportRefused as exc:
        raise ApiError(403, "denied", str(exc), rule=exc.rule) from None
    except reports.ReportInvalid as exc:
        raise ApiError(422, "invalid_request", str(exc)) from None
    except reports.DifferentialPrivacyUnavailable as exc:
        raise ApiError(501, "dp_unavailable", str(exc)) from None
    return result.as_dict()


@router.get("/{name}/runs")
def report_runs(name: str, caller: Caller = Depends(current_caller), instance: Instance = Depends(get_instance)):
    """Past runs of a report, newest first: who ran it, when, what it released and the epsilon it spent."""
    recipient = _scope(caller)
    if name not in instance.vault.policy.report_by_key or (
        recipient is not None and instance.vault.policy.report_by_key[name].recipient != recipient
    ):
        raise ApiError(404, "not_found", f"no report '{name}' for this caller")
    with instance.engine.connect() as conn:
        return {"runs": reports.runs(conn, report_key=name)}
