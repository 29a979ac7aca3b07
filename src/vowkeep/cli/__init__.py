"""The `vowkeep` command: a Typer app assembled from one small module per command group.

Command modules import their domain code inside the command functions, so `vowkeep --help` and
`vowkeep policy check` stay fast.
"""

from __future__ import annotations

import typer

from vowkeep.cli import access as access_commands
from vowkeep.cli import audit as audit_commands
from vowkeep.cli import demo as demo_commands
from vowkeep.cli import instance as instance_commands
from vowkeep.cli import keys as keys_commands
from vowkeep.cli import policy as policy_commands
from vowkeep.cli import retention as retention_commands
from vowkeep.cli import rights as rights_commands
from vowkeep.cli import traffic as traffic_commands
from vowkeep.cli import verify as verify_commands

app = typer.Typer(
    name="vowkeep",
    help="A privacy policy declared as code, rendered into the notice, and enforced at run time.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command()(instance_commands.init)
app.command()(instance_commands.serve)
app.command()(instance_commands.worker)
app.command()(demo_commands.demo)
app.command()(retention_commands.sweep)
app.command()(retention_commands.backup)
app.command()(retention_commands.restore)
app.add_typer(policy_commands.app, name="policy")
app.add_typer(audit_commands.app, name="audit")
app.add_typer(keys_commands.app, name="keys")
app.add_typer(access_commands.operators_app, name="operators")
app.add_typer(access_commands.apikeys_app, name="apikeys")
app.add_typer(traffic_commands.app, name="traffic")
app.command()(rights_commands.export)
app.command("import-archive")(rights_commands.import_archive)
app.add_typer(rights_commands.drp_app, name="drp")
app.command()(verify_commands.verify)


def main() -> None:
    """Console-script entry point."""
    app()
