"""The request workflow as an explicit state machine (RIG-8, RIG-9).

```
received ──► verifying ──► in_review ──► fulfilled
   │            │  ▲           │
   │            └──┘ new code  ├──────► denied
   └──► in_review (an agent    └──────► cancelled
        attested the identity)
verifying ──► expired (never verified)      any open state ──► denied | cancelled
```

Nothing is fulfilled before the requester proved their identity: the only way into `in_review` is through a
verification (a one-time code, or an authorized agent's attestation), and `fulfilled` is reached only from
`in_review`. Every change is a row in `request_history`, made through `move`.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Connection, insert, update

from vowkeep import clock
from vowkeep.store.tables import request_history, rights_requests


class State(StrEnum):
    received = "received"
    verifying = "verifying"
    in_review = "in_review"
    fulfilled = "fulfilled"
    denied = "denied"
    cancelled = "cancelled"
    expired = "expired"


OPEN = frozenset({State.received, State.verifying, State.in_review})
FINAL = frozenset({State.fulfilled, State.denied, State.cancelled, State.expired})

TRANSITIONS: dict[State, frozenset[State]] = {
    State.received: frozenset({State.verifying, State.in_review, State.denied, State.cancelled}),
    State.verifying: frozenset({State.verifying, State.in_review, State.denied, State.cancelled, State.expired}),
    State.in_review: frozenset({State.fulfilled, State.denied, State.cancelled}),
    State.fulfilled: frozenset(),
    State.denied: frozenset(),
    State.cancelled: frozenset(),
    State.expired: frozenset(),
}


class InvalidTransition(Exception):
    """A request cannot go from its state to the one asked for (approving a denied request, say)."""

    def __init__(self, current: str, wanted: str):
        super().__init__(f"the request is {current.replace('_', ' ')}; it cannot become {wanted.replace('_', ' ')}")
        self.current, self.wanted = current, wanted


def can_move(current: str, wanted: str) -> bool:
    return State(wanted) in TRANSITIONS[State(current)]


def move(conn: Connection, *, request_id: str, current: str, to: str, actor: str, note: str, **values) -> None:
    """Change a request's state (and any other columns in `values`), recording the change in its history.

    The update is conditional on the state the caller read, so two concurrent decisions cannot both win.
    """
    if not can_move(current, to):
        raise InvalidTransition(current, to)
    now = clock.now()
    changed = conn.execute(
        update(rights_requests)
        .where(rights_requests.c.id == request_id, rights_requests.c.state == current)
        .values(state=to, updated_at=now, **values)
    ).rowcount
    if changed != 1:
        raise InvalidTransition(current, to)
    conn.execute(
        insert(request_history).values(
            request_id=request_id, at=now, from_state=current, to_state=to, actor=actor, note=note[:500]
        )
    )
