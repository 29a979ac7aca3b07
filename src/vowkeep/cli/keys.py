"""`vowkeep keys rotate`: a new master key re-wraps every data key while servers keep serving (SEC-4)."""

from __future__ import annotations

from pathlib import Path

import typer

from vowkeep.cli.instance import DATA_DIR_OPTION, open_or_exit
from vowkeep.cli.output import fail

app = typer.Typer(help="Manage the master key.", no_args_is_help=True)


@app.command()
def rotate(data_dir: Path | None = DATA_DIR_OPTION) -> None:
    """Generate a new master key, re-wrap every data key under it, then retire the old one. Data is not re-encrypted."""
    from rich.progress import Progress

    from vowkeep.vault.keyring import Keyring, write_key_file

    instance = open_or_exit(data_dir)
    settings = instance.settings
    try:
        if settings.master_key:
            fail(
                "the master key comes from VOWKEEP_MASTER_KEY; rotate by putting a new key first in that variable "
                "(old keys after it, comma-separated) and running `vowkeep keys rotate` with the key file unset"
            )
        old = instance.keystore.keyring
        new_key = Keyring.generate().keys[0]
        # 1. The new key becomes primary with the old ones still present: servers re-read the file and can open
        #    both, and wrap any new data key under the new one.
        write_key_file(settings.master_key_file, Keyring([new_key, *old.keys]))
        total = instance.keystore.count() + 4
        with Progress(transient=True) as progress:
            task = progress.add_task("re-wrapping data keys", total=total)
            rewrapped = instance.keystore.rewrap_all(Keyring([new_key]), progress=lambda n: progress.advance(task, n))
            # A server that had not yet seen the new file may have wrapped a key under the old one meanwhile.
            while instance.keystore.count_not_under(Keyring([new_key]).primary_id):
                rewrapped += instance.keystore.rewrap_all(Keyring([new_key]))
        # 2. Retire the old keys.
        write_key_file(settings.master_key_file, Keyring([new_key]))
        leftover = instance.keystore.count_not_under(Keyring([new_key]).primary_id)
        if leftover:
            rewrapped += instance.keystore.rewrap_all(Keyring([new_key, *old.keys]))
    finally:
        instance.close()
    typer.echo(f"rotated the master key: {rewrapped} keys re-wrapped under {Keyring([new_key]).primary_id}")
