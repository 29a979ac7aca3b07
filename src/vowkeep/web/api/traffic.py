"""`GET /api/v1/reports/traffic`: the daily usage statistics, for operators who read reports (COL-5, CK-5)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query

from vowkeep import clock
from vowkeep.instance import Instance
from vowkeep.tracking.reports import METRICS, traffic_report
from vowkeep.web.deps import Caller, current_caller, get_instance
from vowkeep.web.errors import ApiError

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])
MAX_DAYS = 366


@router.get("/traffic")
def traffic(
    start: dt.date | None = Query(None, alias="from", description="First day (default: 30 days ago)."),
    end: dt.date | None = Query(None, alias="to", description="Last day (default: yesterday)."),
    metric: str | None = Query(None, description=f"One of {', '.join(METRICS)}."),
    dimension: str | None = Query(None, description="Only this breakdown (page, referrer, country…)."),
    top: int = Query(20, ge=1, le=500, description="Values per breakdown."),
    caller: Caller = Depends(current_caller),
    instance: Instance = Depends(get_instance),
):
    """Daily totals and top values per dimension; counts only, no visitor id ever leaves the roll-up."""
    caller.require("read_reports")
    today = clock.now().date()
    end = end or today - dt.timedelta(days=1)
    start = start or end - dt.timedelta(days=29)
    if start > end:
        raise ApiError(422, "invalid_request", "`from` is after `to`")
    if (end - start).days >= MAX_DAYS:
        raise ApiError(422, "invalid_request", f"a report covers at most {MAX_DAYS} days")
    if metric is not None and metric not in METRICS:
        raise ApiError(422, "invalid_request", f"metric is one of {', '.join(METRICS)}")
    with instance.engine.connect() as conn:
        return traffic_report(conn, start=start, end=end, metric=metric, dimension=dimension, top=top)
