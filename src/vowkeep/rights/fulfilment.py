"""Fulfilling a verified request, right by right, through the gate's primitives as the `rights` system actor.

- access, portability (RIG-1, RIG-7): the report of everything held, sealed under each subject's data key until
  the requester opens it (an erasure shreds it with the rest).
- erase (RIG-3): items not under a hold are deleted, the data key is destroyed once nothing is held; held items
  are listed with the hold's reason and end; processors are told (SHR-7). The marketing suppression list is not
  tied to the subject, so an earlier opt-out survives.
- deactivate, restrict, reactivate (RIG-4): the subject's state; nothing is deleted, and it can be undone.
- object: a `refused` record in the consent ledger for each purpose, which the gate then honours (USE-3); an
  objection to a marketing purpose also suppresses the address (RIG-5); processors of the purpose are told.
- rectify (RIG-2): the new values, validated as their collection point declares them.
"""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from vowkeep import clock
from vowkeep.comms import suppression
from vowkeep.consent import ledger
from vowkeep.policy.model import MessageKind
from vowkeep.policy.taxonomy import covers
from vowkeep.rights import RIGHTS_ACTOR, report
from vowkeep.rights.errors import RequestError
from vowkeep.sharing import processors
from vowkeep.store.tables import items, request_subjects, subjects
from vowkeep.vault.decisions import SUBJECT_RIGHTS, GateDenied
from vowkeep.vault.gate import SubjectState
from vowkeep.vault.intake import SubmissionError, check_field_value

RESULT_LABEL = "request-result"


def fulfil(conn: Connection, *, instance, request) -> dict:
    """Carry out `request` for every subject it matched; returns the outcome (no values in it)."""
    vault = instance.vault
    per_subject = {}
    for subject_id in request.subject_ids:
        handler = _HANDLERS[request.kind]
        outcome = handler(conn, instance=instance, request=request, subject_id=subject_id)
        conn.execute(
            update(request_subjects)
            .where(request_subjects.c.request_id == request.id, request_subjects.c.subject_id == subject_id)
            .values(outcome=outcome)
        )
        per_subject[subject_id] = outcome
    if request.kind == "object":
        _suppress_marketing(conn, vault=vault, request=request)
    return _summarise(request.kind, per_subject)


def _summarise(kind: str, per_subject: dict[str, dict]) -> dict:
    outcomes = list(per_subject.values())
    summary: dict = {"subjects": len(outcomes)}
    if kind == "erase":
        summary.update(
            deleted=sum(o["deleted"] for o in outcomes),
            held=[h for o in outcomes for h in o["held"]],
            key_destroyed=all(o["key_destroyed"] for o in outcomes),
            processors=sorted({p for o in outcomes for p in o["processors"]}),
        )
    elif kind in ("access", "portability"):
        summary.update(items=sum(o["items"] for o in outcomes), held_items=sum(o["held_items"] for o in outcomes))
    elif kind == "rectify":
        summary.update(
            changed=sorted({f for o in outcomes for f in o["changed"]}),
            not_held=sorted(set.intersection(*[set(o["not_held"]) for o in outcomes]) if outcomes else set()),
        )
    elif kind == "object":
        summary.update(
            purposes=sorted({p for o in outcomes for p in o["purposes"]}),
            processors=sorted({p for o in outcomes for p in o["processors"]}),
        )
    else:
        summary.update(states={s: o["state"] for s, o in per_subject.items()})
    return summary


def _report(conn: Connection, *, instance, request, subject_id: str) -> dict:
    vault = instance.vault
    try:
        subject_report = report.subject_report(conn, vault=vault, subject_id=subject_id)
    except GateDenied as denied:
        if denied.rule != "subject-erased":
            raise
        return {"items": 0, "held_items": 0, "erased": True}  # erased since the request was verified: nothing held
    sealed = vault.seal_for(subject_id, subject_report, RESULT_LABEL)
    conn.execute(
        update(request_subjects)
        .where(request_subjects.c.request_id == request.id, request_subjects.c.subject_id == subject_id)
        .values(sealed_result=sealed)
    )
    return {"items": len(subject_report["items"]), "held_items": len(subject_report["held_items"])}


def _item_rows(conn: Connection, subject_id: str) -> list[tuple[str, str]]:
    return [
        (r.category, r.purposes)
        for r in conn.execute(select(items.c.category, items.c.purposes).where(items.c.subject_id == subject_id))
    ]


