"""Console: consent and traffic charts, drawn on the server as SVG (no script, nothing fetched). Traffic comes
from the daily roll-ups (`tracking.reports`, COL-5, CK-5), consent from the ledger (`consent.stats`, USE-3)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Request

from vowkeep import clock
from vowkeep.consent import stats
from vowkeep.tracking.reports import traffic_report
from vowkeep.web import svgchart
from vowkeep.web.pages.console import ConsoleUser, console_page, section

router = APIRouter(prefix="/admin/charts", tags=["console"], include_in_schema=False)
DAYS = 30
CHOICES = ("given", "refused", "withdrawn")


@router.get("")
def charts(request: Request, user: ConsoleUser = Depends(section("charts"))):
    instance = request.app.state.instance
    end = clock.now().date() - dt.timedelta(days=1)
    start = end - dt.timedelta(days=DAYS - 1)
    with instance.engine.connect() as conn:
        traffic = traffic_report(conn, start=start, end=end, top=10)
        consent = stats.current_choices(conn)
    by_day = {d["day"]: d for d in traffic["daily"]}
    days = [(start + dt.timedelta(days=i)).isoformat() for i in range(DAYS)]
    views = [(day, by_day.get(day, {}).get("views", 0)) for day in days]
    visitors = [(day, by_day.get(day, {}).get("visitors", 0)) for day in days]
    pages = [(p["value"], p["count"]) for p in traffic["breakdown"].get("views", {}).get("page", [])]
    referrers = [(p["value"], p["count"]) for p in traffic["breakdown"].get("visits", {}).get("referrer", [])]
    purposes = instance.vault.policy.purpose_by_key
    consent_rows = [(purposes[p].label if p in purposes else p, counts) for p, counts in consent.items()]
    return console_page(
        request,
        user,
        "admin/charts.html",
        current="charts",
        start=start.isoformat(),
        end=end.isoformat(),
        totals=traffic["totals"],
        pending=traffic["pending_events"],
        views=views,
        pages=pages,
        referrers=referrers,
        consent_rows=consent_rows,
        choices=CHOICES,
        views_chart=svgchart.column_chart(f"Page views per day, {start} to {end}", views, chart_id="views"),
        visitors_chart=svgchart.column_chart("Visitors per day", visitors, chart_id="visitors"),
        pages_chart=svgchart.bar_chart("Most viewed pages", pages, chart_id="pages"),
        referrers_chart=svgchart.bar_chart("Visits by referring site", referrers, chart_id="referrers"),
        consent_chart=svgchart.stacked_bars(
            "Current consent choices per purpose", consent_rows, CHOICES, chart_id="consent"
        ),
    )
