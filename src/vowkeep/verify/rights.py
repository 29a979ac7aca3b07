"""Every request answered within its deadline (RIG-9): decided by its due date, none open past it, and no due date
later than the declared response deadline allowed when the request came in."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from vowkeep.rights.states import OPEN, State
from vowkeep.store.tables import rights_requests
from vowkeep.verify.context import Context
from vowkeep.verify.result import CheckResult, Finding, outcome, plural

ANSWERED = (State.fulfilled, State.denied)
# Stored moments round-trip through the database; a due date this close to the declared one is the declared one.
TOLERANCE = timedelta(seconds=1)


def request_deadlines(ctx: Context) -> CheckResult:
    with ctx.engine.connect() as conn:
        rows = conn.execute(
            select(
                rights_requests.c.id,
                rights_requests.c.kind,
                rights_requests.c.state,
                rights_requests.c.received_at,
                rights_requests.c.due_at,
                rights_requests.c.decided_at,
            ).order_by(rights_requests.c.received_at, rights_requests.c.id)
        ).all()
        conn.rollback()
    findings = []
    for row in rows:
        refs = {"request": row.id, "kind": row.kind}
        deadline = ctx.policy_at(row.received_at).rights.response_deadline
        allowed = deadline.add_to(row.received_at)
        if row.due_at > allowed + TOLERANCE:
            findings.append(
                Finding(
                    f"request {row.id} ({row.kind}) is due {row.due_at.isoformat()}, later than the declared "
                    f"deadline of {deadline} allows ({allowed.isoformat()})",
                    refs,
                )
            )
        due = min(row.due_at, allowed)
        if row.state in ANSWERED and row.decided_at is not None and row.decided_at > due + TOLERANCE:
            late = row.decided_at - due
            findings.append(
                Finding(
                    f"request {row.id} ({row.kind}) was {row.state} {_days(late)} after its due date {due.isoformat()}",
                    refs,
                )
            )
        elif row.state in OPEN and due < ctx.now:
            findings.append(
                Finding(
                    f"request {row.id} ({row.kind}) is still {row.state.replace('_', ' ')}, {_days(ctx.now - due)} "
                    f"past its due date {due.isoformat()}",
                    refs,
                )
            )
    answered = sum(1 for r in rows if r.state in ANSWERED)
    return outcome(
        "request-deadlines",
        "Requests answered within their deadline",
        ("RIG-9",),
        findings,
        ok=f"{plural(len(rows), 'request')} ({answered} answered), none late",
        bad="{n} request(s) late or due later than declared",
    )


def _days(delta: timedelta) -> str:
    if delta >= timedelta(days=1):
        return plural(delta.days, "day")
    hours = int(delta.total_seconds() // 3600)
    return plural(hours, "hour") if hours else plural(int(delta.total_seconds() // 60), "minute")
