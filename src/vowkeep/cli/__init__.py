"""The `vowkeep` command: a Typer app assembled from one small module per command group.

Command modules import their domain code inside the command functions, so `vowkeep --help` and
`vowkeep policy check` stay fast.
"""

from __future__ import annotations

import typer

from vowkeep.cli import policy as policy_commands

app = typer.Typer(
    name="vowkeep",
    help="A privacy policy declared as code, rendered into the notice, and enforced at run time.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(policy_commands.app, name="policy")


def main() -> None:
    """Console-script entry point."""
    app()
