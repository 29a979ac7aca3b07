"""`vowkeep sweep`, `backup` and `restore`: retention on demand, and backups that hold no key (RET-1..4)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from vowkeep.cli.instance import DATA_DIR_OPTION, open_or_exit, settings_from
from vowkeep.cli.output import fail


def sweep(
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what would go; change nothing."),
    batch_size: int = typer.Option(5000, min=100, max=100_000, help="Items per transaction."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    data_dir: Path | None = DATA_DIR_OPTION,
) -> None:
    """Delete or anonymise what no purpose and no hold keeps any more; close emptied subjects, shred their keys."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from vowkeep.retention.sweeper import sweep as run_sweep

    instance = open_or_exit(data_dir)
    console = Console(stderr=True)
    bar = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TextColumn("{task.fields[items]} items"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    try:
        with bar:
            task = bar.add_task("dry run" if dry_run else "sweeping", total=1.0, items=0)

            def progress(fraction, summary):
                bar.update(task, completed=fraction, items=summary.items_removed)

            summary = run_sweep(instance.vault, dry_run=dry_run, batch_size=batch_size, progress=progress)
    finally:
        instance.close()
    if as_json:
        typer.echo(json.dumps(summary.as_dict(), indent=2))
        return
    s = summary
    if dry_run:
        typer.echo(
            f"dry run, nothing changed: would delete {s.items_deleted} items, anonymise {s.items_anonymised}, "
            f"keep {s.items_held} under holds; would close {s.subjects_closed} subjects and destroy "
            f"{s.keys_destroyed} data keys"
        )
    else:
        typer.echo(
            f"deleted {s.items_deleted} items, anonymised {s.items_anonymised}, kept {s.items_held} under holds; "
            f"closed {s.subjects_closed} subjects, destroyed {s.keys_destroyed} data keys ({s.seconds:.1f} s)"
        )
    for category, count in sorted(summary.by_category.items()):
        typer.echo(f"  {category}: {count}")


def backup(
    to: Path = typer.Option(..., "--to", help="The file to write the snapshot to."),
    force: bool = typer.Option(False, "--force", help="Replace the file if it exists."),
    data_dir: Path | None = DATA_DIR_OPTION,
) -> None:
    """A consistent snapshot of the data database, taken while serving. It holds no key: back up the key store
    and the master key apart."""
    from vowkeep.retention.backup import BackupError
    from vowkeep.retention.backup import backup as run_backup

    settings = settings_from(data_dir)
    if settings.is_sqlite and not Path(settings.database_url.removeprefix("sqlite:///")).exists():
        fail(f"{settings.data_dir} holds no vowkeep instance; run `vowkeep init` first")
    if settings.is_sqlite:
        # Reads recorded in the audit journal but not yet in the chain go into the snapshot too.
        instance = open_or_exit(data_dir)
        try:
            instance.vault.settle_audit()
        finally:
            instance.close()
    try:
        result = run_backup(settings.database_url, to, force=force)
    except BackupError as exc:
        fail(str(exc))
    typer.echo(f"backed up the data database to {result.path} ({result.bytes} bytes, {result.kind})")
    typer.echo("the key store is not in it: back up the key store and the master key apart", err=True)


def restore(
    source: Path = typer.Option(..., "--from", help="A file written by `vowkeep backup`."),
    force: bool = typer.Option(False, "--force", help="Replace a data database that holds a live instance."),
    data_dir: Path | None = DATA_DIR_OPTION,
) -> None:
    """Put a backup in place of the data database, beside the current key store. Subjects erased since the backup
    stay unreadable and are erased again."""
    from vowkeep.instance import NotInitialised, open_instance
    from vowkeep.retention.backup import BackupError, restore_database, settle
    from vowkeep.vault.keyring import KeyringError

    settings = settings_from(data_dir)
    if not source.is_file():
        fail(f"{source} does not exist")
    try:
        kind = restore_database(settings.database_url, source, force=force)
    except BackupError as exc:
        fail(str(exc))
    try:
        instance = open_instance(settings)
    except (NotInitialised, KeyringError, ValueError) as exc:
        fail(f"restored, but the instance does not open: {exc}")
    try:
        subjects, re_erased, head = settle(instance)
    except BackupError as exc:
        fail(str(exc))
    finally:
        instance.close()
    typer.echo(
        f"restored {source} ({kind}): {subjects} subjects checked against the key store, audit chain head {head}"
    )
    if re_erased:
        typer.echo(
            f"{re_erased} subjects were erased after the backup was taken: their keys are gone, so their data "
            "could not be read and was erased again",
        )
    sys.stdout.flush()
