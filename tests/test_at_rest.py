"""SEC-1: no plaintext personal data in the database file, its WAL, or the key store."""

from __future__ import annotations

from tests.support.api import REGISTRATION, register

KNOWN = {
    "email": "zelda.quixote-9f3@example.org",
    "first_name": "Zeldaquix",
    "last_name": "Marmaduke-Wolfsbane",
    "phone": "+442079461234",
    "password_hint": "purple-hippo-umbrella",
}


def _files(data_dir):
    return [p for p in data_dir.iterdir() if p.name.startswith(("vowkeep.db", "keys.db"))]


def test_sec1_collected_values_are_not_in_any_database_file(client, instance):
    """SEC-1: after collecting known values through the API, the bytes of every database file lack all of them."""
    subject_id = register(client, {**REGISTRATION, **KNOWN})
    client.post(
        "/api/v1/collect/inquiry",
        json={"email": KNOWN["email"], "message": "Secret-Message-Qwerty"},
        headers=client.service,
    )
    data_dir = instance.settings.data_dir
    files = _files(data_dir)
    assert {p.name for p in files} >= {"vowkeep.db", "vowkeep.db-wal", "keys.db"}
    for path in files:
        blob = path.read_bytes()
        for value in [*KNOWN.values(), "Secret-Message-Qwerty", KNOWN["email"].upper(), "zelda"]:
            assert value.encode() not in blob, f"{value!r} found in {path.name}"
            assert value.encode("utf-16-le") not in blob
    # The values are really there, encrypted: the gate gives them back.
    from vowkeep.vault.actors import Actor
    from vowkeep.vault.decisions import SUBJECT_RIGHTS

    with instance.vault.transaction() as conn:
        values = {
            v.field: v.value
            for v in instance.vault.read(conn, actor=Actor.system("t"), purpose=SUBJECT_RIGHTS, subject_id=subject_id)
        }
    assert values["first_name"] == KNOWN["first_name"]


def test_sec1_ciphertext_moved_to_another_item_does_not_decrypt(client, instance):
    """SEC-1: associated data binds each value to its subject, category and item."""
    import pytest
    from sqlalchemy import select, update

    from vowkeep.store.tables import items
    from vowkeep.vault.actors import Actor
    from vowkeep.vault.crypto import DecryptionError
    from vowkeep.vault.decisions import SUBJECT_RIGHTS

    subject_id = register(client)
    with instance.engine.begin() as conn:
        rows = {r.field: r for r in conn.execute(select(items).where(items.c.subject_id == subject_id))}
        conn.execute(
            update(items).where(items.c.id == rows["last_name"].id).values(ciphertext=rows["first_name"].ciphertext)
        )
    with pytest.raises(DecryptionError), instance.vault.transaction() as conn:
        instance.vault.read(conn, actor=Actor.system("t"), purpose=SUBJECT_RIGHTS, subject_id=subject_id)


def test_sec1_master_key_file_is_private_and_required(instance, tmp_path):
    import stat

    from vowkeep import config
    from vowkeep.instance import open_instance
    from vowkeep.vault.keyring import KeyringError

    key_file = instance.settings.master_key_file
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key_file.chmod(0o644)
    try:
        import pytest

        with pytest.raises(KeyringError, match="readable by others"):
            open_instance(config.from_env({"VOWKEEP_DATA_DIR": str(instance.settings.data_dir)}))
    finally:
        key_file.chmod(0o600)
