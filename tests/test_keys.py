"""SEC-4: the master key rotates while reads go on; data keys are re-wrapped, data is not re-encrypted."""

from __future__ import annotations

import threading

from sqlalchemy import select

from tests.support.api import REGISTRATION, register
from vowkeep.store.keystore_tables import data_keys
from vowkeep.store.tables import items
from vowkeep.vault.actors import Actor
from vowkeep.vault.decisions import SUBJECT_RIGHTS
from vowkeep.vault.keyring import Keyring


def test_sec4_rotation_rewraps_keys_while_reads_continue(client, instance, cli):
    subjects = [register(client, {**REGISTRATION, "email": f"r{i}@example.org"}) for i in range(20)]
    with instance.engine.connect() as conn:
        ciphertexts = dict(conn.execute(select(items.c.id, items.c.ciphertext)).all())
    old_id = instance.keystore.keyring.primary_id
    errors: list[BaseException] = []
    stop = threading.Event()
    reads = 0

    def reader():
        nonlocal reads
        while not stop.is_set():
            try:
                # A fresh process would have no cached keys: clear ours to unwrap from the key store each time.
                instance.keystore.forget_cached()
                for s in subjects:
                    with instance.vault.transaction() as conn:
                        instance.vault.read(conn, actor=Actor.system("t"), purpose=SUBJECT_RIGHTS, subject_id=s)
                    reads += 1
            except BaseException as exc:
                errors.append(exc)
                return

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        result = cli("keys", "rotate", "--data-dir", instance.settings.data_dir)
    finally:
        stop.set()
        thread.join()
    assert result.exit_code == 0, result.output
    assert not errors, errors
    assert reads > 0
    keyring = Keyring.parse(instance.settings.master_key_file.read_text())
    assert len(keyring.keys) == 1 and keyring.primary_id != old_id
    with instance.keystore_engine.connect() as conn:
        assert set(conn.execute(select(data_keys.c.kek_id)).scalars()) == {keyring.primary_id}
    with instance.engine.connect() as conn:
        assert dict(conn.execute(select(items.c.id, items.c.ciphertext)).all()) == ciphertexts
    # Everything still opens with the new key alone, from a cold cache.
    instance.keystore.forget_cached()
    instance.keystore.keyring = keyring
    instance.keystore._system.clear()
    with instance.vault.transaction() as conn:
        values = instance.vault.read(conn, actor=Actor.system("t"), purpose=SUBJECT_RIGHTS, subject_id=subjects[0])
    assert {v.field: v.value for v in values}["email"] == "r0@example.org"
    assert f"{len(subjects) + 4} keys re-wrapped" in result.stdout


def test_sec4_wrong_master_key_opens_nothing(instance, tmp_path):
    import pytest

    from vowkeep.vault.keyring import KeyringError
    from vowkeep.vault.keystore import KeyStore

    stranger = KeyStore(instance.keystore_engine, Keyring.generate())
    with pytest.raises(KeyringError):
        stranger.system_key("audit-chain")
