"""Console: the conformance report of `vowkeep verify` (TOOL-3), run on each visit.

The report names subjects, items, tables and records, never a value. The declaration file compared with is the
instance's own (`VOWKEEP_POLICY`), when it records one.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from vowkeep.web.pages.console import ConsoleUser, console_page, section

router = APIRouter(prefix="/admin/conformance", tags=["console"], include_in_schema=False)


@router.get("")
def conformance(request: Request, user: ConsoleUser = Depends(section("conformance"))):
    from vowkeep.verify import report as conformance_report

    instance = request.app.state.instance
    result = conformance_report.run(instance, policy_file=instance.settings.policy_path)
    return console_page(
        request,
        user,
        "admin/conformance.html",
        current="conformance",
        report=result,
        labels={s: label.strip() for s, label in conformance_report.LABELS.items()},
    )
