"""The floor under a gated read: the least work that returns a decrypted value whose audit record is durable and
chained, written as tightly as Python allows, for `gate_read` to measure beside the real gate.

Per read it does what no gated read can skip, and nothing else: one point lookup of the item, one AES-256-GCM
decryption under the subject's (cached) data key, one MAC'd record appended to a journal file with one `write()`
(durable against a crash of the process, as the gate's journal is), and, every 256 records, those records
MAC-chained and inserted in one transaction into a copy of `audit_log` with the same columns and indexes. No
decision, no subject state, holds or consent, no other process's lines to authenticate: the gate does all of
those, so it cannot be faster than this.
"""

from __future__ import annotations

import hmac
import json
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from vowkeep.vault.crypto import NONCE_BYTES, item_ad

BATCH = 256
_LOOKUP = "SELECT id, ciphertext FROM items WHERE subject_id = ? AND category = ?"
_INSERT = "INSERT INTO floor_audit VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
# A read record's fields after the subject and category, and before the MAC, as the gate's read records have them.
READ_OUTCOME = ("allow", "allowed", '{"items":1}')


def copy_audit_log(conn: sqlite3.Connection, name: str, *, without_index: str | None = None) -> None:
    """An empty copy of `audit_log` named `name`: its own DDL with the name changed, so the columns and indexes are
    exactly the same (less the index whose name contains `without_index`, if given)."""
    ddl = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE tbl_name = 'audit_log' AND sql IS NOT NULL ORDER BY type DESC"
    ).fetchall()
    for object_name, statement in ddl:
        if without_index is None or without_index not in object_name:
            conn.execute(statement.replace("audit_log", name))


class FloorReader:
    """Reads one category of many subjects the floor's way, on its own connections to an instance's database."""

    def __init__(self, database: Path, journal: Path, data_keys: dict, category: str):
        self._writer = sqlite3.connect(database, isolation_level=None)
        self._writer.execute("PRAGMA synchronous=NORMAL")
        copy_audit_log(self._writer, "floor_audit")
        self._reader = sqlite3.connect(database, isolation_level=None, check_same_thread=False).cursor()
        self._journal = os.open(journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._keys = data_keys
        self._category = category
        self._journal_key = os.urandom(32)
        self._chain_key = os.urandom(32)
        self._head = (0, b"\x00" * 32)
        self._pending: list[tuple[str, str, bytes]] = []

    def read(self, subjects: list[str]) -> None:
        category, lookup, pending = self._category, self._reader.execute, self._pending
        for subject in subjects:
            item_id, ciphertext = lookup(_LOOKUP, (subject, category)).fetchone()
            plain = self._keys[subject].decrypt(
                ciphertext[1 : 1 + NONCE_BYTES], ciphertext[1 + NONCE_BYTES :], item_ad(subject, category, item_id)
            )
            json.loads(plain)
            at = datetime.now(UTC).isoformat(timespec="microseconds")[:26]
            body = (
                f'"{at}","operator:bench","read","support","{subject}","{category}","allow","allowed",{{"items":1}}]'
            ).encode()
            os.write(self._journal, body + b" " + hmac.digest(self._journal_key, body, "sha256").hex().encode() + b"\n")
            pending.append((at, subject, body))
            if len(pending) >= BATCH:
                self.fold()
        self.fold()

    def fold(self) -> None:
        seq, mac = self._head
        rows = []
        for at, subject, body in self._pending:
            seq += 1
            mac = hmac.digest(self._chain_key, mac + b"[%d," % seq + body, "sha256")
            rows.append((seq, at, "operator:bench", "read", "support", subject, self._category, *READ_OUTCOME, mac))
        self._writer.execute("BEGIN IMMEDIATE")
        self._writer.executemany(_INSERT, rows)
        self._writer.execute("COMMIT")
        self._head = (seq, mac)
        self._pending.clear()

    def close(self) -> None:
        os.close(self._journal)
        self._reader.connection.close()
        self._writer.close()
