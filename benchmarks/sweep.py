"""The retention sweeper against a raw DELETE of the same rows (RET-1): `python -m benchmarks.sweep`.

Builds a data set of `--items` items (default 1,000,000) of which half have expired, as the sample declaration
(WS Outsourcer, a one-month cap) judges them:

- 25 % of the items: subjects with 5 items from the inquiry form (support: a month after last activity),
  inactive for two months — all expire, the subject is closed and its key destroyed;
- 50 %: subjects with 2 registration items (account: a month after closure; the account is open) and 2 purchase
  items (transaction: a month after collection, two months ago), one in ten having refused partner offers — the
  purchase items expire;
- 25 %: subjects with 5 registration items and an open account — nothing expires.

Every subject has a real wrapped data key and a blind-index row for its e-mail address; the raw DELETE takes the
same rows (their blind-index rows go by the foreign key's cascade) in one statement on a copy of the same file.
The sweep does what the sweeper always does: computes every item's retention in SQL, checks holds, deletes in
batches with one audit record per subject, closes emptied subjects and destroys their keys.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "examples" / "policies" / "wsoutsourcer.yaml"
REGISTRATION = ["email", "first_name", "last_name", "date_of_birth"]
REGISTRATION_CATEGORIES = {
    "email": "user.contact.email",
    "first_name": "user.name.first",
    "last_name": "user.name.last",
    "date_of_birth": "user.demographic.date_of_birth",
    "password": "user.authorization.password",
}


def build(data_dir: Path, total_items: int, *, database_url: str | None = None):
    """An initialised instance holding `total_items` items; returns (instance, ids of the items that expired).

    The crash test of the sweeper builds its data set with this too."""
    from vowkeep import clock, config
    from vowkeep.instance import init_instance, open_instance
    from vowkeep.policy import load_file

    env = {"VOWKEEP_DATA_DIR": str(data_dir)}
    if database_url:
        env["VOWKEEP_DATABASE_URL"] = database_url
    settings = config.from_env(env)
    init_instance(settings, load_file(POLICY))
    instance = open_instance(settings)
    now = clock.now()
    old = now - timedelta(days=60)
    gone_subjects = total_items // 4 // 5
    customers = total_items // 2 // 4
    members = (total_items - gone_subjects * 5 - customers * 4) // 5
    expired: list[str] = []
    subject_rows, item_rows, index_rows, key_rows, consent_rows = [], [], [], [], []
    keyring = instance.keystore.keyring
    blob = os.urandom(64)

    def subject(kind: str) -> str:
        sid = uuid.uuid4().hex
        activity = old if kind == "gone" else now
        subject_rows.append(
            dict(
                id=sid,
                state="active",
                created_at=old,
                created_via="inquiry" if kind == "gone" else "registration",
                policy_version=1,
                last_activity_at=activity,
            )
        )
        kek_id, wrapped = keyring.wrap(os.urandom(32), sid)
        key_rows.append(dict(subject_id=sid, wrapped=wrapped, kek_id=kek_id, created_at=old))
        return sid

    def item(sid: str, field: str, category: str, point: str, purposes: str, collected, *, index=False) -> str:
        iid = uuid.uuid4().hex
        item_rows.append(
            dict(
                id=iid,
                subject_id=sid,
                category=category,
                field=field,
                collection_point=point,
                purposes=purposes,
                policy_version=1,
                collected_at=collected,
                updated_at=collected,
                ciphertext=blob,
            )
        )
        if index:
            index_rows.append(dict(kind="email", digest=os.urandom(32), subject_id=sid, item_id=iid))
        return iid

    registration = "account service_messages partner_offers"
    for n in range(gone_subjects):
        sid = subject("gone")
        expired.append(item(sid, "email", "user.contact.email", "inquiry", "support", old, index=True))
        expired += [item(sid, "message", "user.content.private", "inquiry", "support", old) for _ in range(4)]
        if n % 1000 == 999:
            flush(instance, subject_rows, item_rows, index_rows, key_rows, consent_rows)
    for n in range(customers):
        sid = subject("customer")
        item(sid, "email", "user.contact.email", "registration", registration, now, index=True)
        item(sid, "first_name", "user.name.first", "registration", registration, now)
        expired.append(item(sid, "card_token", "user.payment.card_token", "purchase", "transaction", old))
        expired.append(item(sid, "address", "user.contact.address", "purchase", "transaction", old))
        if n % 10 == 0:
            consent_rows.append(
                dict(
                    subject_id=sid,
                    purpose="partner_offers",
                    choice="refused",
                    method="form",
                    policy_version=1,
                    evidence={},
                    recorded_at=old,
                )
            )
        if n % 1000 == 999:
            flush(instance, subject_rows, item_rows, index_rows, key_rows, consent_rows)
    for n in range(members):
        sid = subject("member")
        for i, field in enumerate([*REGISTRATION, "password"]):
            item(sid, field, REGISTRATION_CATEGORIES[field], "registration", registration, now, index=i == 0)
        if n % 1000 == 999:
            flush(instance, subject_rows, item_rows, index_rows, key_rows, consent_rows)
    flush(instance, subject_rows, item_rows, index_rows, key_rows, consent_rows)
    return instance, expired


def flush(instance, subject_rows, item_rows, index_rows, key_rows, consent_rows) -> None:
    from vowkeep.store.keystore_tables import data_keys
    from vowkeep.store.tables import blind_index, consent_records, items, subjects

    with instance.engine.begin() as conn:
        for table, rows in (
            (subjects, subject_rows),
            (items, item_rows),
            (blind_index, index_rows),
            (consent_records, consent_rows),
        ):
            if rows:
                conn.execute(insert(table), rows)
                rows.clear()
    if key_rows:
        with instance.keystore_engine.begin() as conn:
            conn.execute(insert(data_keys), key_rows)
        key_rows.clear()


def raw_delete(db_file: Path, expired: list[str]) -> float:
    """Seconds for one DELETE of the expired rows, with vowkeep's own SQLite settings (WAL, secure_delete, FKs)."""
    from vowkeep.store.engine import SQLITE_PRAGMAS

    conn = sqlite3.connect(db_file, isolation_level=None)
    for pragma in SQLITE_PRAGMAS:
        conn.execute(pragma)
    conn.execute("CREATE TEMP TABLE doomed (id TEXT PRIMARY KEY)")
    conn.executemany("INSERT INTO doomed VALUES (?)", ((i,) for i in expired))
    started = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    deleted = conn.execute("DELETE FROM items WHERE id IN (SELECT id FROM doomed)").rowcount
    conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    conn.close()
    assert deleted == len(expired), (deleted, len(expired))
    return seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000, help="items in the data set (default 1,000,000)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    args = parser.parse_args(argv)

    from vowkeep.retention.sweeper import sweep

    work = Path(tempfile.mkdtemp(prefix="vowkeep-bench-sweep-"))
    try:
        started = time.perf_counter()
        instance, expired = build(work / "data", args.items)
        print(f"built {args.items:,} items ({len(expired):,} expired) in {time.perf_counter() - started:.1f} s")
        instance.close()
        db_file = work / "data" / "vowkeep.db"
        baseline = work / "raw.db"
        con = sqlite3.connect(db_file)
        con.execute(f"VACUUM INTO '{baseline}'")
        con.close()
        raw_seconds = raw_delete(baseline, expired)

        from vowkeep import config
        from vowkeep.instance import open_instance

        instance = open_instance(config.from_env({"VOWKEEP_DATA_DIR": str(work / "data")}))
        summary = sweep(instance.vault)
        instance.close()
        assert summary.items_removed == len(expired), (summary.items_removed, len(expired))

        raw_rate = len(expired) / raw_seconds
        sweep_rate = summary.items_removed / summary.seconds
        print()
        print(f"| {'run':<48} | {'items deleted':>13} | {'seconds':>8} | {'items/s':>10} | {'vs raw':>7} |")
        print(f"|{'-' * 50}|{'-' * 15}:|{'-' * 9}:|{'-' * 11}:|{'-' * 8}:|")
        print(
            f"| {'raw DELETE of the expired rows (one statement)':<48} | {len(expired):>13,} | {raw_seconds:>8.2f} "
            f"| {raw_rate:>10,.0f} | {'100 %':>7} |"
        )
        print(
            f"| {'vowkeep sweep (SQL ends, holds, audit, shred)':<48} | {summary.items_removed:>13,} | "
            f"{summary.seconds:>8.2f} | {sweep_rate:>10,.0f} | {100 * sweep_rate / raw_rate:>5.0f} % |"
        )
        print()
        print(
            f"sweep: {summary.batches} batches, {summary.subjects_closed:,} subjects closed, "
            f"{summary.keys_destroyed:,} keys destroyed; targets: >= 20,000 items/s and >= 30 % of raw"
        )
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
