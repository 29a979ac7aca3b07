"""Benchmark: fulfilling an access request and an erasure for a subject with 100 items, among 100,000 subjects.

    python -m benchmarks.rights [--subjects 100000] [--runs 20] [--database-url postgresql://…]

Loading 100,000 subjects through the gate one submission at a time would take far longer than the measurement, so
they are written with bulk inserts that produce the rows the gate writes: a random data key per subject, wrapped by
the instance's master key into the key store; each value sealed with AES-256-GCM under that key with the gate's
associated data; blind-index rows for e-mail and phone under the instance's index key. Every subject gets the six
values of a registration; each measured subject gets 100 items (a registration and 94 inquiry messages).

What is timed is the server-side work of `POST /api/v1/requests/{id}/approve` — the service call in its unit of
work, commit and post-commit key destruction included — for a verified request waiting in review:
- access: every item read through the gate (and audited), the report with consents, disclosures, holds,
  retention and recipients, sealed under the subject's key; the outcome mail queued;
- erasure: processors found and notified, every item and index row deleted, the subject closed, the outcome mail
  queued, and after commit the data key destroyed and the key store's SQLite WAL checkpointed (the data
  database's WAL is folded by a worker job the erasure queues, outside this timing).
The raw baselines, measured in the same run on other subjects of the same shape: the same rows read and decrypted
with plain SQL and no checks, audit or report; and the same rows deleted and the key destroyed with plain SQL.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete, insert, select, update

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "examples" / "policies" / "wsoutsourcer.yaml"
TARGET_MS = 50.0


def _create(data_dir: Path, database_url: str | None):
    from vowkeep import config
    from vowkeep.instance import init_instance, open_instance
    from vowkeep.policy import load_file

    env = {"VOWKEEP_DATA_DIR": str(data_dir)}
    if database_url:
        env["VOWKEEP_DATABASE_URL"] = database_url
    settings = config.from_env(env)
    init_instance(settings, load_file(POLICY))
    return open_instance(settings)


def _registration(n: int) -> list[tuple[str, str, str, object]]:
    """(field, category, collection point, value) of a registration."""
    return [
        ("email", "user.contact.email", "registration", f"person{n}@example.org"),
        ("first_name", "user.name.first", "registration", f"First{n}"),
        ("last_name", "user.name.last", "registration", f"Last{n}"),
        ("date_of_birth", "user.demographic.date_of_birth", "registration", "1985-12-10"),
        ("password", "user.authorization.password", "registration", "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"),
        ("phone", "user.contact.phone_number", "registration", f"+4420794{n % 100000:05d}"),
    ]


def _load(instance, count: int, *, big: set[int]) -> dict[int, str]:
    """Write `count` subjects as the gate would; those in `big` get 100 items. Returns their ids by number."""
    from vowkeep import clock
    from vowkeep.store.keystore_tables import data_keys
    from vowkeep.store.tables import blind_index, items, subjects
    from vowkeep.vault import blind
    from vowkeep.vault.crypto import item_ad, new_key, seal

    keyring = instance.keystore.keyring
    index_key = instance.keystore.system_key(blind.INDEX_KEY_NAME)
    now = clock.now()
    ids: dict[int, str] = {}
    batch = 2000
    for start in range(0, count, batch):
        subject_rows, key_rows, item_rows, index_rows = [], [], [], []
        for n in range(start, min(start + batch, count)):
            subject_id = uuid.uuid4().hex
            ids[n] = subject_id
            key = new_key()
            kek_id, wrapped = keyring.wrap(key, subject_id)
            key_rows.append({"subject_id": subject_id, "wrapped": wrapped, "kek_id": kek_id, "created_at": now})
            subject_rows.append(
                {
                    "id": subject_id,
                    "state": "active",
                    "created_at": now,
                    "created_via": "registration",
                    "policy_version": 1,
                    "last_activity_at": now,
                }
            )
            aead = AESGCM(key)
            values = _registration(n)
            if n in big:
                values += [
                    ("message", "user.content.private", "inquiry", f"Message {i} about order {n}") for i in range(94)
                ]
            for field, category, point, value in values:
                item_id = uuid.uuid4().hex
                purposes = "account service_messages partner_offers" if point == "registration" else "support"
                item_rows.append(
                    {
                        "id": item_id,
                        "subject_id": subject_id,
                        "category": category,
                        "field": field,
                        "collection_point": point,
                        "purposes": purposes,
                        "policy_version": 1,
                        "source": None,
                        "collected_at": now,
                        "updated_at": now,
                        "ciphertext": seal(aead, json.dumps(value).encode(), item_ad(subject_id, category, item_id)),
                    }
                )
                kind = blind.kind_for(category)
                if kind:
                    digest = blind.digest(index_key, kind, str(value))
                    index_rows.append({"kind": kind, "digest": digest, "subject_id": subject_id, "item_id": item_id})
        with instance.keystore.engine.begin() as conn:
            conn.execute(insert(data_keys), key_rows)
        with instance.engine.begin() as conn:
            conn.execute(insert(subjects), subject_rows)
            conn.execute(insert(items), item_rows)
            conn.execute(insert(blind_index), index_rows)
    return ids


def _waiting_request(instance, subject_id: str, kind: str) -> str:
    """A verified request for the subject, waiting in review (what an operator approves)."""
    from vowkeep.rights import requests as service
    from vowkeep.rights.states import move
    from vowkeep.store.tables import request_subjects
    from vowkeep.vault.actors import Actor, ActorKind

    with instance.vault.transaction() as conn:
        filed = service.file(
            conn,
            instance=instance,
            kind=kind,
            email=f"bench-{uuid.uuid4().hex[:8]}@example.org",
            channel="center",
            actor=Actor(ActorKind.subject, "requester"),
        )
        move(conn, request_id=filed.id, current="verifying", to="in_review", actor="bench", note="verified")
        conn.execute(insert(request_subjects).values(request_id=filed.id, subject_id=subject_id, outcome={}))
    return filed.id


def _time_ms(fn) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def _approve(instance, request_id: str) -> None:
    from vowkeep.rights import requests as service
    from vowkeep.vault.actors import Actor, ActorKind

    with instance.vault.transaction() as conn:
        done = service.approve(conn, instance=instance, request_id=request_id, actor=Actor(ActorKind.operator, "bench"))
    assert done.state == "fulfilled", done.state


def _raw_access(instance, subject_id: str) -> None:
    from vowkeep.store.tables import items

    aead = instance.keystore.data_key(subject_id)
    with instance.engine.begin() as conn:
        rows = conn.execute(
            select(items.c.id, items.c.category, items.c.ciphertext).where(items.c.subject_id == subject_id)
        ).all()
    values = [json.loads(aead.decrypt(r.ciphertext[1:13], r.ciphertext[13:], _ad(subject_id, r))) for r in rows]
    assert len(values) == 100


def _ad(subject_id: str, row) -> bytes:
    from vowkeep.vault.crypto import item_ad

    return item_ad(subject_id, row.category, row.id)


def _raw_erase(instance, subject_id: str) -> None:
    from vowkeep import clock
    from vowkeep.store.tables import blind_index, items, subjects

    with instance.engine.begin() as conn:
        conn.execute(delete(blind_index).where(blind_index.c.subject_id == subject_id))
        conn.execute(delete(items).where(items.c.subject_id == subject_id))
        conn.execute(update(subjects).where(subjects.c.id == subject_id).values(state="erased", erased_at=clock.now()))
    instance.keystore.destroy_data_key(subject_id)


def _row(name: str, samples: list[float], baseline: list[float]) -> str:
    def p(values, q):
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    median = statistics.median(samples)
    verdict = "ok" if median <= TARGET_MS else "OVER"
    return (
        f"{name:<28} {median:>8.2f} {p(samples, 0.95):>8.2f}   {statistics.median(baseline):>8.2f} "
        f"{p(baseline, 0.95):>8.2f}   {median / statistics.median(baseline):>6.1f}x   ≤{TARGET_MS:.0f} ms {verdict}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--database-url", default=os.environ.get("VOWKEEP_BENCH_DATABASE_URL"))
    args = parser.parse_args(argv)
    runs = args.runs
    # Subjects 0..4*runs-1 get 100 items: runs each for access, raw access, erasure, raw erasure.
    big = set(range(4 * runs))
    with tempfile.TemporaryDirectory(prefix="vowkeep-bench-") as tmp:
        instance = _create(Path(tmp) / "data", args.database_url)
        try:
            started = time.perf_counter()
            ids = _load(instance, max(args.subjects, 4 * runs), big=big)
            loaded = time.perf_counter() - started
            backend = instance.engine.dialect.name
            print(f"loaded {len(ids):,} subjects ({len(big)} with 100 items) on {backend} in {loaded:.1f}s")
            access, raw_access, erase, raw_erase = [], [], [], []
            shredding: list[float] = []
            shred = instance.vault.shred

            def timed_shred(subject_id: str) -> None:
                shredding.append(_time_ms(lambda: shred(subject_id)))

            # Key destruction and the key store's WAL checkpoint run after commit; timed apart to show their share.
            instance.vault.shred = timed_shred
            for i in range(runs):
                request_id = _waiting_request(instance, ids[i], "access")
                access.append(_time_ms(lambda request_id=request_id: _approve(instance, request_id)))
                raw_access.append(_time_ms(lambda i=i: _raw_access(instance, ids[runs + i])))
                request_id = _waiting_request(instance, ids[2 * runs + i], "erase")
                erase.append(_time_ms(lambda request_id=request_id: _approve(instance, request_id)))
                raw_erase.append(_time_ms(lambda i=i: _raw_erase(instance, ids[3 * runs + i])))
            print()
            print(f"{'server-side time (ms)':<28} {'p50':>8} {'p95':>8}   {'raw p50':>8} {'raw p95':>8}   {'ratio':>7}")
            print(_row("access request, 100 items", access, raw_access))
            print(_row("erasure, 100 items", erase, raw_erase))
            print(
                f"  of which, after commit: data key destroyed and the key store's WAL checkpointed, p50 "
                f"{statistics.median(shredding):.2f} ms"
            )
        finally:
            instance.close()


if __name__ == "__main__":
    main()