def _notify_processors(conn, *, vault, request, subject_id, event, item_rows, for_purposes=None) -> list[str]:
    targets = processors.processors_holding(
        conn, vault.policy, subject_id=subject_id, items=item_rows, for_purposes=for_purposes
    )
    contact = request.details.get("contact")
    now = clock.now().isoformat()

    def body_for(recipient) -> dict:
        held = sorted({c for c, _ in item_rows if any(covers(d, c) for d in recipient.categories)})
        email_shared = any(covers(d, "user.contact.email") for d in recipient.categories)
        return {
            "event": event,
            "organization": vault.policy.organization.name,
            "request_id": request.id,
            "subject_id": subject_id,
            "identifiers": {"email": contact} if email_shared and contact else {},
            "categories": held,
            "purposes": sorted(for_purposes) if for_purposes else [],
            "occurred_at": now,
        }

    processors.queue(
        conn,
        vault=vault,
        request_id=request.id,
        subject_id=subject_id,
        event=event,
        recipients=targets,
        body_for=body_for,
    )
    return [t.key for t in targets]


def _erase(conn: Connection, *, instance, request, subject_id: str) -> dict:
    vault = instance.vault
    item_rows = _item_rows(conn, subject_id)
    told = _notify_processors(
        conn, vault=vault, request=request, subject_id=subject_id, event="erasure", item_rows=item_rows
    )
    result = vault.erase_subject(conn, actor=RIGHTS_ACTOR, subject_id=subject_id, reason="erasure-request")
    return {
        "deleted": result.deleted,
        "held": [
            {
                "field": h.field,
                "category": h.category,
                "hold": h.hold,
                "reason": h.reason,
                "ends_at": h.ends_at.isoformat(),
            }
            for h in result.held
        ],
        "key_destroyed": result.key_destroyed,
        "processors": told,
    }


def _set_state(state: str):
    def handler(conn: Connection, *, instance, request, subject_id: str) -> dict:
        vault = instance.vault
        current = conn.execute(select(subjects.c.state).where(subjects.c.id == subject_id)).scalar_one()
        if state == SubjectState.active and current == SubjectState.active:
            return {"state": current, "changed": False}
        try:
            vault.set_state(
                conn, actor=RIGHTS_ACTOR, subject_id=subject_id, state=state, reason=f"request:{request.kind}"
            )
        except GateDenied as denied:
            raise RequestError(f"the subject's state cannot change: {denied.decision.reason}") from None
        return {"state": state, "changed": current != state}

    return handler


def _object(conn: Connection, *, instance, request, subject_id: str) -> dict:
    vault = instance.vault
    for purpose in request.purposes:
        ledger.record(
            conn,
            subject_id=subject_id,
            purpose=purpose,
            choice=ledger.Choice.refused,
            method=ledger.Method.request,
            policy_version=vault.policy_version,
            evidence={"request": request.id},
        )
    told = _notify_processors(
        conn,
        vault=vault,
        request=request,
        subject_id=subject_id,
        event="objection",
        item_rows=_item_rows(conn, subject_id),
        for_purposes=set(request.purposes),
    )
    return {"purposes": list(request.purposes), "processors": told}


def _suppress_marketing(conn: Connection, *, vault, request) -> None:
    contact = request.details.get("contact")
    marketing = [
        p for p in request.purposes if (d := vault.policy.purpose_by_key.get(p)) and d.messages == MessageKind.marketing
    ]
    if contact and marketing:
        suppression.suppress(conn, vault=vault, address=contact, scope="marketing", method="request")


def _rectify(conn: Connection, *, instance, request, subject_id: str) -> dict:
    vault = instance.vault
    wanted: dict = request.details.get("values") or {}
    held_fields = set(conn.execute(select(items.c.field).where(items.c.subject_id == subject_id)).scalars())
    changes = {name: value for name, value in wanted.items() if name in held_fields}
    not_held = sorted(set(wanted) - held_fields)
    if not changes:
        return {"changed": [], "not_held": not_held}
    points = vault.policy.collection_point_by_key

    def check(point: str, field: str, raw: object):
        return check_field_value(points[point], field, raw)

    try:
        vault.rectify(
            conn,
            actor=RIGHTS_ACTOR,
            purpose=SUBJECT_RIGHTS,
            subject_id=subject_id,
            changes=changes,
            check_value=check,
        )
    except SubmissionError as exc:
        raise RequestError(
            "a corrected value is not valid for its collection point", problems=[p.as_dict() for p in exc.problems]
        ) from None
    except GateDenied as denied:
        raise RequestError(f"the correction was refused: {denied.decision.reason}") from None
    return {"changed": sorted(changes), "not_held": not_held}


_HANDLERS = {
    "access": _report,
    "portability": _report,
    "erase": _erase,
    "deactivate": _set_state(SubjectState.deactivated),
    "restrict": _set_state(SubjectState.restricted),
    "reactivate": _set_state(SubjectState.active),
    "object": _object,
    "rectify": _rectify,
}
