"""Console: holds (RET-3) — place a declared hold on a subject, see open and ended ones, end one early.
The rules are `retention.holds`'s own."""

from __future__ import annotations

from datetime import UTC, datetime, time

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse

from vowkeep.retention import holds as service
from vowkeep.vault.gate import SubjectNotFound
from vowkeep.web import csrf
from vowkeep.web.errors import ApiError
from vowkeep.web.pages.console import ConsoleUser, console_page, section

router = APIRouter(prefix="/admin/holds", tags=["console"], include_in_schema=False)
keeper = section("holds")


@router.get("")
def list_holds(request: Request, done: str | None = Query(None, max_length=20), user: ConsoleUser = Depends(keeper)):
    instance = request.app.state.instance
    with instance.engine.connect() as conn:
        found = service.list_holds(conn, limit=300)
    messages = {
        "placed": "The hold is placed: the items it covers are kept, isolated, until it ends.",
        "ended": "The hold is ended; the sweeper deletes what nothing else keeps.",
    }
    return console_page(
        request,
        user,
        "admin/holds.html",
        current="holds",
        open_holds=[h.as_dict() for h in found if h.active],
        ended=[h.as_dict() for h in found if not h.active],
        declared=instance.vault.policy.holds,
        done=messages.get(done or ""),
    )


@router.post("")
def place(
    request: Request,
    subject_id: str = Form(..., max_length=32),
    hold: str = Form(..., max_length=64),
    ends_on: str = Form("", max_length=10),
    csrf_token: str = Form(""),
    user: ConsoleUser = Depends(keeper),
):
    csrf.verify(request, csrf_token)
    instance = request.app.state.instance
    ends_at = None
    if ends_on:
        try:
            ends_at = datetime.combine(datetime.strptime(ends_on, "%Y-%m-%d").date(), time(23, 59), tzinfo=UTC)
        except ValueError:
            raise ApiError(422, "invalid_hold", "the end date is written YYYY-MM-DD") from None
    try:
        with instance.vault.transaction() as conn:
            service.place(
                conn,
                vault=instance.vault,
                actor=user.caller.actor,
                subject_id=subject_id.strip(),
                hold_key=hold,
                ends_at=ends_at,
            )
    except service.HoldError as exc:
        raise ApiError(422, "invalid_hold", str(exc)) from None
    except SubjectNotFound:
        raise ApiError(404, "not_found", "no subject has that id") from None
    return RedirectResponse("/admin/holds?done=placed", status_code=303)


@router.post("/{hold_id}/end")
def end(request: Request, hold_id: str, csrf_token: str = Form(""), user: ConsoleUser = Depends(keeper)):
    csrf.verify(request, csrf_token)
    instance = request.app.state.instance
    try:
        with instance.vault.transaction() as conn:
            service.release(conn, vault=instance.vault, actor=user.caller.actor, hold_id=hold_id)
    except service.HoldNotFound:
        raise ApiError(404, "not_found", "no such hold") from None
    except service.HoldError as exc:
        raise ApiError(409, "hold_ended", str(exc)) from None
    return RedirectResponse("/admin/holds?done=ended", status_code=303)
