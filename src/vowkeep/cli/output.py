"""Shared terminal output: errors to stderr, exits with a status, problems listed one per line."""

from __future__ import annotations

import sys
from typing import NoReturn

import typer


def fail(message: str, code: int = 1) -> NoReturn:
    """Print an error to stderr and exit non-zero."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def print_problems(problems, source: str | None, *, stream=None) -> None:
    """One line per problem: `file:line: path: message`."""
    stream = stream or sys.stderr
    for problem in problems:
        prefix = f"{problem.severity}: " if getattr(problem, "severity", "error") != "error" else ""
        print(prefix + problem.format(source), file=stream)
