"""The audit log (SEC-3): append-only records, each MAC-chained to the one before it.

Each record's MAC is HMAC-SHA256, under an audit key kept in the key store, over the previous record's MAC and
this record's canonical content (sequence number included). Editing, deleting or reordering any record breaks
the chain at that record; cutting off the newest records is caught against the chain heads the key store records
(`audit.checkpoint` runs every minute, and on demand). Because the
key is not in the data database, someone who can write to it cannot recompute a valid chain.

Records name actors, purposes, subjects and categories — never values.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from vowkeep import clock
from vowkeep.store.fastsql import FastSQL
from vowkeep.store.tables import audit_log

GENESIS = b"\x00" * 32
AUDIT_KEY_NAME = "audit-chain"


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
    at_text = at.replace(tzinfo=None).isoformat(timespec="microseconds")
    return json.dumps(
        [seq, at_text, actor, action, purpose, subject_id, categories, decision, rule, detail],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    ).encode()


def mac_of(key: bytes, prev_mac: bytes, canonical: bytes) -> bytes:
    return hmac.new(key, prev_mac + canonical, hashlib.sha256).digest()


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
    fast = fast or FastSQL(conn)
    cache = conn.info.get(HEAD_CACHE)
    head = cache.get("head") if cache is not None else None
    if head is None:
        if not fast.sqlite:
            fast.run("SELECT pg_advisory_xact_lock(?)", (_CHAIN_LOCK,))
        row = fast.one(_LAST, ())
        head = (row[0], bytes(row[1])) if row else (0, GENESIS)
    seq = head[0] + 1
    at = clock.now()
    cats = ",".join(sorted(set(categories)))
    detail = detail or {}
    mac = mac_of(key, head[1], _canonical(seq, at, actor, action, purpose, subject_id, cats, decision, rule, detail))
    fast.run(
        _INSERT,
        (seq, fast.time_in(at), actor, action, purpose, subject_id, cats, decision, rule, fast.json_in(detail), mac),
    )
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
