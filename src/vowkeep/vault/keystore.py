"""Per-subject data keys and the instance's system keys, in their own database, wrapped by the master keyring.

Unwrapped keys are cached in memory (a bounded LRU) because every gated read needs one; destroying a key evicts
it here, and the gate refuses erased subjects before it ever asks for a key, so a peer process's stale cache
entry opens nothing.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from datetime import datetime

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Engine, delete, func, insert, select, update

from vowkeep import clock
from vowkeep.store.keystore_tables import audit_checkpoints, data_keys, system_keys
from vowkeep.vault.crypto import new_key
from vowkeep.vault.keyring import Keyring, KeyringError, KeyringSource


class KeyStore:
    def __init__(self, engine: Engine, source: KeyringSource | Keyring, *, cache_size: int = 50_000):
        self.engine = engine
        self._source = source if isinstance(source, KeyringSource) else None
        self.keyring = source.current() if isinstance(source, KeyringSource) else source
        self._cache: OrderedDict[str, AESGCM] = OrderedDict()
        self._cache_size = cache_size
        self._system: dict[str, bytes] = {}
        self._lock = threading.Lock()

    # --- data keys -------------------------------------------------------------------------

    def create_data_key(self, subject_id: str) -> AESGCM:
        """A new random data key for a subject, stored wrapped (committed at once, in the key store)."""
        key = new_key()
        self._refresh()  # wrap under the newest primary, even in the middle of a rotation
        kek_id, wrapped = self.keyring.wrap(key, subject_id)
        with self.engine.begin() as conn:
            conn.execute(
                insert(data_keys).values(subject_id=subject_id, wrapped=wrapped, kek_id=kek_id, created_at=clock.now())
            )
        aead = AESGCM(key)
        self._remember(subject_id, aead)
        return aead

    def data_key(self, subject_id: str) -> AESGCM | None:
        """The subject's data key, or None when it was destroyed (or never existed)."""
        with self._lock:
            aead = self._cache.get(subject_id)
            if aead is not None:
                self._cache.move_to_end(subject_id)
                return aead
        with self.engine.connect() as conn:
            row = conn.execute(
                select(data_keys.c.kek_id, data_keys.c.wrapped).where(data_keys.c.subject_id == subject_id)
            ).first()
        if row is None:
            return None
        aead = AESGCM(self._unwrap(row.kek_id, row.wrapped, subject_id))
        self._remember(subject_id, aead)
        return aead

    def destroy_data_key(self, subject_id: str) -> bool:
        """Delete a subject's data key for good (crypto-shredding). True if one existed."""
        with self._lock:
            self._cache.pop(subject_id, None)
        with self.engine.begin() as conn:
            deleted = conn.execute(delete(data_keys).where(data_keys.c.subject_id == subject_id)).rowcount
        return bool(deleted)

    def destroy_data_keys(self, subject_ids: list[str]) -> int:
        """Delete many subjects' data keys in one transaction (the retention sweeper). Returns how many existed."""
        with self._lock:
            for subject_id in subject_ids:
                self._cache.pop(subject_id, None)
        deleted = 0
        with self.engine.begin() as conn:
            for start in range(0, len(subject_ids), 5000):
                chunk = subject_ids[start : start + 5000]
                deleted += conn.execute(delete(data_keys).where(data_keys.c.subject_id.in_(chunk))).rowcount
        return deleted

    def key_ages(self, subject_ids: list[str]) -> dict[str, datetime]:
        """When each of these subjects' data keys was created (absent ids have no key)."""
        found: dict[str, datetime] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(subject_ids), 500):
                chunk = subject_ids[start : start + 500]
                found.update(
                    conn.execute(
                        select(data_keys.c.subject_id, data_keys.c.created_at).where(data_keys.c.subject_id.in_(chunk))
                    ).all()
                )
        return found

    def has_data_key(self, subject_id: str) -> bool:
        with self.engine.connect() as conn:
            return (
                conn.execute(select(data_keys.c.subject_id).where(data_keys.c.subject_id == subject_id)).first()
                is not None
            )

    def subject_ids_with_keys(self) -> Iterator[str]:
        """Every subject id that has a data key (for conformance checks)."""
        with self.engine.connect() as conn:
            yield from conn.execute(select(data_keys.c.subject_id)).scalars()

    def count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(data_keys)).scalar_one()

    def forget_cached(self, subject_id: str | None = None) -> None:
        with self._lock:
            if subject_id is None:
                self._cache.clear()
            else:
                self._cache.pop(subject_id, None)

    def _remember(self, subject_id: str, aead: AESGCM) -> None:
        with self._lock:
            self._cache[subject_id] = aead
            self._cache.move_to_end(subject_id)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def _unwrap(self, kek_id: str, wrapped: bytes, label: str) -> bytes:
        try:
            return self.keyring.unwrap(kek_id, wrapped, label)
        except KeyringError:
            # A rotation may have added a master key since this process started: read the keyring again.
            if self._source is None or kek_id in self.keyring.ids:
                raise
            self._refresh()
            return self.keyring.unwrap(kek_id, wrapped, label)

    def _refresh(self) -> None:
        if self._source is not None:
            self.keyring = self._source.current()

    # --- system keys -----------------------------------------------------------------------

    def system_key(self, name: str) -> bytes:
        """A named key of the instance (blind index, audit chain, tokens…), created on first use."""
        key = self._system.get(name)
        if key is not None:
            return key
        with self.engine.begin() as conn:
            row = conn.execute(
                select(system_keys.c.kek_id, system_keys.c.wrapped).where(system_keys.c.name == name)
            ).first()
            if row is None:
                key = new_key()
                self._refresh()
                kek_id, wrapped = self.keyring.wrap(key, "system|" + name)
                conn.execute(
                    insert(system_keys).values(name=name, wrapped=wrapped, kek_id=kek_id, created_at=clock.now())
                )
            else:
                key = self._unwrap(row.kek_id, row.wrapped, "system|" + name)
        self._system[name] = key
        return key

    # --- rotation (SEC-4) ------------------------------------------------------------------

    def rewrap_all(self, new_keyring: Keyring, *, batch: int = 500, progress: Callable[[int], None] | None = None):
        """Re-wrap every key under `new_keyring`'s primary, in small transactions, without touching data."""
        old = self.keyring
        combined = Keyring([*new_keyring.keys, *[k for k in old.keys if k not in new_keyring.keys]])
        self.keyring = combined
        primary = combined.primary_id
        done = 0
        for table, key_col, label in (
            (system_keys, system_keys.c.name, lambda n: "system|" + n),
            (data_keys, data_keys.c.subject_id, lambda s: s),
        ):
            while True:
                with self.engine.begin() as conn:
                    rows = conn.execute(
                        select(key_col, table.c.kek_id, table.c.wrapped).where(table.c.kek_id != primary).limit(batch)
                    ).all()
                    for ident, kek_id, wrapped in rows:
                        plain = combined.unwrap(kek_id, wrapped, label(ident))
                        new_id, new_wrapped = combined.wrap(plain, label(ident))
                        conn.execute(
                            update(table)
                            .where(key_col == ident, table.c.kek_id == kek_id)
                            .values(kek_id=new_id, wrapped=new_wrapped)
                        )
                done += len(rows)
                if progress:
                    progress(len(rows))
                if len(rows) < batch:
                    break
        return done

    def count_not_under(self, kek_id: str) -> int:
        with self.engine.connect() as conn:
            return (
                conn.execute(
                    select(func.count()).select_from(data_keys).where(data_keys.c.kek_id != kek_id)
                ).scalar_one()
                + conn.execute(
                    select(func.count()).select_from(system_keys).where(system_keys.c.kek_id != kek_id)
                ).scalar_one()
            )

    # --- audit anchors ---------------------------------------------------------------------

    def record_audit_checkpoint(self, seq: int, mac: bytes) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(audit_checkpoints).values(seq=seq, mac=mac, at=clock.now()))

    def last_audit_checkpoint(self) -> tuple[int, bytes] | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(audit_checkpoints.c.seq, audit_checkpoints.c.mac)
                .order_by(audit_checkpoints.c.id.desc())
                .limit(1)
            ).first()
        return (row.seq, row.mac) if row else None
