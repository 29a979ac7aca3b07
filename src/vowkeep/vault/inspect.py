"""Opening every stored value for the conformance auditor (`vowkeep verify`, TOOL-3), read-only.

The auditor reads the raw tables itself, but only the vault touches keys: this hands it each item's decrypted value
one at a time, in memory, for a scan to look for and forget. Nothing here stores, logs or returns a value beyond
the iterator, and `record_scan` appends one audit record saying how many items a run opened (SEC-3).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import or_, select

from vowkeep.store.tables import items
from vowkeep.vault import audit
from vowkeep.vault.actors import Actor
from vowkeep.vault.crypto import DecryptionError, item_ad, unseal

INSPECTOR = Actor.system("verify")
NO_KEY = "no-key"
DOES_NOT_DECRYPT = "does-not-decrypt"


@dataclass(frozen=True, slots=True)
class OpenedItem:
    """An item and its value, or why it could not be opened (`problem`: `no-key` or `does-not-decrypt`)."""

    subject_id: str
    item_id: str
    category: str
    field: str
    collection_point: str
    value: object = None
    problem: str | None = None


def open_items(vault, *, categories: Iterable[str] = (), batch: int = 2000) -> Iterator[OpenedItem]:
    """Every item (or those of `categories` and their descendants), decrypted under its subject's data key."""
    wanted = list(categories)
    cursor = ""
    keystore = vault.keystore
    while True:
        query = (
            select(items.c.id, items.c.subject_id, items.c.category, items.c.field, items.c.collection_point)
            .add_columns(items.c.ciphertext)
            .where(items.c.id > cursor)
            .order_by(items.c.id)
            .limit(batch)
        )
        if wanted:
            query = query.where(
                or_(*[c for w in wanted for c in (items.c.category == w, items.c.category.like(w + ".%"))])
            )
        with vault.engine.connect() as conn:
            rows = conn.execute(query).all()
            conn.rollback()
        for row in rows:
            aead = keystore.data_key(row.subject_id)
            base = (row.subject_id, row.id, row.category, row.field, row.collection_point)
            if aead is None:
                yield OpenedItem(*base, problem=NO_KEY)
                continue
            try:
                plain = unseal(aead, bytes(row.ciphertext), item_ad(row.subject_id, row.category, row.id))
            except DecryptionError:
                yield OpenedItem(*base, problem=DOES_NOT_DECRYPT)
                continue
            yield OpenedItem(*base, value=json.loads(plain))
        if len(rows) < batch:
            return
        cursor = rows[-1].id


def record_scan(vault, *, opened: int, purpose_of_scan: str = "conformance") -> None:
    """One audit record for a verification run that opened `opened` items (no subject, no value)."""
    with vault.transaction() as conn:
        audit.append(
            conn,
            vault.keystore.system_key(audit.AUDIT_KEY_NAME),
            actor=INSPECTOR.label,
            action="verify:scan",
            decision="allow",
            rule=purpose_of_scan,
            detail={"items": opened},
        )
