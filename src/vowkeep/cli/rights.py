"""`vowkeep export` and `vowkeep import-archive` (SHR-8); `vowkeep drp …` configures the Data Rights Protocol
(RIG-10)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer

from vowkeep.cli.instance import DATA_DIR_OPTION, open_or_exit, settings_from
from vowkeep.cli.output import fail

drp_app = typer.Typer(
    help="The Data Rights Protocol: this business's id and the agents it trusts.", no_args_is_help=True
)

PASSPHRASE_ENV_OPTION = typer.Option(
    None, "--passphrase-env", help="Read the passphrase from this environment variable instead of asking for it."
)


def _n(count: int, noun: str, plural: str = "s") -> str:
    return f"{count} {noun}{'' if count == 1 else plural}"


def _passphrase(env_name: str | None, *, confirm: bool) -> str:
    if env_name:
        value = os.environ.get(env_name)
        if not value:
            fail(f"environment variable {env_name} is not set")
        return value
    return typer.prompt("Archive passphrase", hide_input=True, confirmation_prompt=confirm)


def export(
    to: Path = typer.Option(..., "--to", help="The archive file to write (it must not exist)."),
    recipient: str | None = typer.Option(None, help="The acquirer, as declared [default: the one acquirer]."),
    approved_by: str | None = typer.Option(
        None, "--approved-by", help="The operator (with approve_disclosures) who approved the transfer."
    ),
    reference: str | None = typer.Option(None, help="The deal's reference, recorded with the disclosure."),
    passphrase_env: str | None = PASSPHRASE_ENV_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    data_dir: Path | None = DATA_DIR_OPTION,
) -> None:
    """Business transfer: write the data set, encrypted under a passphrase, for a declared acquirer (SHR-8)."""
    from rich.console import Console
    from rich.progress import Progress
    from sqlalchemy import select

    from vowkeep.rights.archive import ArchiveError, export_archive
    from vowkeep.store.tables import subjects
    from vowkeep.vault import operators
    from vowkeep.vault.decisions import GateDenied

    if to.exists():
        fail(f"{to} already exists; choose a new file")
    if not to.parent.is_dir():
        fail(f"{to.parent} is not a directory")
    instance = open_or_exit(data_dir)
    try:
        policy = instance.vault.policy
        acquirers = [r.key for r in policy.recipients if r.kind.value == "acquirer"]
        if recipient is None:
            if len(acquirers) != 1:
                fail(f"name the acquirer with --recipient (declared acquirers: {', '.join(acquirers) or 'none'})")
            recipient = acquirers[0]
        declared = policy.recipient_by_key.get(recipient)
        if declared is not None and declared.requires_approval and not approved_by:
            fail(f"recipient '{recipient}' requires an operator's approval: name them with --approved-by")
        if approved_by:
            with instance.engine.connect() as conn:
                try:
                    approver = operators.get_or_raise(conn, username=approved_by)
                except operators.OperatorError as exc:
                    fail(str(exc))
            role = policy.role_by_key.get(approver.role)
            if approver.disabled or role is None or "approve_disclosures" not in role.permissions:
                fail(f"operator '{approved_by}' may not approve disclosures")
            approved_by = approver.actor.label
        secret = _passphrase(passphrase_env, confirm=True)
        with instance.engine.connect() as conn:
            total = len(conn.execute(select(subjects.c.id)).all())
        try:
            with Progress(transient=True, console=Console(stderr=True)) as progress:
                task = progress.add_task("exporting subjects", total=total)
                summary = export_archive(
                    instance,
                    path=to,
                    passphrase=secret,
                    recipient=recipient,
                    reference=reference,
                    approved_by=approved_by,
                    progress=lambda n: progress.advance(task, n),
                )
        except (ArchiveError, GateDenied) as exc:
            fail(str(exc))
        except OSError as exc:
            fail(f"cannot write {to}: {exc.strerror}")
    finally:
        instance.close()
    if as_json:
        typer.echo(json.dumps(summary.as_dict(), indent=2))
        return
    typer.echo(
        f"Exported {_n(summary.subjects, 'subject')} ({_n(summary.items, 'item')}), "
        f"{_n(summary.policy_versions, 'policy version')}, {_n(summary.consents, 'consent')}, "
        f"{_n(summary.holds, 'hold')} and {_n(summary.suppressed, 'suppressed address', 'es')} to {to}."
    )
    typer.echo(f"Recorded as disclosure {summary.disclosure_id} to '{recipient}'.")
    for category, count in sorted(summary.left_out.items()):
        typer.echo(f"  left out (not declared for '{recipient}'): {category} ({_n(count, 'item')})")
    for rule, count in sorted(summary.not_readable.items()):
        typer.echo(f"  held items not exported ({rule}): {_n(count, 'subject')}")


def import_archive(
    archive: Path = typer.Argument(..., help="An archive written by `vowkeep export`."),
    passphrase_env: str | None = PASSPHRASE_ENV_OPTION,
    admin: str = typer.Option("admin", help="Username of the new instance's first administrator."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary and credentials as JSON."),
    data_dir: Path | None = DATA_DIR_OPTION,
) -> None:
    """Restore a business-transfer archive into a new instance (a data directory that holds none yet)."""
    from vowkeep.rights.archive import ArchiveError, restore_archive
    from vowkeep.vault.keyring import KeyringError
    from vowkeep.vault.transfer import TransferError

    if not archive.is_file():
        fail(f"{archive} is not a file")
    settings = settings_from(data_dir)
    secret = _passphrase(passphrase_env, confirm=False)
    try:
        summary = restore_archive(settings, path=archive, passphrase=secret, admin_username=admin)
    except (ArchiveError, TransferError, KeyringError) as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(summary.as_dict(), indent=2))
        return
    typer.echo(
        f"Restored {_n(summary.subjects, 'subject')} ({_n(summary.items, 'item')}), {_n(summary.consents, 'consent')}, "
        f"{_n(summary.holds, 'hold')} and {_n(summary.suppressed, 'suppressed address', 'es')} into "
        f"{summary.data_dir} (policy version {summary.policy_version})."
    )
    if summary.master_key_file:
        typer.echo(f"Master key: {summary.master_key_file} (mode 0600) — back it up apart from the data.")
    typer.echo("These credentials are shown once:")
    typer.echo(f"  operator  {summary.admin_username} / {summary.admin_password}  (role {summary.admin_role})")
    typer.echo(f"  API key   {summary.api_key}  (scopes: collect)")


@drp_app.command("business-id")
def business_id(
    value: str | None = typer.Argument(None, help="Set this business's DRP id; without it, print the current one."),
    data_dir: Path | None = DATA_DIR_OPTION,
) -> None:
    """This business's identifier in the DRP network (agents put it in `business-id`)."""
    from vowkeep.rights import drp
    from vowkeep.rights.errors import RequestError

    instance = open_or_exit(data_dir)
    try:
        with instance.engine.begin() as conn:
            if value is None:
                current = drp.business_id(conn)
                if current is None:
                    fail("no business id is set; set one with `vowkeep drp business-id ID`")
                typer.echo(current)
                return
            drp.set_business_id(conn, value=value)
    except RequestError as exc:
        fail(exc.message)
    finally:
        instance.close()
    typer.echo(f"DRP business id: {value}")


