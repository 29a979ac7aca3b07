"""The audit log (SEC-3): append-only records, each MAC-chained to the one before it.

Each record's MAC is HMAC-SHA256, under an audit key kept in the key store, over the previous record's MAC and
this record's canonical content (sequence number included). Editing, deleting or reordering any record breaks
the chain at that record; cutting off the newest records is caught against the chain heads the key store records
(`audit.checkpoint` runs every minute, and on demand). Because the
key is not in the data database, someone who can write to it cannot recompute a valid chain.

Records name actors, purposes, subjects and categories — never values.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, select

from vowkeep import clock
from vowkeep.store.fastsql import FastSQL
from vowkeep.store.tables import audit_log

GENESIS = b"\x00" * 32
AUDIT_KEY_NAME = "audit-chain"
# Records the audit journal (vault/journal.py) folds in when lines of it were altered or removed before the fold.
JOURNAL_ACTION = "audit-journal"


def _journal_problem(row) -> str:
    detail = row.detail or {}
    if row.rule == "journal-gap":
        missing, writer = detail.get("missing", "?"), detail.get("writer", "?")
        return f"{missing} record(s) of writer {writer} were removed from the audit journal"
    return f"{detail.get('lines', '?')} line(s) of the audit journal were altered and could not be authenticated"


_encoder = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def at_text(at: datetime) -> str:
    """A record's time as its canonical content holds it: UTC, naive, to the microsecond (a naive `at` is UTC)."""
    if at.tzinfo is not None and at.tzinfo is not UTC:
        at = at.astimezone(UTC)
    return at.isoformat(timespec="microseconds")[:26]  # without the "+00:00" (one call: this is on every read)


def _canonical(
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    purpose: str | None,
    subject_id: str | None,
    categories: str,
    decision: str,
    rule: str,
    detail: dict,
) -> bytes:
    return _encoder.encode(
        [seq, at_text(at), actor, action, purpose, subject_id, categories, decision, rule, detail]
    ).encode()


def mac_of(key: bytes, prev_mac: bytes, canonical: bytes) -> bytes:
    return hmac.digest(key, prev_mac + canonical, "sha256")


