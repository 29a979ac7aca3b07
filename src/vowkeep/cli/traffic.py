"""`vowkeep traffic rollup|report`: roll up raw usage events now, and print the daily counts (COL-5, CK-5)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import typer

from vowkeep.cli.instance import DATA_DIR_OPTION

app = typer.Typer(help="Pseudonymous usage statistics: roll-ups and reports.", no_args_is_help=True)


@app.command()
def rollup(data_dir: Path | None = DATA_DIR_OPTION) -> None:
    """Roll up every finished day's raw events, then delete raw rows past the declared window (the worker does
    this every hour)."""
    from vowkeep.cli.instance import open_or_exit
    from vowkeep.tracking.rollup import purge, roll_up

    instance = open_or_exit(data_dir)
    try:
        policy = instance.vault.policy
        with instance.engine.begin() as conn:
            result = roll_up(conn, policy=policy)
            purged = purge(conn, policy=policy)
    finally:
        instance.close()
    days = ", ".join(d.isoformat() for d in result.days) or "none"
    typer.echo(f"rolled up {result.events} events (days: {days}); deleted {purged} raw events past the window")


@app.command()
def report(
    data_dir: Path | None = DATA_DIR_OPTION,
    start: str | None = typer.Option(None, "--from", help="First day, YYYY-MM-DD (default: 30 days ago)."),
    end: str | None = typer.Option(None, "--to", help="Last day, YYYY-MM-DD (default: yesterday)."),
    as_json: bool = typer.Option(False, "--json", help="Print the whole report as JSON."),
) -> None:
    """Daily views, visitors and visits from the roll-ups."""
    from vowkeep import clock
    from vowkeep.cli.instance import open_or_exit
    from vowkeep.cli.output import fail
    from vowkeep.tracking.reports import traffic_report

    try:
        last = dt.date.fromisoformat(end) if end else clock.now().date() - dt.timedelta(days=1)
        first = dt.date.fromisoformat(start) if start else last - dt.timedelta(days=29)
    except ValueError:
        fail("--from and --to are dates: YYYY-MM-DD")
    if first > last:
        fail("--from is after --to")
    instance = open_or_exit(data_dir)
    try:
        with instance.engine.connect() as conn:
            result = traffic_report(conn, start=first, end=last)
    finally:
        instance.close()
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    typer.echo(f"{'day':<12} {'views':>8} {'visitors':>9} {'visits':>7}")
    for row in result["daily"]:
        typer.echo(f"{row['day']:<12} {row.get('views', 0):>8} {row.get('visitors', 0):>9} {row.get('visits', 0):>7}")
    totals = result["totals"]
    typer.echo(f"{'total':<12} {totals.get('views', 0):>8} {totals.get('visitors', 0):>9} {totals.get('visits', 0):>7}")
    if result["pending_events"]:
        typer.echo(f"({result['pending_events']} raw events are not rolled up yet)")
