"""`vowkeep verify`: check a live instance against its own declaration and print a conformance report (TOOL-3)."""

from __future__ import annotations

from pathlib import Path

import typer

from vowkeep.cli.instance import DATA_DIR_OPTION, open_or_exit
from vowkeep.cli.output import fail


def verify(
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    html: Path | None = typer.Option(None, "--html", help="Also write the report as a standalone HTML page to FILE."),
    policy: Path | None = typer.Option(
        None, "--policy", help="Declaration file the published version must match (default: VOWKEEP_POLICY, if set)."
    ),
    data_dir: Path | None = DATA_DIR_OPTION,
) -> None:
    """Check this instance against its own declaration and print a conformance report; exit 1 on any violation.

    Audit chain, retention, declared categories, disclosures, consent at each read, request deadlines, minimum age,
    data keys, plaintext (decrypting every value and scanning tables and files), and the published version.
    """
    from vowkeep.verify import report as conformance

    instance = open_or_exit(data_dir)
    try:
        policy_file = policy or instance.settings.policy_path
        result = conformance.run(instance, policy_file=policy_file)
    finally:
        instance.close()
    if html is not None:
        try:
            html.write_text(conformance.render_html(result))
        except OSError as exc:
            fail(f"cannot write {html}: {exc.strerror}")
    typer.echo(conformance.render_json(result) if as_json else conformance.render_text(result), nl=False)
    if not result.ok:
        raise typer.Exit(1)
