"""Writing a transferred data set into a new instance (SHR-8): the vault's side of `vowkeep import-archive`.

Values come out of the old instance through the gate (`vault.read`); here they go in as the gate would have
written them — each subject gets a fresh random data key in this instance's key store, every value is sealed
under it with the same associated data, and look-up values get blind-index rows — keeping the subjects' and items'
ids, times, collection points and purposes, so the record of where data came from survives the transfer.
"""

from __future__ import annotations

import json

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection, insert, select

from vowkeep.policy.taxonomy import covers
from vowkeep.store.keystore_tables import system_keys
from vowkeep.store.tables import blind_index, items, subjects
from vowkeep.vault import blind
from vowkeep.vault.actors import Actor
from vowkeep.vault.crypto import item_ad, seal
from vowkeep.vault.gate import SubjectState, Vault


class TransferError(Exception):
    """The target cannot take the data set (a subject already exists, a key is already set…)."""


def adopt_system_key(keystore, name: str, key: bytes, *, now) -> None:
    """Install a system key carried by an archive (the blind-index key, so suppression entries still match).

    Only into a key store that does not have that key yet: a key in use is never replaced.
    """
    if len(key) != 32:
        raise TransferError(f"the archive's '{name}' key is not a 256-bit key")
    with keystore.engine.begin() as conn:
        if conn.execute(select(system_keys.c.name).where(system_keys.c.name == name)).first() is not None:
            raise TransferError(f"this key store already has a '{name}' key")
        kek_id, wrapped = keystore.keyring.wrap(key, "system|" + name)
        conn.execute(insert(system_keys).values(name=name, wrapped=wrapped, kek_id=kek_id, created_at=now))


def restore_subject(conn: Connection, *, vault: Vault, actor: Actor, subject: dict, values: list[dict]) -> int:
    """Write one subject and its items as the gate would have; returns how many items were written."""
    vault._require_uow(conn)
    subject_id = subject["id"]
    if conn.execute(select(subjects.c.id).where(subjects.c.id == subject_id)).first() is not None:
        raise TransferError(f"subject {subject_id} already exists here")
    conn.execute(insert(subjects).values(**subject))
    if not values:
        return 0
    aead: AESGCM = vault.keystore.create_data_key(subject_id)
    index_key = vault.keystore.system_key(blind.INDEX_KEY_NAME)
    lookups = {c.key for c in vault.policy.categories if c.lookup}
    rows, index_rows = [], []
    for value in values:
        category, item_id = value["category"], value["id"]
        blob = seal(aead, json.dumps(value["value"]).encode(), item_ad(subject_id, category, item_id))
        rows.append({**{k: v for k, v in value.items() if k != "value"}, "subject_id": subject_id, "ciphertext": blob})
        indexed = any(covers(c, category) for c in lookups) or blind.kind_for(category)
        if indexed and subject["state"] != SubjectState.erased:
            kind = blind.kind_for(category) or category
            digest = blind.digest(index_key, kind, str(value["value"]))
            index_rows.append({"kind": kind, "digest": digest, "subject_id": subject_id, "item_id": item_id})
    conn.execute(insert(items), rows)
    if index_rows:
        conn.execute(insert(blind_index), index_rows)
    vault.audit(
        conn,
        actor=actor,
        action="import",
        subject_id=subject_id,
        categories=sorted({v["category"] for v in values}),
        detail={"items": len(values)},
    )
    return len(values)
