"""The traffic report for operators: daily counts and breakdowns from `traffic_daily` (COL-5, CK-5)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import Connection, select

from vowkeep.store.tables import traffic_daily
from vowkeep.tracking.rollup import pending_count

METRICS = ("views", "visitors", "visits", "clicks", "searches", "purchases", "seconds")


def traffic_report(
    conn: Connection,
    *,
    start: dt.date,
    end: dt.date,
    metric: str | None = None,
    dimension: str | None = None,
    top: int = 20,
) -> dict:
    """Counts per day (totals) and the `top` values of each dimension over [start, end]."""
    query = select(traffic_daily).where(traffic_daily.c.day >= start, traffic_daily.c.day <= end)
    if metric is not None:
        query = query.where(traffic_daily.c.metric == metric)
    if dimension is not None:
        query = query.where(traffic_daily.c.dimension.in_(["total", dimension]))
    daily: dict[dt.date, dict[str, int]] = defaultdict(dict)
    totals: dict[str, int] = defaultdict(int)
    breakdown: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    for row in conn.execute(query):
        if row.dimension == "total":
            daily[row.day][row.metric] = row.count
            totals[row.metric] += row.count
        else:
            breakdown[row.metric][row.dimension][row.value] += row.count
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        # Visitors are counted per day: over several days the total is visitor-days, not distinct people.
        "totals": dict(sorted(totals.items())),
        "daily": [{"day": day.isoformat(), **counts} for day, counts in sorted(daily.items())],
        "breakdown": {
            m: {
                d: [{"value": v, "count": c} for v, c in sorted(values.items(), key=lambda i: (-i[1], i[0]))[:top]]
                for d, values in sorted(dims.items())
            }
            for m, dims in sorted(breakdown.items())
        },
        "pending_events": pending_count(conn),
    }
