"""`vowkeep operators add|list|disable` and `vowkeep apikeys create|list|revoke` (SEC-2)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from vowkeep.cli.instance import DATA_DIR_OPTION, open_or_exit
from vowkeep.cli.output import fail

operators_app = typer.Typer(help="Operators: people who use the console and the API.", no_args_is_help=True)
apikeys_app = typer.Typer(help="Scoped API keys for services.", no_args_is_help=True)


@operators_app.command("add")
def add_operator(
    username: str,
    role: str = typer.Option(..., help="A role declared in the policy."),
    data_dir: Path | None = DATA_DIR_OPTION,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Add an operator; prints a generated password once."""
    from vowkeep.vault import operators

    instance = open_or_exit(data_dir)
    try:
        with instance.engine.begin() as conn:
            operator, password = operators.add(conn, policy=instance.vault.policy, username=username, role=role)
    except operators.OperatorError as exc:
        fail(str(exc))
    finally:
        instance.close()
    if as_json:
        typer.echo(json.dumps({"username": operator.username, "role": operator.role, "password": password}))
    else:
        typer.echo(f"operator {operator.username} (role {operator.role}) — password, shown once: {password}")


@operators_app.command("list")
def list_operators(data_dir: Path | None = DATA_DIR_OPTION) -> None:
    """List operators with their roles."""
    from vowkeep.vault import operators

    instance = open_or_exit(data_dir)
    try:
        with instance.engine.connect() as conn:
            everyone = operators.list_all(conn)
    finally:
        instance.close()
    for op in everyone:
        last = op.last_login_at.isoformat(timespec="seconds") if op.last_login_at else "never"
        typer.echo(f"{op.username:<24} {op.role:<20} {'disabled' if op.disabled else 'active':<9} last sign-in {last}")


@operators_app.command("disable")
def disable_operator(username: str, data_dir: Path | None = DATA_DIR_OPTION) -> None:
    """Disable an operator and end their sessions."""
    from vowkeep.vault import operators

    instance = open_or_exit(data_dir)
    try:
        with instance.engine.begin() as conn:
            operators.disable(conn, username=username)
    except operators.OperatorError as exc:
        fail(str(exc))
    finally:
        instance.close()
    typer.echo(f"operator {username} disabled")


@apikeys_app.command("create")
def create_key(
    name: str,
    scope: list[str] = typer.Option(..., "--scope", help="Repeatable: collect, purpose:<key>, consents, requests…"),
    data_dir: Path | None = DATA_DIR_OPTION,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Create a scoped API key; prints it once."""
    from vowkeep.vault import apikeys

    instance = open_or_exit(data_dir)
    try:
        with instance.engine.begin() as conn:
            token, key = apikeys.create(conn, policy=instance.vault.policy, name=name, scopes=scope, created_by="cli")
    except apikeys.ApiKeyError as exc:
        fail(str(exc))
    finally:
        instance.close()
    if as_json:
        typer.echo(json.dumps({"name": key.name, "prefix": key.prefix, "scopes": list(key.scopes), "key": token}))
    else:
        typer.echo(f"API key {key.name} ({', '.join(key.scopes)}) — shown once: {token}")


@apikeys_app.command("list")
def list_keys(data_dir: Path | None = DATA_DIR_OPTION) -> None:
    """List API keys (prefixes and scopes; the keys themselves are never stored)."""
    from vowkeep.vault import apikeys

    instance = open_or_exit(data_dir)
    try:
        with instance.engine.connect() as conn:
            keys = apikeys.list_all(conn)
    finally:
        instance.close()
    for key in keys:
        state = "revoked" if key.revoked_at else "active"
        typer.echo(f"vk_{key.prefix}_…  {key.name:<24} {state:<8} {', '.join(key.scopes)}")


@apikeys_app.command("revoke")
def revoke_key(
    prefix: str = typer.Argument(..., help="The key's prefix (`vk_<prefix>_…`) or the whole key."),
    data_dir: Path | None = DATA_DIR_OPTION,
) -> None:
    """Revoke an API key at once."""
    from vowkeep.vault import apikeys

    if prefix.startswith("vk_"):
        prefix = prefix.split("_")[1]
    instance = open_or_exit(data_dir)
    try:
        with instance.engine.begin() as conn:
            key = apikeys.revoke(conn, prefix=prefix)
    except apikeys.ApiKeyError as exc:
        fail(str(exc))
    finally:
        instance.close()
    typer.echo(f"API key {key.name} (vk_{key.prefix}_…) revoked")
