"""A subject's consents: `GET|POST /api/v1/subjects/{id}/consents` and Kantara 1.1 receipts (USE-3, MIN-3).

Services need the `consents` scope; operators a role with `review_requests`. Every recorded choice is audited.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy import select

from vowkeep.consent import banner, ledger, receipts
from vowkeep.consent.ledger import Choice, Method
from vowkeep.instance import Instance
from vowkeep.policy.model import ConsentMode
from vowkeep.store.tables import subjects
from vowkeep.vault.decisions import Decision
from vowkeep.web.deps import Caller, current_caller, get_instance, is_operator
from vowkeep.web.errors import ApiError

router = APIRouter(prefix="/api/v1/subjects", tags=["consents"])
MAX_EVIDENCE = 2000


def require_consents(caller: Caller) -> None:
    """Operators review rights; services hold the `consents` scope."""
    caller.require("review_requests" if is_operator(caller) else "consents")


class ConsentIn(BaseModel):
    purpose: str | None = Field(None, description="A declared consent-based purpose.")
    choice: Choice | None = Field(None, description="given, refused or withdrawn.")
    method: Method = Field(Method.api, description="How the choice was made (form, banner, email_link, guardian…).")
    evidence: dict[str, Any] = Field(
        default_factory=dict,
        description="References that prove the choice (form id, guardian's subject id…); never personal values.",
    )
    visitor_id: str | None = Field(
        None, description="The banner visitor id of this subject's browser: links it and copies its choices."
    )


def subject_state_or_404(conn, subject_id: str) -> str:
    state = conn.execute(select(subjects.c.state).where(subjects.c.id == subject_id)).scalar()
    if state is None:
        raise ApiError(404, "not_found", "no such subject")
    return state


def _state_json(instance: Instance, record: ledger.ConsentRecord) -> dict:
    policy_state = instance.vault.policy_state
    declared = policy_state.policy.purpose_by_key.get(record.purpose)
    mode = declared.consent if declared else ConsentMode.opt_in
    state = ledger.ConsentState(record.choice, record.policy_version, record.method, record.recorded_at)
    allowed, rule = ledger.allows(mode, state, reconsent_since=policy_state.reconsent_since.get(record.purpose))
    return {**record.as_dict(), "consent": mode.value, "allows_processing": allowed, "rule": rule}


@router.get("/{subject_id}/consents")
def list_consents(
    subject_id: str, caller: Caller = Depends(current_caller), instance: Instance = Depends(get_instance)
):
    """The subject's ledger: every record, oldest first, and the current state per purpose."""
    require_consents(caller)
    with instance.vault.transaction() as conn:
        subject_state_or_404(conn, subject_id)
        records = ledger.history(conn, subject_id=subject_id)
        instance.vault.audit(conn, actor=caller.actor, action="consents:read", subject_id=subject_id)
    latest: dict[str, ledger.ConsentRecord] = {}
    for record in records:
        latest[record.purpose] = record
    policy = instance.vault.policy
    never_asked = [
        {
            "purpose": p.key,
            "consent": p.consent.value,
            "choice": None,
            "method": None,
            "allows_processing": p.consent == "opt_out",
            "rule": "allowed" if p.consent == "opt_out" else "consent-required",
        }
        for p in policy.purposes
        if p.consent_based and p.key not in latest
    ]
    return {
        "subject_id": subject_id,
        "current": [_state_json(instance, r) for r in sorted(latest.values(), key=lambda r: r.purpose)] + never_asked,
        "records": [r.as_dict() for r in records],
    }


