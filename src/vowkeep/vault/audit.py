"""The audit log (SEC-3): append-only records, each MAC-chained to the one before it.

Each record's MAC is HMAC-SHA256, under an audit key kept in the key store, over the previous record's MAC and
this record's canonical content (sequence number included). Editing, deleting or reordering any record breaks
the chain at that record; truncating the tail is caught against the checkpoints the key store keeps. Because the
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

from sqlalchemy import Connection, insert, select, update

from vowkeep import clock
from vowkeep.store.tables import audit_head, audit_log

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
    at_text = at.strftime("%Y-%m-%dT%H:%M:%S.%f")
    return json.dumps(
        [seq, at_text, actor, action, purpose, subject_id, categories, decision, rule, detail],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    ).encode()


def mac_of(key: bytes, prev_mac: bytes, canonical: bytes) -> bytes:
    return hmac.new(key, prev_mac + canonical, hashlib.sha256).digest()


def ensure_head(conn: Connection) -> None:
    """Create the chain's head row if the log is new."""
    if conn.execute(select(audit_head.c.id).where(audit_head.c.id == 1)).first() is None:
        conn.execute(insert(audit_head).values(id=1, seq=0, mac=GENESIS))


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
) -> int:
    """Append one record in the caller's transaction; returns its sequence number."""
    head_query = select(audit_head.c.seq, audit_head.c.mac).where(audit_head.c.id == 1)
    if conn.dialect.name == "postgresql":
        # Serialise appends across processes: the chain has exactly one next link.
        head_query = head_query.with_for_update()
    head = conn.execute(head_query).first()
    if head is None:
        ensure_head(conn)
        head = conn.execute(head_query).first()
    seq = head.seq + 1
    at = clock.now()
    cats = ",".join(sorted(set(categories)))
    detail = detail or {}
    mac = mac_of(key, head.mac, _canonical(seq, at, actor, action, purpose, subject_id, cats, decision, rule, detail))
    conn.execute(
        insert(audit_log).values(
            seq=seq,
            at=at,
            actor=actor,
            action=action,
            purpose=purpose,
            subject_id=subject_id,
            categories=cats,
            decision=decision,
            rule=rule,
            detail=detail,
            mac=mac,
        )
    )
    conn.execute(update(audit_head).where(audit_head.c.id == 1).values(seq=seq, mac=mac))
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
    head = conn.execute(select(audit_head.c.seq, audit_head.c.mac).where(audit_head.c.id == 1)).first()
    if head is not None and (head.seq != last_seq or not hmac.compare_digest(head.mac, prev_mac)):
        return ChainReport(
            False, count, last_seq + 1, f"the log ends at record {last_seq} but its head says {head.seq}"
        )
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
