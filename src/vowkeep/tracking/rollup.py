"""Daily roll-ups of raw usage events, and the purge of raw rows past the declared window (CK-5).

A day is rolled up once it is over: its events become counts in `traffic_daily` (views, visitors, visits, clicks,
searches, purchases and time on site, in total and per declared dimension), and are marked rolled up in the same
transaction, so a roll-up that runs twice counts nothing twice. Raw rows older than `usage_data.raw_retention` are
then deleted; what remains are counts with no visitor id in them.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Connection, Date, and_, bindparam, delete, func, select, text, update

from vowkeep import clock
from vowkeep.policy.model import Policy
from vowkeep.store.tables import traffic_events

VISIT_GAP = dt.timedelta(minutes=30)
# Dimensions counted for every view, and for distinct visitors.
VIEW_DIMENSIONS = ("page", "referrer", "browser", "os", "device_class", "country", "language")
VISITOR_DIMENSIONS = ("browser", "os", "device_class", "country", "language")
_UPSERT = text(
    "INSERT INTO traffic_daily (day, metric, dimension, value, count) VALUES (:day, :metric, :dimension, :value, :n)"
    " ON CONFLICT (day, metric, dimension, value) DO UPDATE SET count = traffic_daily.count + excluded.count"
).bindparams(bindparam("day", type_=Date))


@dataclass
class RollupResult:
    days: list[dt.date] = field(default_factory=list)
    events: int = 0
    purged: int = 0


def _count_day(rows) -> Counter:
    counts: Counter = Counter()
    visitors: dict[str, set[str]] = defaultdict(set)
    last_seen: dict[str, dt.datetime] = {}
    visit_start: dict[str, dt.datetime] = {}
    seconds = 0.0
    for row in rows:
        kind = row.kind
        metric = {"view": "views", "click": "clicks", "search": "searches", "purchase": "purchases"}[kind]
        counts[(metric, "total", "all")] += 1
        if kind == "view":
            for dimension in VIEW_DIMENSIONS:
                value = getattr(row, dimension)
                if value is not None:
                    counts[("views", dimension, value)] += 1
        elif kind == "click" and row.target:
            counts[("clicks", "target", row.target)] += 1
        elif kind == "search" and row.search:
            counts[("searches", "search", row.search)] += 1
        elif kind == "purchase" and row.country:
            counts[("purchases", "country", row.country)] += 1
        visitors["all"].add(row.visitor)
        for dimension in VISITOR_DIMENSIONS:
            value = getattr(row, dimension)
            if value is not None:
                visitors[f"{dimension}\0{value}"].add(row.visitor)
        # Rows come ordered by visitor and time: a new visit starts after half an hour without events.
        previous = last_seen.get(row.visitor)
        if previous is None or row.at - previous > VISIT_GAP:
            if previous is not None:
                seconds += (previous - visit_start[row.visitor]).total_seconds()
            visit_start[row.visitor] = row.at
            counts[("visits", "total", "all")] += 1
            if row.referrer:
                counts[("visits", "referrer", row.referrer)] += 1
        last_seen[row.visitor] = row.at
    for visitor, previous in last_seen.items():
        seconds += (previous - visit_start[visitor]).total_seconds()
    for key, members in visitors.items():
        dimension, _, value = key.partition("\0")
        counts[("visitors", "total", "all") if key == "all" else ("visitors", dimension, value)] = len(members)
    if last_seen:
        counts[("seconds", "total", "all")] = int(seconds)
    return counts


def roll_up(conn: Connection, *, policy: Policy, today: dt.date | None = None) -> RollupResult:
    """Roll up every finished day that has raw events not yet rolled up (in the caller's transaction)."""
    today = today or clock.now().date()
    result = RollupResult()
    days = conn.execute(
        select(traffic_events.c.day)
        .where(traffic_events.c.rolled_up.is_(False), traffic_events.c.day < today)
        .distinct()
        .order_by(traffic_events.c.day)
    ).scalars()
    keep_time = policy.usage_data is not None and "time_on_site" in policy.usage_data.collect
    for day in list(days):
        pending = and_(traffic_events.c.day == day, traffic_events.c.rolled_up.is_(False))
        rows = conn.execute(
            select(traffic_events).where(pending).order_by(traffic_events.c.visitor, traffic_events.c.at)
        ).all()
        if not rows:
            continue
        counts = _count_day(rows)
        if not keep_time:
            counts.pop(("seconds", "total", "all"), None)
        conn.execute(
            _UPSERT,
            [
                {"day": day, "metric": m, "dimension": d, "value": v[:500], "n": n}
                for (m, d, v), n in sorted(counts.items())
            ],
        )
        conn.execute(
            update(traffic_events).where(pending, traffic_events.c.id <= max(r.id for r in rows)).values(rolled_up=True)
        )
        result.days.append(day)
        result.events += len(rows)
    return result


def purge(conn: Connection, *, policy: Policy, now: dt.datetime | None = None) -> int:
    """Delete rolled-up raw events older than the declared window; returns how many went."""
    if policy.usage_data is None:
        window = dt.timedelta(0)
    else:
        window = dt.timedelta(days=policy.usage_data.raw_retention.nominal_days)
    cutoff = (now or clock.now()) - window
    return conn.execute(
        delete(traffic_events).where(traffic_events.c.rolled_up.is_(True), traffic_events.c.at < cutoff)
    ).rowcount


def pending_count(conn: Connection) -> int:
    return conn.execute(
        select(func.count()).select_from(traffic_events).where(traffic_events.c.rolled_up.is_(False))
    ).scalar_one()


def run_rollup(instance, job) -> None:
    """Worker handler for `traffic.rollup`: roll up finished days, then purge raw rows past the window."""
    from vowkeep.store import jobs

    policy = instance.vault.policy
    with instance.engine.begin() as conn:
        roll_up(conn, policy=policy)
        purge(conn, policy=policy)
        jobs.complete(conn, job=job)
