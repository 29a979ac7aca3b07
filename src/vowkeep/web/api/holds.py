"""Holds (RET-3): `POST /api/v1/holds` places one, `GET /api/v1/holds` lists them, `DELETE /api/v1/holds/{id}` ends
one early. Operators need the `manage_holds` permission; API keys the `holds` scope."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from vowkeep.instance import Instance
from vowkeep.retention import holds
from vowkeep.web.deps import Caller, current_caller, get_instance
from vowkeep.web.errors import ApiError

router = APIRouter(prefix="/api/v1/holds", tags=["holds"])


def _allowed(caller: Caller) -> None:
    if not ({"manage_holds", "holds", "*"} & caller.permissions):
        raise ApiError(403, "forbidden", "this caller lacks the 'manage_holds' permission", rule="permission")


class NewHold(BaseModel):
    subject_id: str = Field(..., min_length=1, max_length=32)
    hold: str = Field(..., min_length=1, max_length=64, description="A hold the declaration lists under `holds`.")
    categories: list[str] | None = Field(
        None, max_length=50, description="Only these of the hold's categories (default: all of them)."
    )
    ends_at: datetime | None = Field(None, description="Sooner than the declared retention allows; default: that.")


@router.post("", status_code=201)
def place_hold(body: NewHold, caller: Caller = Depends(current_caller), instance: Instance = Depends(get_instance)):
    """Place a declared hold on a subject: its items of the hold's categories are kept, isolated, until it ends."""
    _allowed(caller)
    with instance.vault.transaction() as conn:
        try:
            hold, count = holds.place(
                conn,
                vault=instance.vault,
                actor=caller.actor,
                subject_id=body.subject_id,
                hold_key=body.hold,
                categories=body.categories,
                ends_at=body.ends_at,
            )
        except holds.HoldError as exc:
            raise ApiError(422, "invalid_hold", str(exc)) from None
    return {**hold.as_dict(), "items_held": count}


@router.get("")
def list_holds(
    subject_id: str | None = Query(None, max_length=32),
    active: bool | None = Query(None, description="true: open holds; false: ended ones; default: all."),
    caller: Caller = Depends(current_caller),
    instance: Instance = Depends(get_instance),
):
    """Holds, newest first."""
    _allowed(caller)
    with instance.engine.connect() as conn:
        found = holds.list_holds(conn, subject_id=subject_id, active=active)
    return {"holds": [h.as_dict() for h in found]}


@router.get("/{hold_id}")
def get_hold(hold_id: str, caller: Caller = Depends(current_caller), instance: Instance = Depends(get_instance)):
    _allowed(caller)
    with instance.engine.connect() as conn:
        try:
            return holds.get_or_raise(conn, hold_id=hold_id).as_dict()
        except holds.HoldNotFound:
            raise ApiError(404, "not_found", "no such hold") from None


@router.delete("/{hold_id}")
def end_hold(hold_id: str, caller: Caller = Depends(current_caller), instance: Instance = Depends(get_instance)):
    """End a hold early (audited). What no other hold and no live purpose keeps is then deleted by the sweeper."""
    _allowed(caller)
    with instance.vault.transaction() as conn:
        try:
            hold = holds.release(conn, vault=instance.vault, actor=caller.actor, hold_id=hold_id)
        except holds.HoldNotFound:
            raise ApiError(404, "not_found", "no such hold") from None
        except holds.HoldError as exc:
            raise ApiError(409, "hold_ended", str(exc)) from None
    return hold.as_dict()
