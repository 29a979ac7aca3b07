"""Holds (RET-3): an operator keeps a subject's data past its purposes for a declared reason — a fraud
investigation, a legal claim, a tax record — isolated until the hold ends.

A hold applies a declaration's `holds` entry: its reason, its purpose (the only one the gate lets touch held
items) and its longest retention (the end may be sooner, never later, nor past `limits.retention_cap`). It covers
the subject's items of its categories, or of the subset the operator names. When it ends — its end passes, or an
operator ends it early — the sweeper deletes what no other hold and no live purpose keeps; for an erased subject
that is everything, and the data key goes with the last item.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select, update

from vowkeep import clock
from vowkeep.policy.model import Policy
from vowkeep.policy.taxonomy import covers
from vowkeep.store import jobs
from vowkeep.store.tables import holds, items, subjects
from vowkeep.vault.actors import Actor
from vowkeep.vault.gate import SubjectNotFound, Vault

SWEEP_SUBJECT_JOB = "retention.sweep_subject"


class HoldError(ValueError):
    """A hold that cannot be placed or ended as asked; the message says why."""


class HoldNotFound(LookupError):
    """No hold with that id."""


@dataclass(frozen=True)
class Hold:
    id: str
    subject_id: str
    hold: str
    purpose: str
    categories: tuple[str, ...]
    reason: str
    placed_by: str
    placed_at: datetime
    ends_at: datetime
    released_at: datetime | None
    released_by: str | None

    @property
    def active(self) -> bool:
        return self.released_at is None and self.ends_at > clock.now()

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "subject_id": self.subject_id,
            "hold": self.hold,
            "purpose": self.purpose,
            "categories": list(self.categories),
            "reason": self.reason,
            "placed_by": self.placed_by,
            "placed_at": self.placed_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "released_at": self.released_at.isoformat() if self.released_at else None,
            "released_by": self.released_by,
            "active": self.active,
        }


def _hold(row) -> Hold:
    return Hold(
        row.id,
        row.subject_id,
        row.hold_key,
        row.purpose,
        tuple(row.categories.split()),
        row.reason,
        row.placed_by,
        row.placed_at,
        row.ends_at,
        row.released_at,
        row.released_by,
    )


def latest_end(policy: Policy, hold_key: str, placed_at: datetime) -> datetime:
    """The latest end a hold of `hold_key` placed now may have: its declared retention, within the cap."""
    declared = policy.hold_by_key[hold_key]
    period = declared.retention
    cap = policy.limits.retention_cap
    if cap is not None and period > cap:
        period = cap
    return period.add_to(placed_at)


def place(
    conn: Connection,
    *,
    vault: Vault,
    actor: Actor,
    subject_id: str,
    hold_key: str,
    categories: list[str] | None = None,
    ends_at: datetime | None = None,
) -> tuple[Hold, int]:
    """Place a declared hold on a subject (or on some of its categories); audited. Returns it and how many of
    the subject's items it covers now."""
    policy = vault.policy
    declared = policy.hold_by_key.get(hold_key)
    if declared is None:
        known = ", ".join(sorted(policy.hold_by_key)) or "none"
        raise HoldError(f"'{hold_key}' is not a declared hold (declared: {known})")
    wanted = list(dict.fromkeys(categories)) if categories else list(declared.categories)
    outside = [c for c in wanted if not any(covers(d, c) for d in declared.categories)]
    if outside:
        raise HoldError(f"hold '{hold_key}' does not cover {', '.join(outside)}")
    state = conn.execute(select(subjects.c.state).where(subjects.c.id == subject_id)).scalar()
    if state is None:
        raise SubjectNotFound(subject_id)
    if (
        state == "erased"
        and not conn.execute(
            select(func.count()).select_from(items).where(items.c.subject_id == subject_id)
        ).scalar_one()
    ):
        raise HoldError("the subject was erased and nothing of it is left to hold")
    now = clock.now()
    latest = latest_end(policy, hold_key, now)
    if ends_at is None:
        ends_at = latest
    elif ends_at.tzinfo is None:
        raise HoldError("ends_at needs a time zone, e.g. 2026-03-01T00:00:00Z")
    elif ends_at <= now:
        raise HoldError("ends_at is in the past")
    elif ends_at > latest:
        raise HoldError(
            f"hold '{hold_key}' lasts at most {declared.retention} ({declared.retention.describe()}): "
            f"it may end no later than {latest.isoformat()}"
        )
    hold_id = uuid.uuid4().hex
    conn.execute(
        holds.insert().values(
            id=hold_id,
            subject_id=subject_id,
            hold_key=hold_key,
            purpose=declared.purpose,
            categories=" ".join(wanted),
            reason=declared.reason,
            placed_by=actor.label,
            placed_at=now,
            ends_at=ends_at,
        )
    )
    held = [
        c
        for c in conn.execute(select(items.c.category).where(items.c.subject_id == subject_id)).scalars()
        if any(covers(w, c) for w in wanted)
    ]
    vault.audit(
        conn,
        actor=actor,
        action="hold",
        purpose=declared.purpose,
        subject_id=subject_id,
        categories=wanted,
        detail={"hold": hold_key, "hold_id": hold_id, "ends_at": ends_at.isoformat(), "items": len(held)},
    )
    # When the hold runs out, sweep the subject then rather than at the next hourly sweep.
    jobs.enqueue(conn, kind=SWEEP_SUBJECT_JOB, payload={"subject_id": subject_id}, run_at=ends_at)
    return get_or_raise(conn, hold_id=hold_id), len(held)


def get_or_raise(conn: Connection, *, hold_id: str) -> Hold:
    row = conn.execute(select(holds).where(holds.c.id == hold_id)).first()
    if row is None:
        raise HoldNotFound(hold_id)
    return _hold(row)


def list_holds(
    conn: Connection, *, subject_id: str | None = None, active: bool | None = None, limit: int = 500
) -> list[Hold]:
    """Holds, newest first; by subject, and open (`active=True`) or ended (`active=False`)."""
    query = select(holds).order_by(holds.c.placed_at.desc(), holds.c.id).limit(limit)
    if subject_id is not None:
        query = query.where(holds.c.subject_id == subject_id)
    now = clock.now()
    if active is True:
        query = query.where(holds.c.released_at.is_(None), holds.c.ends_at > now)
    elif active is False:
        query = query.where((holds.c.released_at.is_not(None)) | (holds.c.ends_at <= now))
    return [_hold(r) for r in conn.execute(query)]


def release(conn: Connection, *, vault: Vault, actor: Actor, hold_id: str) -> Hold:
    """End a hold early; audited. The subject is swept at once: what nothing else keeps is deleted."""
    hold = get_or_raise(conn, hold_id=hold_id)
    if not hold.active:
        raise HoldError("the hold has already ended")
    now = clock.now()
    conn.execute(update(holds).where(holds.c.id == hold_id).values(released_at=now, released_by=actor.label))
    vault.audit(
        conn,
        actor=actor,
        action="hold-end",
        purpose=hold.purpose,
        subject_id=hold.subject_id,
        categories=hold.categories,
        detail={"hold": hold.hold, "hold_id": hold_id, "early": True},
    )
    jobs.enqueue(conn, kind=SWEEP_SUBJECT_JOB, payload={"subject_id": hold.subject_id})
    return get_or_raise(conn, hold_id=hold_id)
