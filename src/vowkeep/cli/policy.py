"""`vowkeep policy …`: check, lint, render, diff, publish and import declarations."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from vowkeep.cli.output import print_problems

app = typer.Typer(help="Work with declarations: check, lint, render, diff, publish, import.", no_args_is_help=True)


def load_or_exit(path: Path):
    """Load a declaration, or print every problem and exit 1."""
    from vowkeep.policy import PolicyError, load_file

    try:
        return load_file(path)
    except PolicyError as exc:
        print_problems(exc.problems, exc.source)
        count = len(exc.problems)
        typer.echo(f"{path}: {count} error{'s' if count != 1 else ''}", err=True)
        raise typer.Exit(1) from None


@app.command()
def check(file: Path = typer.Argument(..., help="The declaration (YAML) to validate.")) -> None:
    """Validate a declaration: schema, fideslang taxonomy and references. Exit 1 on errors."""
    loaded = load_or_exit(file)
    policy = loaded.policy
    typer.echo(
        f"{file}: ok — {policy.organization.name}: {len(policy.categories)} categories, "
        f"{len(policy.collection_points)} collection points, {len(policy.purposes)} purposes, "
        f"{len(policy.recipients)} recipients"
    )


class RenderFormat(StrEnum):
    """What `policy render` writes; kept here so `--help` lists the choices without importing the renderer."""

    md = "md"
    html = "html"
    ropa = "ropa"
    ropa_csv = "ropa-csv"


@app.command()
def render(
    file: Path = typer.Argument(..., help="The declaration (YAML) to render."),
    format: RenderFormat = typer.Option(
        RenderFormat.md,
        "--format",
        "-f",
        help="md: the notice; html: the notice as a full page; ropa / ropa-csv: the record of processing.",
    ),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write here instead of to standard output."),
    version: int | None = typer.Option(None, "--version", min=1, help="The policy version number to show."),
    updated: str | None = typer.Option(
        None, "--updated", help="The 'Last updated' date (YYYY-MM-DD); the effective date by default."
    ),
) -> None:
    """Render a declaration into the notice people read, or its record of processing activities."""
    import datetime as dt

    from vowkeep.cli.output import fail

    day = None
    if updated is not None:
        try:
            day = dt.date.fromisoformat(updated)
        except ValueError:
            fail(f"--updated '{updated}' is not a date; use YYYY-MM-DD", code=2)
    loaded = load_or_exit(file)

    from vowkeep.policy.render import render as render_policy

    text = render_policy(loaded.policy, format.value, version=version, updated=day)
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror}")
    typer.echo(f"{output}: wrote {format.value} for {loaded.policy.organization.name}", err=True)
