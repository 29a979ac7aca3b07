"""What a read's record costs the fold as the audit log grows: batched inserts into a copy of `audit_log`, with its
two indexes and without the one on `subject_id`, in the same run.

The fold of the audit journal inserts records in batches of 256 in one transaction each. The index on `actor, at`
grows at its end (time goes forward); the one on `subject_id` takes each record at a random place, so each batch
dirties about one index page per record once the index is larger than a batch, and every dirty page is written to
the WAL at commit. This measures the insert and commit alone (the chain MACs and parsing are elsewhere), per
record, in each fifth of the run.
"""

from __future__ import annotations

import os
import random
import sqlite3
import time

from benchmarks._gate_floor import READ_OUTCOME, copy_audit_log
from benchmarks._instance import make
from benchmarks._table import table

RECORDS = 200_000
SUBJECTS = 10_000
BATCH = 256
PARTS = 5
CATEGORY = "user.contact.email"
_INSERT = "INSERT INTO {name} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"


def _per_record_by_part(conn: sqlite3.Connection, name: str, subjects: list[str]) -> list[float]:
    """µs per record of inserting and committing RECORDS records in batches, averaged over each fifth of the run."""
    rng = random.Random(11)
    insert = _INSERT.format(name=name)
    seconds = [0.0] * PARTS
    seq = 0
    while seq < RECORDS:
        rows = []
        for _ in range(BATCH):
            seq += 1
            at = f"2026-12-07 09:{seq // 60_000_000 % 60:02d}:{seq // 1_000_000 % 60:02d}.{seq % 1_000_000:06d}"
            who = ("operator:bench", "read", "support", rng.choice(subjects), CATEGORY)
            rows.append((seq, at, *who, *READ_OUTCOME, os.urandom(32)))
        start = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(insert, rows)
        conn.execute("COMMIT")
        seconds[min((seq - 1) * PARTS // RECORDS, PARTS - 1)] += time.perf_counter() - start
    return [s / (RECORDS / PARTS) * 1e6 for s in seconds]


def main() -> None:
    instance, _, data_dir = make()
    instance.close()
    conn = sqlite3.connect(data_dir / "vowkeep.db", isolation_level=None)
    conn.execute("PRAGMA synchronous=NORMAL")  # as vowkeep's own connections
    copy_audit_log(conn, "growth_both")
    copy_audit_log(conn, "growth_no_subject", without_index="subject_id")
    subjects = [os.urandom(16).hex() for _ in range(SUBJECTS)]
    both = _per_record_by_part(conn, "growth_both", subjects)
    actor_only = _per_record_by_part(conn, "growth_no_subject", subjects)
    conn.close()
    step = RECORDS // PARTS
    rows = [
        [f"{i * step:,}–{(i + 1) * step:,}", f"{b:.1f}", f"{a:.1f}", f"{b / a:.1f}×"]
        for i, (b, a) in enumerate(zip(both, actor_only, strict=True))
    ]
    print(table(["records already in the log", "both indexes, µs/record", "actor index only", "ratio"], rows))
    print(f"\n{RECORDS:,} read records over {SUBJECTS:,} subjects, inserted {BATCH} per transaction; SQLite WAL.")
