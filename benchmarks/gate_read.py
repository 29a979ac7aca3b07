"""Gated reads vs a raw SQLite point lookup of the same row, in the same run.

A gated read is: the declaration's decision (purpose declares the category, the role serves the purpose), the
subject's state, holds and consent, fetching and decrypting the item (AES-256-GCM under the subject's data key),
and a MAC-chained audit record that is durable before the value is returned (on SQLite it is written to the audit
journal and folded into the chain in batches: the time of every fold is inside the measurement). The baseline reads
the same row's ciphertext with Python's sqlite3 and nothing else. Between the two, the floor (`_gate_floor`) does
only what no gated read can skip — lookup, decryption, a MAC'd journal line, its chained insert — to show how much
of the distance to the baseline is the gate's and how much is the work itself.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time

from benchmarks._gate_floor import FloorReader
from benchmarks._instance import fill, make
from benchmarks._table import rate, table

SUBJECTS = 2000
READS = 20000


def main() -> None:
    from vowkeep.vault.actors import Actor, ActorKind

    instance, _, data_dir = make()
    ids = fill(instance, SUBJECTS)
    vault = instance.vault
    actor = Actor(ActorKind.operator, "bench", role="support_agent")
    rng = random.Random(7)
    order = [rng.choice(ids) for _ in range(READS)]

    def gated_standalone(subjects):
        for s in subjects:
            vault.read_now(actor=actor, purpose="support", subject_id=s, categories=["user.contact.email"])

    def gated_in_unit_of_work(subjects):
        for s in subjects:
            with vault.transaction() as conn:
                vault.read(conn, actor=actor, purpose="support", subject_id=s, categories=["user.contact.email"])

    raw = sqlite3.connect(str(data_dir / "vowkeep.db"))

    def raw_lookup(subjects):
        for s in subjects:
            raw.execute(
                "SELECT ciphertext FROM items WHERE subject_id = ? AND category = ?", (s, "user.contact.email")
            ).fetchone()

    floor = FloorReader(
        data_dir / "vowkeep.db",
        data_dir / "floor.journal",
        {s: vault.keystore.data_key(s) for s in set(order)},
        "user.contact.email",
    )

    def timed(fn, subjects) -> float:
        start = time.perf_counter()
        fn(subjects)
        vault.settle_audit()  # every record in the chain before the clock stops
        return rate(len(subjects), time.perf_counter() - start)

    def threaded(fn, threads: int) -> float:
        chunks = [order[i::threads] for i in range(threads)]
        workers = [threading.Thread(target=fn, args=(c,)) for c in chunks]
        start = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        vault.settle_audit()
        return rate(READS, time.perf_counter() - start)

    gated_standalone(order[:500])  # warm the key cache and the statement paths
    vault.settle_audit()
    baseline = timed(raw_lookup, order)
    measured = {
        "gated read, own unit of work (`read_now`), 1 thread": timed(gated_standalone, order),
        "gated read, own unit of work, 4 threads": threaded(gated_standalone, 4),
        "gated read inside a caller's transaction, 1 thread": timed(gated_in_unit_of_work, order[:5000]),
    }
    # Measured last, so that its table's growth slows none of the gate's runs; shown beside the baseline.
    floor_rate = timed(floor.read, order)
    rows = []
    for name, value in (
        ("raw SQLite point lookup (baseline)", baseline),
        ("floor: lookup + decrypt + MAC'd journal line + chained insert, no gate", floor_rate),
        *measured.items(),
    ):
        rows.append([name, value, f"{1e6 / value:.1f}", f"{value / baseline:.1%}"])
    print(table(["operation", "reads/s", "µs per read", "vs raw"], rows))
    print(
        f"\n{SUBJECTS:,} subjects, {READS:,} reads of one e-mail item each; SQLite WAL, synchronous=NORMAL; "
        "every audit record folded into the chain inside the timing."
    )
    floor.close()
    instance.close()
