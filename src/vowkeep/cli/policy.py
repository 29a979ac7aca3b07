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


@app.command()
def lint(
    file: Path = typer.Argument(..., help="The declaration (YAML) to lint."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON report instead of lines."),
) -> None:
    """Find contradictions in a valid declaration (TOOL-1). Exit 1 if any error, 0 with only warnings."""
    import json

    from vowkeep.policy import PolicyError, load_file
    from vowkeep.policy.lint import counts
    from vowkeep.policy.lint import lint as lint_policy

    if as_json:
        try:
            loaded = load_file(file)
        except PolicyError as exc:
            # A declaration that fails `check` is reported in the same shape, its problems being check errors.
            typer.echo(json.dumps(_lint_report(file, exc.problems), indent=2))
            raise typer.Exit(1) from None
    else:
        loaded = load_or_exit(file)
    problems = sorted(
        lint_policy(loaded.policy, lines=loaded.lines), key=lambda p: (p.line is None, p.line or 0, p.rule)
    )
    errors, warnings = counts(problems)
    if as_json:
        typer.echo(json.dumps(_lint_report(file, problems), indent=2))
    else:
        for problem in problems:
            typer.echo(format_lint_problem(problem, str(file)))
        typer.echo(f"{_plural(errors, 'error')}, {_plural(warnings, 'warning')}")
    raise typer.Exit(1 if errors else 0)


def format_lint_problem(problem, source: str) -> str:
    """`FILE:LINE: PATH: [rule] message`, warnings marked as such."""
    from vowkeep.policy.errors import format_path

    where = f"{source}:{problem.line}" if problem.line else source
    severity = "" if problem.severity == "error" else f"{problem.severity}: "
    return f"{where}: {format_path(problem.path)}: [{problem.rule}] {severity}{problem.message}"


def _lint_report(file: Path, problems) -> dict:
    errors = sum(1 for p in problems if p.severity == "error")
    return {
        "file": str(file),
        "errors": errors,
        "warnings": len(problems) - errors,
        "problems": [p.as_dict() for p in problems],
    }


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


@app.command()
def diff(
    old: Path = typer.Argument(..., help="The declaration in force."),
    new: Path = typer.Argument(..., help="The proposed declaration."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON report instead of lines."),
) -> None:
    """List every change between two declarations, material ones first (NTC-2)."""
    import json

    from vowkeep.policy.diff import diff as diff_policies

    result = diff_policies(load_or_exit(old).policy, load_or_exit(new).policy)
    if as_json:
        typer.echo(json.dumps({"old": str(old), "new": str(new), **result.as_dict()}, indent=2, ensure_ascii=False))
        return
    print_diff(result)


def print_diff(result) -> None:
    """One line per change, material first, then the re-consent list and a count."""
    if not result.changes:
        typer.echo("no changes")
        return
    from vowkeep.policy.errors import format_path

    for change in result.material_changes + [c for c in result.changes if not c.material]:
        label = "MATERIAL" if change.material else "minor"
        typer.echo(f"{label:<8}  {change.summary}  ({format_path(change.path)})")
    reconsent = result.purposes_needing_reconsent()
    if reconsent:
        typer.echo(f"re-consent needed for: {', '.join(reconsent)}")
    material = len(result.material_changes)
    typer.echo(f"{_plural(len(result.changes), 'change')}, {material} material")


@app.command()
def publish(
    file: Path = typer.Argument(..., help="The new declaration."),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="Data directory [env: VOWKEEP_DATA_DIR]."),
    by: str = typer.Option("cli", help="Who publishes (recorded with the version)."),
) -> None:
    """Publish a declaration as the next version (refused if lint finds errors) and print its diff (NTC-1, NTC-2)."""
    from vowkeep.cli.instance import open_or_exit
    from vowkeep.cli.output import fail
    from vowkeep.policy.errors import PolicyError
    from vowkeep.policy.versions import LintErrors
    from vowkeep.publishing import publish_declaration

    loaded = load_or_exit(file)
    instance = open_or_exit(data_dir)
    try:
        version, changes = publish_declaration(instance, loaded, published_by=by)
    except LintErrors as exc:
        loaded.locate(exc.problems)
        for problem in exc.problems:
            typer.echo(format_lint_problem(problem, str(file)), err=True)
        fail(f"not published: {_plural(len(exc.problems), 'lint error')}")
    except PolicyError as exc:
        print_problems(exc.problems, exc.source)
        fail("not published")
    finally:
        instance.close()
    typer.echo(f"published {file} as version {version.version}" + (" (material changes)" if version.material else ""))
    if changes is not None:
        print_diff(changes)


@app.command("import")
def import_(
    text_file: Path = typer.Argument(..., help="The privacy policy: plain text, Markdown or HTML (UTF-8)."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write the draft declaration here instead of to standard output."
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print every statement with its class, confidence and rules, as JSON."
    ),
) -> None:
    """Draft a declaration from a policy's text (TOOL-2), and list the statements it could not use.

    Every rule of the draft sits under a comment quoting its sentence; `TODO(review):` marks each default chosen
    without evidence. The draft passes `policy check`; `policy lint` then shows what the text contradicts.
    """
    import json

    from vowkeep.cli.output import fail
    from vowkeep.policy.importer import PolicyImportError, import_file

    try:
        result = import_file(text_file)
    except PolicyImportError as exc:
        fail(str(exc))
    except RuntimeError as exc:  # the importer's own bug: say so plainly rather than print a traceback
        fail(f"{text_file}: could not draft a valid declaration (please report this): {exc}", code=3)
    if output is not None:
        try:
            output.write_text(result.text, encoding="utf-8")
        except OSError as exc:
            fail(f"cannot write {output}: {exc.strerror}")
    if as_json:
        report = result.as_dict(include_draft=output is None)
        report["output"] = str(output) if output is not None else None
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
        return
    if output is None:
        typer.echo(result.text, nl=False)
    _import_summary(result, output, err=output is None)


def _import_summary(result, output: Path | None, *, err: bool) -> None:
    """What was drafted, how many defaults await a decision, and each statement left over with its class."""
    left = result.unmatched
    where = f"{output}: wrote" if output is not None else "drafted"
    typer.echo(
        f"{where} a declaration for {result.policy.organization.name} from {result.source}: "
        f"{_plural(len(result.statements), 'statement')}, {len(result.statements) - len(left)} turned into rules, "
        f"{len(left)} left over, {len(result.todos)} TODO(review)",
        err=err,
    )
    if left:
        typer.echo("statements not turned into rules:", err=err)
        for statement in left:
            text = " ".join(statement.text.split())
            typer.echo(f"  [{statement.index}] {statement.cls}: {text[:160]}{'…' if len(text) > 160 else ''}", err=err)
