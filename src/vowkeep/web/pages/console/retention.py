"""Console: retention — what each purpose keeps and for how long (RET-1, RET-2), and what expires next: the items
the sweeper would remove now, within a week and within a month, counted with the sweeper's own conditions
(`retention.ends.expired`), and the holds that end soonest (RET-3)."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Request
from sqlalchemy import func, select

from vowkeep import clock
from vowkeep.retention import ends
from vowkeep.retention import holds as hold_service
from vowkeep.store.tables import items, subjects
from vowkeep.web.pages.console import ConsoleUser, console_page, section

router = APIRouter(prefix="/admin/retention", tags=["console"], include_in_schema=False)
HORIZONS = (
    ("now (next sweep)", timedelta(0)),
    ("within 7 days", timedelta(days=7)),
    ("within 30 days", timedelta(days=30)),
)


def expiring(conn, policy, moment) -> dict[str, int]:
    """Items no purpose holds any longer at `moment`, by category (before holds, which keep some of them)."""
    query = (
        select(items.c.category, func.count())
        .select_from(items.join(subjects, subjects.c.id == items.c.subject_id))
        .where(ends.expired(policy, moment))
        .group_by(items.c.category)
        .order_by(items.c.category)
    )
    return dict(conn.execute(query).all())


@router.get("")
def overview(request: Request, user: ConsoleUser = Depends(section("retention"))):
    instance = request.app.state.instance
    policy = instance.vault.policy
    now = clock.now()
    with instance.engine.connect() as conn:
        forecast = [(label, expiring(conn, policy, now + delta)) for label, delta in HORIZONS]
        total = conn.execute(select(func.count()).select_from(items)).scalar_one()
        open_holds = sorted(hold_service.list_holds(conn, active=True), key=lambda h: h.ends_at)[:20]
    categories = sorted({c for _, counts in forecast for c in counts})
    purposes = [
        {
            "key": p.key,
            "label": p.label,
            "period": ends.effective_period(policy, p).describe(),
            "after": p.retention.after.value.replace("_", " "),
            "then": p.retention.then.value,
        }
        for p in policy.purposes
    ]
    return console_page(
        request,
        user,
        "admin/retention.html",
        current="retention",
        forecast=forecast,
        categories=categories,
        total=total,
        purposes=purposes,
        cap=policy.limits.retention_cap.describe() if policy.limits.retention_cap else None,
        holds=[h.as_dict() for h in open_holds],
    )
