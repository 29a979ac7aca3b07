"""Consent roll-ups for the console's charts: how many people's current choice, per purpose, is each choice.

Counts only: a person is a subject, or a banner visitor not (yet) linked to one; their current choice is their
latest ledger record for the purpose. Nothing identifying leaves this function.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import Connection, func, select

from vowkeep.store.tables import consent_records


def current_choices(conn: Connection) -> dict[str, dict[str, int]]:
    """{purpose: {choice: number of people whose latest record for it is that choice}}."""
    person = func.coalesce(consent_records.c.subject_id, consent_records.c.visitor_id)
    latest = select(func.max(consent_records.c.id).label("id")).group_by(person, consent_records.c.purpose).subquery()
    query = (
        select(consent_records.c.purpose, consent_records.c.choice, func.count())
        .join(latest, latest.c.id == consent_records.c.id)
        .group_by(consent_records.c.purpose, consent_records.c.choice)
    )
    found: dict[str, dict[str, int]] = defaultdict(dict)
    for purpose, choice, count in conn.execute(query):
        found[purpose][choice] = count
    return dict(sorted(found.items()))


def choices_since(conn: Connection, *, since: dt.datetime) -> dict[str, int]:
    """How many choices of each kind were recorded since `since` (every record, not only current ones)."""
    query = (
        select(consent_records.c.choice, func.count())
        .where(consent_records.c.recorded_at >= since)
        .group_by(consent_records.c.choice)
    )
    return dict(conn.execute(query).all())
