"""Console: the published policy versions (NTC-1) and what changed from one to the next, with the material changes
that notify subjects and ask for re-consent marked (NTC-2) — `policy.diff` over the stored declarations."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request

from vowkeep.policy import diff, versions
from vowkeep.web.errors import ApiError
from vowkeep.web.pages.console import ConsoleUser, console_page, section

router = APIRouter(prefix="/admin/policy", tags=["console"], include_in_schema=False)
reader = section("policy")


@router.get("")
def list_versions(request: Request, user: ConsoleUser = Depends(reader)):
    instance = request.app.state.instance
    with instance.engine.connect() as conn:
        found = versions.list_all(conn)
    return console_page(request, user, "admin/policy.html", current="policy", versions=found)


@router.get("/{version}")
def one_version(
    request: Request,
    version: int,
    against: int | None = Query(None, ge=1, description="Compare with this version (default: the one before)."),
    user: ConsoleUser = Depends(reader),
):
    instance = request.app.state.instance
    with instance.engine.connect() as conn:
        found = versions.get(conn, version=version)
        if found is None:
            raise ApiError(404, "not_found", f"there is no policy version {version}")
        other_number = against if against is not None else version - 1
        other = versions.get(conn, version=other_number) if other_number >= 1 else None
        if against is not None and other is None:
            raise ApiError(404, "not_found", f"there is no policy version {against}")
        all_numbers = [v.version for v in versions.list_all(conn)]
    changes = diff.diff(other.policy, found.policy) if other is not None else None
    return console_page(
        request,
        user,
        "admin/policy_version.html",
        current="policy",
        v=found,
        other=other,
        changes=changes.as_dict() if changes is not None else None,
        numbers=all_numbers,
    )
