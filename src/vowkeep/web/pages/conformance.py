"""`/admin/conformance`: the conformance report of `vowkeep verify` in the console (TOOL-3).

The report names subjects, items, tables and records, never a value; it is the auditor's view, so it is shown to
operators whose role may read the audit log (`read_audit`). The declaration file compared with is the instance's
own (`VOWKEEP_POLICY`), when it records one.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from vowkeep.vault import operators
from vowkeep.web import sessions
from vowkeep.web.pages.templating import page

router = APIRouter(prefix="/admin", tags=["console"], include_in_schema=False)
PERMISSION = "read_audit"


@router.get("/conformance")
def conformance(request: Request, operator: operators.Operator = Depends(sessions.current_operator)):
    from vowkeep.verify import report as conformance_report

    instance = request.app.state.instance
    role = instance.vault.policy.role_by_key.get(operator.role)
    if role is None or PERMISSION not in role.permissions:
        return page(
            request,
            "message.html",
            status_code=403,
            heading="Not allowed",
            message=f"Your role may not see the conformance report: it needs the '{PERMISSION}' permission.",
            back="/admin",
        )
    result = conformance_report.run(instance, policy_file=instance.settings.policy_path)
    return page(
        request,
        "admin/conformance.html",
        operator=operator,
        report=result,
        labels={s: label.strip() for s, label in conformance_report.LABELS.items()},
    )