@drp_app.command("trust")
def trust(
    agent_id: str = typer.Argument(..., help="The agent's id in the DRP directory."),
    name: str = typer.Option(..., help="The agent's name, for people."),
    verify_key: str = typer.Option(..., "--verify-key", help="Its Ed25519 verify key, base64."),
    data_dir: Path | None = DATA_DIR_OPTION,
) -> None:
    """Trust an authorized agent (or replace its key); its earlier token stops working."""
    from vowkeep.rights import drp
    from vowkeep.rights.errors import RequestError

    instance = open_or_exit(data_dir)
    try:
        with instance.engine.begin() as conn:
            drp.trust(conn, agent_id=agent_id, name=name, verify_key=verify_key)
    except RequestError as exc:
        fail(exc.message)
    finally:
        instance.close()
    typer.echo(f"trusted agent {agent_id} ({name})")


@drp_app.command("distrust")
def distrust(agent_id: str, data_dir: Path | None = DATA_DIR_OPTION) -> None:
    """Stop trusting an agent: its signatures and token are refused from now on."""
    from vowkeep.rights import drp
    from vowkeep.rights.errors import RequestError

    instance = open_or_exit(data_dir)
    try:
        with instance.engine.begin() as conn:
            drp.distrust(conn, agent_id=agent_id)
    except RequestError as exc:
        fail(exc.message)
    finally:
        instance.close()
    typer.echo(f"agent {agent_id} is no longer trusted")


@drp_app.command("agents")
def list_agents(data_dir: Path | None = DATA_DIR_OPTION, as_json: bool = typer.Option(False, "--json")) -> None:
    """The trusted agents, with whether they hold a token."""
    from vowkeep.rights import drp

    instance = open_or_exit(data_dir)
    try:
        with instance.engine.connect() as conn:
            listed = drp.agents(conn)
    finally:
        instance.close()
    if as_json:
        typer.echo(json.dumps(listed, indent=2))
        return
    if not listed:
        typer.echo("no agents are trusted")
    for agent in listed:
        token = f"token issued {agent['token_issued_at'][:19]}" if agent["token_issued_at"] else "no token yet"
        state = "revoked" if agent["revoked"] else token
        typer.echo(f"{agent['id']:<24} {agent['name']:<30} {state}")
