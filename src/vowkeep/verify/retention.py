"""What is stored is what the declaration lets stay: no item past its retention (RET-1, RET-2, RET-3), and no item
of a category that none of the purposes it was collected for declares (COL-1, USE-1, `limits.never_store`)."""

from __future__ import annotations

from sqlalchemy import and_, exists, func, or_, select

from vowkeep.policy.taxonomy import covers
from vowkeep.retention import ends
from vowkeep.store.tables import consent_records, holds, items, subjects
from vowkeep.verify.context import Context
from vowkeep.verify.result import CheckResult, Finding, outcome, plural


def retention(ctx: Context) -> CheckResult:
    """Items the sweeper should have removed by now: no purpose holds them (as of `now - grace`, the sweep's
    cadence) and no open hold covers them."""
    since = ctx.now - ctx.grace
    # A consent changed within the grace window has not had its sweep yet.
    recent_choice = exists().where(
        consent_records.c.subject_id == items.c.subject_id, consent_records.c.recorded_at > since
    )
    query = (
        select(items.c.id, items.c.subject_id, items.c.category, subjects.c.state)
        .select_from(items.join(subjects, subjects.c.id == items.c.subject_id))
        .where(ends.expired(ctx.policy, since), ~recent_choice)
        .order_by(items.c.subject_id, items.c.id)
    )
    # A hold that ended or was released within the grace window shelters its items until the sweep that follows.
    open_hold = and_(or_(holds.c.released_at.is_(None), holds.c.released_at > since), holds.c.ends_at > since)
    with ctx.engine.connect() as conn:
        rows = conn.execute(query).all()
        held: dict[str, list[list[str]]] = {}
        for subject_id, categories in conn.execute(select(holds.c.subject_id, holds.c.categories).where(open_hold)):
            held.setdefault(subject_id, []).append(categories.split())
        total = conn.execute(select(func.count()).select_from(items)).scalar_one()
        conn.rollback()
    findings = []
    for row in rows:
        if any(any(covers(c, row.category) for c in cats) for cats in held.get(row.subject_id, ())):
            continue
        why = "the subject was erased" if row.state == "erased" else "no purpose holds it any more"
        findings.append(
            Finding(
                f"item {row.id} ({row.category}) of subject "
                f"{row.subject_id} is past its retention: {why}, and no hold keeps it",
                {"subject": row.subject_id, "item": row.id, "category": row.category},
            )
        )
    return outcome(
        "retention",
        "No item past its retention",
        ("RET-1", "RET-2", "RET-3"),
        findings,
        ok=f"{plural(total, 'item')} checked; every one is still held by a purpose or a hold",
        bad="{n} item(s) past retention",
    )


def declared_categories(ctx: Context) -> CheckResult:
    """Every item's category is declared by at least one purpose it was collected for, and is not `never_store`."""
    policy = ctx.policy
    with ctx.engine.connect() as conn:
        groups = conn.execute(
            select(items.c.category, items.c.purposes, func.count()).group_by(items.c.category, items.c.purposes)
        ).all()
        bad_groups = []
        total = 0
        for category, purposes, count in groups:
            total += count
            keys = purposes.split()
            never = [n for n in policy.limits.never_store if covers(n, category)]
            if never:
                bad_groups.append((category, purposes, f"the declaration never stores {never[0]}"))
            elif not any(policy.purpose_covers(p, category) for p in keys):
                named = ", ".join(keys) or "no purpose"
                bad_groups.append((category, purposes, f"none of its purposes ({named}) declares it"))
        findings = []
        for category, purposes, why in bad_groups:
            for item_id, subject_id in conn.execute(
                select(items.c.id, items.c.subject_id)
                .where(items.c.category == category, items.c.purposes == purposes)
                .order_by(items.c.id)
            ):
                findings.append(
                    Finding(
                        f"item {item_id} of subject {subject_id} is {category}: {why}",
                        {"subject": subject_id, "item": item_id, "category": category},
                    )
                )
        conn.rollback()
    return outcome(
        "declared-categories",
        "Only declared categories stored",
        ("COL-1", "USE-1"),
        findings,
        ok=f"{plural(total, 'item')} in {len(groups):,} (category, purposes) groups, all declared",
        bad="{n} item(s) of a category their purposes do not declare",
    )
