"""Breach support (SEC-5): for an actor or API key and a time window, which subjects and categories it touched."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, or_, select

from vowkeep.store.tables import audit_log

# Actions that expose or change personal data; denials and bookkeeping touch nothing.
TOUCHING_ACTIONS = ("read", "lookup", "collect", "rectify", "erase", "disclose", "export", "expire")


@dataclass
class TouchedReport:
    actor: str
    since: datetime | None
    until: datetime | None
    accesses: int = 0
    subjects: dict[str, dict] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "actor": self.actor,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "accesses": self.accesses,
            "subjects": [
                {
                    "subject_id": s,
                    "categories": sorted(e["categories"]),
                    "actions": sorted(e["actions"]),
                    "first": e["first"].isoformat(),
                    "last": e["last"].isoformat(),
                }
                for s, e in sorted(self.subjects.items())
            ],
        }


def touched_by(conn: Connection, *, actor: str, since: datetime | None, until: datetime | None) -> TouchedReport:
    """Every subject the actor's allowed accesses reached in [since, until], with categories and actions.

    `actor` is the audit label (`service:shop`) or a bare name, which matches any kind of actor of that name.
    """
    who = audit_log.c.actor == actor if ":" in actor else or_(audit_log.c.actor.like(f"%:{actor}"))
    query = select(audit_log.c.subject_id, audit_log.c.categories, audit_log.c.action, audit_log.c.at).where(
        who,
        audit_log.c.decision == "allow",
        audit_log.c.action.in_(TOUCHING_ACTIONS),
        audit_log.c.subject_id.is_not(None),
    )
    if since is not None:
        query = query.where(audit_log.c.at >= since)
    if until is not None:
        query = query.where(audit_log.c.at <= until)
    report = TouchedReport(actor, since, until)
    for row in conn.execute(query.order_by(audit_log.c.seq)):
        entry = report.subjects.setdefault(
            row.subject_id, {"categories": set(), "actions": set(), "first": row.at, "last": row.at}
        )
        entry["categories"].update(c for c in row.categories.split(",") if c)
        entry["actions"].add(row.action)
        entry["last"] = row.at
        report.accesses += 1
    return report
