"""`vowkeep demo`: fill an instance with fake people, visits, consents and requests, and turn on the demo shop."""

from __future__ import annotations

from pathlib import Path

import typer

from vowkeep.cli.instance import DATA_DIR_OPTION, open_or_exit
from vowkeep.cli.output import fail


def demo(
    data_dir: Path | None = DATA_DIR_OPTION,
    people: int = typer.Option(40, min=3, max=5000, help="How many fake people to register."),
    seed: int | None = typer.Option(7, help="Random seed (the same seed gives the same people)."),
) -> None:
    """Fill an instance with realistic fake data (once) and turn on its demo shop at /demo."""
    from vowkeep.demo import DemoError, fill

    instance = open_or_exit(data_dir)
    try:
        summary = fill(instance, people=people, seed=seed, echo=typer.echo)
    except DemoError as exc:
        fail(str(exc))
    finally:
        instance.close()
    typer.echo(f"Demo data added to {instance.settings.data_dir}; the demo shop is at /demo.")
    typer.echo("Demo operators (shown once), each seeing only what their role may:")
    for username, (role, password) in summary.operators.items():
        typer.echo(f"  {username} / {password}  (role {role})")
