"""`vowkeep policy …`: check, lint, render, diff, publish and import declarations."""

from __future__ import annotations

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