@router.post("/{subject_id}/consents", status_code=201)
def record_consent(
    subject_id: str,
    body: ConsentIn,
    caller: Caller = Depends(current_caller),
    instance: Instance = Depends(get_instance),
):
    """Record a choice for a purpose (appended to the ledger; it acts at once), and/or link a banner visitor."""
    require_consents(caller)
    if body.purpose is None and body.visitor_id is None:
        raise ApiError(422, "invalid_request", "give a `purpose` and `choice`, or a `visitor_id` to link")
    if (body.purpose is None) != (body.choice is None):
        raise ApiError(422, "invalid_request", "a consent names both a `purpose` and a `choice`")
    policy = instance.vault.policy
    if body.purpose is not None:
        declared = policy.purpose_by_key.get(body.purpose)
        if declared is None:
            raise ApiError(422, "unknown_purpose", f"purpose '{body.purpose}' is not declared")
        if not declared.consent_based:
            raise ApiError(
                422,
                "not_consent_based",
                f"purpose '{body.purpose}' does not rest on consent (its legal basis is {declared.legal_basis.value})",
            )
        if body.method == Method.guardian and not policy.minors.guardian_may_consent:
            raise ApiError(422, "guardian_not_allowed", "the declaration does not let a guardian consent for a minor")
    if len(json.dumps(body.evidence)) > MAX_EVIDENCE:
        raise ApiError(422, "invalid_request", f"evidence is limited to {MAX_EVIDENCE} characters of JSON")
    if body.visitor_id is not None:
        try:
            banner.check_visitor_id(body.visitor_id)
        except banner.InvalidVisitor as exc:
            raise ApiError(422, "invalid_visitor", str(exc)) from None
    created: list[int] = []
    with instance.vault.transaction() as conn:
        if subject_state_or_404(conn, subject_id) == "erased":
            raise ApiError(409, "subject_erased", "the subject was erased; no choice can be recorded")
        if body.visitor_id is not None:
            created += banner.link_visitor(
                conn,
                visitor_id=body.visitor_id,
                subject_id=subject_id,
                policy=policy,
                policy_version=instance.vault.policy_version,
            )
        if body.purpose is not None:
            created.append(
                ledger.record(
                    conn,
                    purpose=body.purpose,
                    choice=body.choice,
                    method=body.method,
                    policy_version=instance.vault.policy_version,
                    subject_id=subject_id,
                    evidence={**body.evidence, "recorded_by": caller.actor.label},
                )
            )
        for record_id in created:
            record = ledger.get_record(conn, record_id=record_id)
            instance.vault.audit(
                conn,
                actor=caller.actor,
                action="consent",
                decision=Decision(True, record.choice.value, "consent recorded"),
                purpose=record.purpose,
                subject_id=subject_id,
                detail={"choice": record.choice.value, "method": record.method.value, "record": record_id},
            )
        records = [ledger.get_record(conn, record_id=i) for i in created]
    return {"subject_id": subject_id, "records": [_state_json(instance, r) for r in records]}


@router.get("/{subject_id}/consents/receipt")
def current_receipt(
    subject_id: str, caller: Caller = Depends(current_caller), instance: Instance = Depends(get_instance)
):
    """A Kantara Consent Receipt 1.1 of every consent the subject has given and not withdrawn."""
    require_consents(caller)
    with instance.engine.connect() as conn:
        subject_state_or_404(conn, subject_id)
        latest = ledger.latest_by_purpose(conn, subject_id=subject_id)
    given = sorted((r for r in latest.values() if r.choice == Choice.given), key=lambda r: r.id)
    if not given:
        raise ApiError(404, "no_consent", "the subject has no consent in force; there is nothing to receipt")
    return _receipt(instance, subject_id, given)


@router.get("/{subject_id}/consents/{record_id}/receipt")
def record_receipt(
    subject_id: str,
    record_id: int,
    caller: Caller = Depends(current_caller),
    instance: Instance = Depends(get_instance),
):
    """The Kantara Consent Receipt 1.1 of one consent given."""
    require_consents(caller)
    with instance.engine.connect() as conn:
        record = ledger.get_record(conn, record_id=record_id)
    if record is None or record.subject_id != subject_id:
        raise ApiError(404, "not_found", "the subject has no consent record with that id")
    return _receipt(instance, subject_id, [record])


def _receipt(instance: Instance, subject_id: str, records: list[ledger.ConsentRecord]) -> dict:
    # The receipt shows the purposes as declared in the version the consent was given under.
    from vowkeep.policy import versions

    version = max(r.policy_version for r in records)
    policy = instance.vault.policy
    if version != instance.vault.policy_version:
        with instance.engine.connect() as conn:
            found = versions.get(conn, version=version)
        if found is not None:
            policy = found.policy
    try:
        return receipts.build_receipt(
            policy=policy, records=records, subject_id=subject_id, base_url=instance.settings.base_url
        )
    except receipts.NoReceipt as exc:
        raise ApiError(409, "no_receipt", str(exc)) from None
