"""What is held about a subject (RIG-1) and the portable copy of it (RIG-7).

The access report holds every value the gate releases for `subject_rights`, with each item's category, field,
collection point, purposes, source, collection and update times and retention end; the items kept under a hold
(listed without their values, with the hold's reason and end); the holds; every consent record; the released
disclosures about the subject; and the recipients the declaration says may receive their categories.
The portable copy keeps what a machine needs to move the data elsewhere: values, fields, categories, origins.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime

from sqlalchemy import Connection, select

from vowkeep import clock
from vowkeep.policy.model import RetentionEvent
from vowkeep.policy.taxonomy import covers
from vowkeep.rights import RIGHTS_ACTOR
from vowkeep.sharing import disclosures
from vowkeep.store.tables import consent_records, items, subjects
from vowkeep.vault.decisions import SUBJECT_RIGHTS

REPORT_FORMAT = "vowkeep-access/1"
PORTABLE_FORMAT = "vowkeep-portability/1"
CSV_COLUMNS = ("subject_id", "field", "category", "value", "collection_point", "source", "collected_at", "updated_at")
_AFTER = {
    RetentionEvent.collection: "collection",
    RetentionEvent.last_activity: "your last activity",
    RetentionEvent.account_closure: "your account is closed",
    RetentionEvent.withdrawal: "you withdraw your consent",
}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def subject_report(conn: Connection, *, vault, subject_id: str) -> dict:
    """Everything held about one subject, read through the gate as the `rights` system actor."""
    policy = vault.policy
    subject = conn.execute(select(subjects).where(subjects.c.id == subject_id)).first()
    values = vault.read(conn, actor=RIGHTS_ACTOR, purpose=SUBJECT_RIGHTS, subject_id=subject_id)
    released = {v.id for v in values}
    stored = conn.execute(
        select(items.c.id, items.c.category, items.c.field, items.c.collection_point, items.c.collected_at).where(
            items.c.subject_id == subject_id
        )
    ).all()
    holds = vault.active_holds(conn, subject_id)
    consent_rows = conn.execute(
        select(consent_records).where(consent_records.c.subject_id == subject_id).order_by(consent_records.c.id)
    ).all()
    withdrawn_at: dict[str, datetime | None] = {}
    for row in consent_rows:
        withdrawn_at[row.purpose] = row.recorded_at if row.choice in ("refused", "withdrawn") else None

    def retention(purpose_key: str, collected_at: datetime) -> dict:
        purpose = policy.purpose_by_key.get(purpose_key)
        if purpose is None:
            return {"purpose": purpose_key, "rule": "no longer a declared purpose", "ends_at": None}
        rule = purpose.retention
        start = {
            RetentionEvent.collection: collected_at,
            RetentionEvent.last_activity: subject.last_activity_at,
            RetentionEvent.account_closure: subject.closed_at,
            RetentionEvent.withdrawal: withdrawn_at.get(purpose_key),
        }[rule.after]
        return {
            "purpose": purpose_key,
            "rule": f"{rule.period.describe()} after {_AFTER[rule.after]}",
            "then": rule.then.value,
            "ends_at": _iso(rule.period.add_to(start)) if start is not None else None,
        }

    item_entries = []
    for value in sorted(values, key=lambda v: (v.collection_point, v.field, v.id)):
        per_purpose = [retention(p, value.collected_at) for p in value.purposes]
        ends = [r["ends_at"] for r in per_purpose]
        point = policy.collection_point_by_key.get(value.collection_point)
        item_entries.append(
            {
                **value.meta(),
                "value": value.value,
                "category_label": policy.category_label(value.category),
                "collection_point_label": point.label if point else value.collection_point,
                "purpose_labels": {
                    p: policy.purpose_by_key[p].label if p in policy.purpose_by_key else p for p in value.purposes
                },
                "retention": per_purpose,
                # Kept while any purpose still holds it: the latest end, unknown while one depends on a future event.
                "retention_ends_at": max(ends) if ends and all(ends) else None,
            }
        )
    held_items = []
    for row in stored:
        if row.id in released:
            continue
        holding = [h for h in holds if h.covers(row.category)]
        if not holding:
            continue
        latest = max(holding, key=lambda h: h.ends_at)
        held_items.append(
            {
                "id": row.id,
                "field": row.field,
                "category": row.category,
                "category_label": policy.category_label(row.category),
                "hold": latest.hold_key,
                "reason": latest.reason,
                "ends_at": latest.ends_at.isoformat(),
            }
        )
    categories = {v.category for v in values} | {h["category"] for h in held_items}
    item_purposes = {p for v in values for p in v.purposes}
    recipients = []
    for recipient in policy.recipients:
        if recipient.aggregate_only is not None or not set(recipient.purposes) & item_purposes:
            continue
        shared = sorted(c for c in categories if any(covers(d, c) for d in recipient.categories))
        if shared:
            recipients.append(
                {
                    "key": recipient.key,
                    "name": recipient.name,
                    "kind": recipient.kind.value,
                    "categories": shared,
                    "purposes": sorted(set(recipient.purposes) & item_purposes),
                    "country": recipient.country,
                }
            )
    return {
        "subject_id": subject_id,
        "state": subject.state,
        "created_at": _iso(subject.created_at),
        "created_via": subject.created_via,
        "last_activity_at": _iso(subject.last_activity_at),
        "items": item_entries,
        "held_items": held_items,
        "holds": [
            {
                "hold": h.hold_key,
                "reason": h.reason,
                "purpose": h.purpose,
                "categories": list(h.categories),
                "ends_at": h.ends_at.isoformat(),
            }
            for h in holds
        ],
        "consents": [
            {
                "purpose": row.purpose,
                "choice": row.choice,
                "method": row.method,
                "policy_version": row.policy_version,
                "recorded_at": _iso(row.recorded_at),
            }
            for row in consent_rows
        ],
        "disclosures": disclosures.for_subject(conn, policy=policy, subject_id=subject_id),
        "recipients": recipients,
    }


def assemble(*, vault, request_id: str, subject_reports: list[dict]) -> dict:
    """The whole access report of a request: one entry per subject the request matched."""
    return {
        "format": REPORT_FORMAT,
        "request_id": request_id,
        "organization": vault.policy.organization.name,
        "policy_version": vault.policy_version,
        "generated_at": clock.now().isoformat(),
        "subjects": subject_reports,
    }


def portable(report: dict) -> dict:
    """The machine-readable copy (RIG-7): values and their origin, and the subject's consent choices."""
    return {
        "format": PORTABLE_FORMAT,
        "request_id": report["request_id"],
        "organization": report["organization"],
        "generated_at": report["generated_at"],
        "subjects": [
            {
                "subject_id": s["subject_id"],
                "items": [
                    {
                        "field": i["field"],
                        "category": i["category"],
                        "value": i["value"],
                        "collection_point": i["collection_point"],
                        "source": i["source"],
                        "collected_at": i["collected_at"],
                        "updated_at": i["updated_at"],
                    }
                    for i in s["items"]
                ],
                "consents": s["consents"],
            }
            for s in report["subjects"]
        ],
    }


_PLAIN_NUMBER = re.compile(r"^[+-][\d .()-]*$")


def _cell(text: str) -> str:
    """A value a spreadsheet will not run as a formula (CSV injection): one that starts like a formula gets a
    leading apostrophe. A signed plain number (a phone number such as +44 20 7946 0958) is left as it is."""
    first = text[:1]
    if first in ("=", "@", "\t", "\r") or (first in ("+", "-") and not _PLAIN_NUMBER.match(text)):
        return "'" + text
    return text


def portable_csv(report: dict) -> str:
    """The portable copy as CSV: one row per value."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for s in portable(report)["subjects"]:
        for i in s["items"]:
            value = i["value"] if isinstance(i["value"], str) else json.dumps(i["value"])
            row = [s["subject_id"], i["field"], i["category"], _cell(value), i["collection_point"], i["source"] or ""]
            writer.writerow([*row, i["collected_at"], i["updated_at"]])
    return out.getvalue()
