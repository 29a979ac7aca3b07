"""Subjects through the gate: `GET /api/v1/subjects/{id}` reads for a purpose, `GET /api/v1/subjects?email=`
finds by blind index, `PATCH /api/v1/subjects/{id}` rectifies (RIG-2). A denial is a 403 naming the rule."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from vowkeep.instance import Instance
from vowkeep.vault.intake import SubmissionError, check_field_value
from vowkeep.web.deps import Caller, current_caller, get_instance
from vowkeep.web.errors import ApiError

router = APIRouter(prefix="/api/v1/subjects", tags=["subjects"])


def _item_json(item) -> dict:
    return {**item.meta(), "value": item.value}


@router.get("/{subject_id}")
def read_subject(
    subject_id: str,
    purpose: str = Query(..., description="Why the data is read: a declared purpose."),
    categories: str | None = Query(None, description="Comma-separated categories; default all of the purpose's."),
    caller: Caller = Depends(current_caller),
    instance: Instance = Depends(get_instance),
):
    """The subject's items for a purpose, decrypted through the gate and audited (USE-1)."""
    wanted = [c.strip() for c in categories.split(",") if c.strip()] if categories else None
    with instance.vault.transaction() as conn:
        values = instance.vault.read(
            conn, actor=caller.actor, purpose=purpose, subject_id=subject_id, categories=wanted
        )
    return {"subject_id": subject_id, "purpose": purpose, "items": [_item_json(v) for v in values]}


@router.get("")
def find_subjects(
    purpose: str = Query(...),
    email: str | None = Query(None),
    phone: str | None = Query(None),
    caller: Caller = Depends(current_caller),
    instance: Instance = Depends(get_instance),
):
    """Subjects with this e-mail address or phone number, found by blind index."""
    if (email is None) == (phone is None):
        raise ApiError(422, "invalid_request", "give exactly one of `email` or `phone`")
    category, value = ("user.contact.email", email) if email is not None else ("user.contact.phone_number", phone)
    with instance.vault.transaction() as conn:
        found = instance.vault.find_subjects(conn, actor=caller.actor, purpose=purpose, category=category, value=value)
    return {"subjects": found}


class Rectification(BaseModel):
    purpose: str = Field(..., description="The purpose the correction serves, e.g. `account` or `subject_rights`.")
    values: dict[str, object] = Field(..., min_length=1, description="New values by field name.")


@router.patch("/{subject_id}")
def rectify_subject(
    subject_id: str,
    body: Rectification,
    caller: Caller = Depends(current_caller),
    instance: Instance = Depends(get_instance),
):
    """Correct inaccurate values (RIG-2); each value is validated as its collection point declares it."""
    points = instance.vault.policy.collection_point_by_key

    def check(point: str, field: str, raw: object):
        return check_field_value(points[point], field, raw)

    with instance.vault.transaction() as conn:
        try:
            changed = instance.vault.rectify(
                conn,
                actor=caller.actor,
                purpose=body.purpose,
                subject_id=subject_id,
                changes=body.values,
                check_value=check,
            )
        except KeyError as exc:
            raise ApiError(422, "unknown_field", str(exc.args[0])) from None
        except SubmissionError:
            raise
    return {"subject_id": subject_id, "items_changed": len(changed)}
