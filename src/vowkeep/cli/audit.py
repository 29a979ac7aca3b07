"""`vowkeep audit verify|touched`: prove the audit log is intact; list what an actor touched (SEC-3, SEC-5)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import typer

from vowkeep.cli.instance import DATA_DIR_OPTION, open_or_exit
from vowkeep.cli.output import fail

app = typer.Typer(help="Verify the audit chain; list what an actor touched.", no_args_is_help=True)


@app.command()
def verify(data_dir: Path | None = DATA_DIR_OPTION) -> None:
    """Walk the whole hash chain; exit 1 naming the first bad record if anything was edited, deleted or moved."""
    from vowkeep.vault.audit import verify as verify_chain

    instance = open_or_exit(data_dir)
    try:
        instance.vault.settle_audit()
        with instance.engine.connect() as conn:
            report = verify_chain(
                conn, instance.keystore.system_key("audit-chain"), checkpoint=instance.keystore.last_audit_checkpoint()
            )
    finally:
        instance.close()
    if not report.ok:
        typer.echo(f"audit chain BROKEN at record {report.first_bad_seq}: {report.reason}", err=True)
        raise typer.Exit(1)
    typer.echo(f"audit chain intact: {report.records} records, head {report.head_seq}")


def _moment(text: str | None, name: str) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        fail(f"--{name} must be an ISO-8601 date or time, such as 2026-11-01 or 2026-11-01T09:30:00Z")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@app.command()
def touched(
    actor: str = typer.Option(..., help="The actor as the log names it: `operator:alice`, `service:shop`, or a name."),
    since: str | None = typer.Option(None, help="Start of the window (ISO-8601)."),
    until: str | None = typer.Option(None, help="End of the window (ISO-8601)."),
    as_json: bool = typer.Option(False, "--json"),
    data_dir: Path | None = DATA_DIR_OPTION,
) -> None:
    """Which subjects and categories an actor or API key read, changed or disclosed in a window (SEC-5)."""
    from vowkeep.vault.breach import touched_by

    start, end = _moment(since, "since"), _moment(until, "until")
    instance = open_or_exit(data_dir)
    try:
        instance.vault.settle_audit()
        with instance.engine.connect() as conn:
            report = touched_by(conn, actor=actor, since=start, until=end)
    finally:
        instance.close()
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2))
        return
    if not report.subjects:
        typer.echo(f"{report.actor} touched no personal data in that window")
        return
    count = len(report.subjects)
    typer.echo(f"{report.actor}: {count} subject{'s' if count != 1 else ''}, {report.accesses} accesses")
    for subject_id, entry in sorted(report.subjects.items()):
        typer.echo(f"  {subject_id}  {', '.join(sorted(entry['categories']))}  ({', '.join(sorted(entry['actions']))})")