_LAST = "SELECT seq, mac FROM audit_log ORDER BY seq DESC LIMIT 1"
_INSERT = (
    "INSERT INTO audit_log (seq, at, actor, action, purpose, subject_id, categories, decision, rule, detail, mac)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# Any constant: on PostgreSQL, appends take this transaction-scoped advisory lock, so the chain has exactly one
# next link however many processes write. SQLite's single write lock does the same.
_CHAIN_LOCK = 7_406_112_530
HEAD_CACHE = "audit_head_cache"


def append(
    conn: Connection,
    key: bytes,
    *,
    actor: str,
    action: str,
    decision: str,
    rule: str,
    purpose: str | None = None,
    subject_id: str | None = None,
    categories: Iterable[str] = (),
    detail: dict | None = None,
    fast: FastSQL | None = None,
) -> int:
    """Append one record in the caller's transaction; returns its sequence number.

    Every access appends one, so this runs prepared SQL (see `store.fastsql`) rather than building statements.
    A connection that holds the write lock across many appends (group commit) may keep the chain's head in
    `conn.info[HEAD_CACHE]` for the length of its transaction, saving a query per record.
    """
    cats = ",".join(sorted(set(categories)))
    record = (at_text(clock.now()), actor, action, purpose, subject_id, cats, decision, rule, detail or {})
    return append_many(conn, key, [record], fast=fast)


def append_many(
    conn: Connection,
    key: bytes,
    records: list[tuple],
    *,
    fast: FastSQL | None = None,
    tails: list[bytes | None] | None = None,
) -> int:
    """Append records in order, with one statement; returns the last sequence number.

    Each record is (at as `at_text` writes it, actor, action, purpose, subject id, categories joined by commas,
    decision, rule, detail): records folded in from the audit journal keep the time of their access. A record's
    `tails` entry, when given, is its canonical encoding without the leading `[seq,` (the journal already wrote
    it), which saves encoding it again.
    """
    fast = fast or FastSQL(conn)
    cache = conn.info.get(HEAD_CACHE)
    head = cache.get("head") if cache is not None else None
    if head is None:
        if not fast.sqlite:
            fast.run("SELECT pg_advisory_xact_lock(?)", (_CHAIN_LOCK,))
        row = fast.one(_LAST, ())
        head = (row[0], bytes(row[1])) if row else (0, GENESIS)
    seq, mac = head
    rows = []
    for index, (at, actor, action, purpose, subject_id, cats, decision, rule, detail) in enumerate(records):
        seq += 1
        tail = tails[index] if tails is not None else None
        if tail is None:
            canonical = _encoder.encode([seq, at, actor, action, purpose, subject_id, cats, decision, rule, detail])
            mac = mac_of(key, mac, canonical.encode())
        else:
            mac = mac_of(key, mac, b"[%d," % seq + tail)
        stored_at = at.replace("T", " ") if fast.sqlite else datetime.fromisoformat(at).replace(tzinfo=UTC)
        stored_detail = fast.json_in(detail)
        rows.append((seq, stored_at, actor, action, purpose, subject_id, cats, decision, rule, stored_detail, mac))
    if len(rows) == 1:
        fast.run(_INSERT, rows[0])
    else:
        fast.cursor.executemany(fast.sql(_INSERT), rows)
    if cache is not None:
        cache["head"] = (seq, mac)
    return seq


@dataclass
class ChainReport:
    ok: bool
    records: int
    first_bad_seq: int | None = None
    reason: str = ""
    head_seq: int = 0
    head_mac: bytes = GENESIS


def verify(conn: Connection, key: bytes, *, checkpoint: tuple[int, bytes] | None = None, batch: int = 5000):
    """Walk the whole chain; report the first record that does not fit (edited, deleted, reordered, cut)."""
    prev_mac = GENESIS
    expected_seq = 1
    count = 0
    last_seq = 0
    cursor = 0
    while True:
        rows = conn.execute(
            select(audit_log).where(audit_log.c.seq > cursor).order_by(audit_log.c.seq).limit(batch)
        ).all()
        for row in rows:
            if row.seq != expected_seq:
                bad = expected_seq if row.seq > expected_seq else row.seq
                return ChainReport(False, count, bad, f"record {expected_seq} is missing (next is {row.seq})")
            canonical = _canonical(
                row.seq,
                row.at,
                row.actor,
                row.action,
                row.purpose,
                row.subject_id,
                row.categories,
                row.decision,
                row.rule,
                row.detail,
            )
            if not hmac.compare_digest(mac_of(key, prev_mac, canonical), row.mac):
                return ChainReport(False, count, row.seq, f"record {row.seq} was altered or moved")
            if row.action == JOURNAL_ACTION and row.decision == "deny":
                # The chain is intact, but records were lost or altered in the journal before they entered it.
                return ChainReport(False, count, row.seq, f"record {row.seq} notes that {_journal_problem(row)}")
            prev_mac = row.mac
            last_seq = row.seq
            expected_seq += 1
            count += 1
        if len(rows) < batch:
            break
        cursor = rows[-1].seq
    if checkpoint is not None:
        cp_seq, cp_mac = checkpoint
        if cp_seq > last_seq:
            return ChainReport(
                False, count, last_seq + 1, f"records after {last_seq} were removed (a checkpoint saw {cp_seq})"
            )
        row = conn.execute(select(audit_log.c.mac).where(audit_log.c.seq == cp_seq)).first() if cp_seq else None
        if cp_seq and (row is None or not hmac.compare_digest(row.mac, cp_mac)):
            return ChainReport(False, count, cp_seq, f"record {cp_seq} differs from the checkpoint taken of it")
    return ChainReport(True, count, head_seq=last_seq, head_mac=prev_mac)
