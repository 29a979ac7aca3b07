"""`vowkeep init`, `serve` and `worker`: create an instance, serve it, run background workers."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import typer

from vowkeep.cli.output import fail

DATA_DIR_OPTION = typer.Option(
    None, "--data-dir", help="Data directory [env: VOWKEEP_DATA_DIR; default ./vowkeep-data]"
)


def settings_from(data_dir: Path | None, **overrides):
    from vowkeep import config

    return config.from_env(data_dir=data_dir, **overrides)


def open_or_exit(data_dir: Path | None, **overrides):
    """Open the instance, or explain on stderr why not and exit 1."""
    from vowkeep.instance import NotInitialised, open_instance
    from vowkeep.vault.keyring import KeyringError

    try:
        return open_instance(settings_from(data_dir, **overrides))
    except (NotInitialised, KeyringError, ValueError) as exc:
        fail(str(exc))


def init(
    policy: Path = typer.Option(..., "--policy", help="The declaration to publish as version 1."),
    data_dir: Path | None = DATA_DIR_OPTION,
    admin: str = typer.Option("admin", help="Username of the first administrator."),
    as_json: bool = typer.Option(False, "--json", help="Print the credentials as JSON."),
) -> None:
    """Create the data directory, master key and databases; publish the declaration; print first credentials."""
    from vowkeep.cli.policy import load_or_exit
    from vowkeep.instance import AlreadyInitialised, init_instance
    from vowkeep.policy.versions import LintErrors

    loaded = load_or_exit(policy)
    try:
        result = init_instance(settings_from(data_dir), loaded, admin_username=admin)
    except LintErrors as exc:
        from vowkeep.cli.policy import format_lint_problem

        loaded.locate(exc.problems)
        for problem in exc.problems:
            typer.echo(format_lint_problem(problem, str(policy)), err=True)
        fail("the declaration has lint errors; fix them before publishing (`vowkeep policy lint`)")
    except (AlreadyInitialised, ValueError) as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(result.__dict__, indent=2))
        return
    typer.echo(f"Initialised {result.data_dir} with {policy} as policy version {result.version}.")
    if result.master_key_file:
        typer.echo(f"Master key: {result.master_key_file} (mode 0600) — back it up apart from the data.")
    typer.echo("These credentials are shown once:")
    typer.echo(f"  operator  {result.admin_username} / {result.admin_password}  (role {result.admin_role})")
    typer.echo(f"  API key   {result.api_key}  (scopes: {', '.join(result.api_key_scopes)})")


def serve(
    data_dir: Path | None = DATA_DIR_OPTION,
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    worker: bool = typer.Option(True, help="Run a background worker in the server process."),
    base_url: str | None = typer.Option(None, help="Public URL of this instance [env: VOWKEEP_BASE_URL]."),
) -> None:
    """Serve the API, the notice and the pages; run a worker in-process."""
    import uvicorn

    from vowkeep.web.app import create_app

    instance = open_or_exit(data_dir, base_url=base_url)
    app = create_app(instance, run_worker=worker)
    typer.echo(f"vowkeep serving {instance.settings.data_dir} on http://{host}:{port}", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


def worker(
    data_dir: Path | None = DATA_DIR_OPTION,
    once: bool = typer.Option(False, "--once", help="Run the jobs that are due, then exit."),
) -> None:
    """Run a standalone background worker (mail, webhooks, sweeps…); several may run at once."""
    import signal

    from vowkeep.worker import Worker

    instance = open_or_exit(data_dir)
    runner = Worker(instance, name="worker")
    try:
        if once:
            runner.schedule_periodic()
            count = runner.run_until_idle()
            typer.echo(f"ran {count} jobs")
            return
        signal.signal(signal.SIGTERM, lambda *_: runner.stop())
        typer.echo(f"{runner.name} running; Ctrl-C to stop", err=True)
        with contextlib.suppress(KeyboardInterrupt):
            runner.loop()
    finally:
        instance.close()
