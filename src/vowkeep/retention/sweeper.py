"""The retention sweeper (RET-1, RET-2, RET-3): deletes or anonymises what no purpose and no hold keeps any more.

It runs as the `retention.sweep` job every hour and as `vowkeep sweep [--dry-run]`. Work is found from the data
itself — items past every purpose's retention (SQL, see `ends`), minus those an open hold covers — and done in
batches in the table's own order, each one transaction: the items and their index rows go, one audit record says
how many of which subject's items went and why, and the subjects the batch leaves with nothing are closed. Data
keys are destroyed only after their subject's batch has committed, and a last pass destroys any key whose subject
is closed with nothing left (a crash between the commit and the shredding) or that belongs to no subject at all
(a collection that rolled back). Killed at any point and run again, the sweep ends as if it had run once: nothing
is ever half-deleted.

Anonymise (`then: anonymise`): an item is replaced by a non-identifying contribution to `anonymised_counts` —
its category, a generalised value (a date becomes its year; a country, a declared choice or a yes/no stays; a
postal code keeps its first two characters; anything else keeps nothing but `*`) and the month — with no subject,
no item and nothing finer than the month; then it is deleted like any expired item. An item collected for
several purposes is anonymised when any of them declares `anonymise`, since what is kept identifies nobody.
An erased subject's items are never anonymised: they are deleted when the last hold on them ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import Connection, and_, bindparam, case, exists, func, insert, literal_column, select, update

from vowkeep import clock
from vowkeep.policy.model import FieldType, Policy, RetentionAction
from vowkeep.policy.taxonomy import covers
from vowkeep.retention import ends
from vowkeep.store.tables import anonymised_counts, holds, items, subjects
from vowkeep.vault.actors import Actor
from vowkeep.vault.gate import ItemValue, Vault

SWEEPER = Actor.system("sweeper")
BATCH_SIZE = 5000
# A data key with no subject row is left by a collection that rolled back — or belongs to one still running:
# only keys older than this are taken for leftovers.
ORPHAN_KEY_GRACE = timedelta(hours=1)
ID_SPACE = 16**8
# Keys of closed subjects are destroyed after their batch commits, this many at a time (and at the end).
SHRED_EVERY = 20_000


@dataclass
class SweepSummary:
    """What a sweep did (or, dry, would do)."""

    dry_run: bool
    items_deleted: int = 0
    items_anonymised: int = 0
    items_held: int = 0
    subjects_closed: int = 0
    keys_destroyed: int = 0
    batches: int = 0
    seconds: float = 0.0
    by_category: dict[str, int] = field(default_factory=dict)

    @property
    def items_removed(self) -> int:
        return self.items_deleted + self.items_anonymised

    def as_dict(self) -> dict:
        return {**asdict(self), "items_removed": self.items_removed}


Progress = Callable[[float, SweepSummary], None]


def sweep(
    vault: Vault,
    *,
    actor: Actor = SWEEPER,
    dry_run: bool = False,
    subject_id: str | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
) -> SweepSummary:
    """Sweep every subject (or one): expire, anonymise, close and shred what retention no longer allows."""
    started = time.perf_counter()
    summary = SweepSummary(dry_run=dry_run)
    policy = vault.policy
    now = clock.now()
    pages = _Pages(policy, now)
    closed: list[str] = []  # subjects whose batch has committed: their keys go next
    leaving: dict[str, int] = {}  # a dry run deletes nothing, so it counts what would have gone per subject
    try:
        with _connection(vault) as own:
            after, last = pages.start(own)
            while True:
                with _unit(vault, own, dry_run) as conn:
                    rows = pages.expired(conn, after=after, limit=batch_size, subject_id=subject_id)
                    if not rows:
                        break
                    after = rows[-1].key
                    emptied = _batch(
                        conn,
                        vault,
                        policy,
                        rows,
                        actor=actor,
                        now=now,
                        summary=summary,
                        dry_run=dry_run,
                        leaving=leaving,
                    )
                closed += emptied
                summary.batches += 1
                if len(closed) >= SHRED_EVERY and not dry_run:
                    summary.keys_destroyed += vault.shred_many(closed, fold_wal=False)
                    closed = []
                if progress is not None:
                    progress(pages.fraction(after, last), summary)
                if len(rows) < batch_size:
                    break
    finally:
        if closed and not dry_run:
            summary.keys_destroyed += vault.shred_many(closed, fold_wal=False)
    if dry_run:
        summary.keys_destroyed += len(closed)
    summary.keys_destroyed += shred_leftovers(vault, dry_run=dry_run, subject_id=subject_id, now=now)
    if not dry_run:
        vault.fold_wal()
    summary.seconds = time.perf_counter() - started
    if progress is not None:
        progress(1.0, summary)
    return summary


# SQLite settings of the sweep's own connection, and the defaults it is given back with: a larger page cache for
# the scan and the deletes, and the WAL folded every 400 MB and at the end rather than at every batch's commit
# (a page the deletes touch in many batches is then copied back once, not once per batch: the sweep runs about a
# third faster). Another writer committing meanwhile may fold the WAL itself, as SQLite always lets it.
_SQLITE_SWEEP = {"cache_size": -65536, "wal_autocheckpoint": 100_000}
_SQLITE_DEFAULT = {"cache_size": -2000, "wal_autocheckpoint": 1000}


@contextmanager
def _connection(vault: Vault) -> Iterator[Connection]:
    """The one connection a sweep runs its batches on."""
    conn = vault.engine.connect()
    sqlite = conn.dialect.name == "sqlite"
    try:
        if sqlite:
            _pragmas(conn, _SQLITE_SWEEP)
        yield conn
    finally:
        if sqlite:
            _pragmas(conn, _SQLITE_DEFAULT)
        conn.close()


def _pragmas(conn: Connection, values: dict[str, int]) -> None:
    raw = conn.connection.dbapi_connection
    for name, value in values.items():
        raw.execute(f"PRAGMA {name}={int(value)}")


@contextmanager
def _unit(vault: Vault, conn: Connection, dry_run: bool) -> Iterator[Connection]:
    """A unit of work for a batch: the gate's transaction, or a read-only one for a dry run."""
    if not dry_run:
        with vault.transaction(connection=conn) as work:
            yield work
        return
    try:
        with conn.begin():
            yield conn
    finally:
        if conn.in_transaction():
            conn.rollback()


class _Row(NamedTuple):
    key: object
    id: str
    subject_id: str
    category: str
    purposes: str
    state: str


class _Pages:
    """Expired items, a page at a time in the table's own order — keyset paging on SQLite's rowid, on PostgreSQL's
    primary key — so that each page of the table is read, and rewritten by the deletes, once per sweep. A subject
    whose items fall on two pages loses them in two batches, and is closed by the batch that empties it.

    The query and its retention conditions are built and compiled once per sweep, then run on the connection's own
    cursor: every item is read at each sweep."""

    def __init__(self, policy: Policy, now: datetime):
        self.policy, self.now = policy, now
        self._compiled: dict[tuple, tuple[str, object]] = {}

    @staticmethod
    def _key(dialect: str):
        return literal_column("items.rowid") if dialect == "sqlite" else items.c.id

    def start(self, conn: Connection) -> tuple[object, object]:
        """The key before the first item, and the last key (for progress)."""
        if conn.dialect.name != "sqlite":
            return "", None
        try:
            return 0, conn.execute(select(func.max(literal_column("rowid"))).select_from(items)).scalar() or 0
        finally:
            conn.rollback()

    def fraction(self, key, last) -> float:
        if isinstance(key, int):
            return min(key / last, 1.0) if last else 1.0
        text = str(key)
        if len(text) >= 8 and all(c in "0123456789abcdef" for c in text[:8]):
            return min(int(text[:8], 16) / ID_SPACE, 1.0)
        return 0.0

    def _query(self, dialect: str, *, subject: bool):
        key = self._key(dialect)
        query = (
            select(key, items.c.id, items.c.subject_id, items.c.category, items.c.purposes, subjects.c.state)
            .select_from(items.join(subjects, subjects.c.id == items.c.subject_id))
            .where(ends.expired(self.policy, self.now), key > bindparam("after"))
            .order_by(key)
            .limit(bindparam("limit"))
        )
        if subject:
            query = query.where(items.c.subject_id == bindparam("subject_id"))
        return query

    def expired(self, conn: Connection, *, after, limit: int, subject_id: str | None) -> list[_Row]:
        shape = (subject_id is not None, conn.dialect.name)
        if shape not in self._compiled:
            compiled = self._query(shape[1], subject=shape[0]).compile(dialect=conn.dialect)
            self._compiled[shape] = (str(compiled), compiled)
        text, compiled = self._compiled[shape]
        given = {"after": after, "limit": limit, "subject_id": subject_id}
        values = compiled.construct_params({k: v for k, v in given.items() if v is not None})
        for name, processor in compiled._bind_processors.items():
            if name in values:
                values[name] = processor(values[name])
        names = compiled.positiontup
        params = tuple(values[n] for n in names) if names else values
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            cursor.execute(text, params)
            return [_Row(*row) for row in cursor.fetchall()]
        finally:
            cursor.close()


def _open_holds(conn: Connection, subject_ids: list[str], now: datetime) -> dict[str, list[tuple[str, ...]]]:
    """The categories each subject's open holds cover (usually none: holds are few)."""
    open_ = and_(holds.c.released_at.is_(None), holds.c.ends_at > now)
    if conn.execute(select(holds.c.id).where(open_).limit(1)).first() is None:
        return {}
    found: dict[str, list[tuple[str, ...]]] = {}
    for start in range(0, len(subject_ids), 5000):
        chunk = subject_ids[start : start + 5000]
        for row in conn.execute(
            select(holds.c.subject_id, holds.c.categories).where(holds.c.subject_id.in_(chunk), open_)
        ):
            found.setdefault(row.subject_id, []).append(tuple(row.categories.split()))
    return found


def _batch(
    conn,
    vault: Vault,
    policy: Policy,
    rows,
    *,
    actor: Actor,
    now,
    summary: SweepSummary,
    dry_run: bool,
    leaving: dict[str, int],
):
    """One batch, in its unit of work; returns the subjects it emptied, whose keys go once it has committed."""
    subject_ids = sorted({r.subject_id for r in rows})
    held_by = _open_holds(conn, subject_ids, now)
    anonymising = {p.key for p in policy.purposes if p.retention.then == RetentionAction.anonymise}
    expire_live, expire_erased, anonymise = [], [], {}
    by_category = summary.by_category
    for r in rows:
        if held_by and any(any(covers(c, r.category) for c in cats) for cats in held_by.get(r.subject_id, ())):
            summary.items_held += 1
            continue
        by_category[r.category] = by_category.get(r.category, 0) + 1
        if r.state == "erased":
            expire_erased.append((r.id, r.subject_id, r.category))
        elif anonymising and anonymising & set(r.purposes.split()):
            anonymise.setdefault(r.subject_id, []).append(r.id)
        else:
            expire_live.append((r.id, r.subject_id, r.category))
    touched = {r[1] for r in expire_live} | {r[1] for r in expire_erased} | set(anonymise)
    erased = {r.subject_id for r in rows if r.state == "erased"}
    if dry_run:
        for r in expire_live + expire_erased:
            leaving[r[1]] = leaving.get(r[1], 0) + 1
        for subject_id, ids in anonymise.items():
            leaving[subject_id] = leaving.get(subject_id, 0) + len(ids)
        emptied = _emptied(conn, touched, leaving)
        summary.items_deleted += len(expire_live) + len(expire_erased)
        summary.items_anonymised += sum(len(v) for v in anonymise.values())
        summary.subjects_closed += len([s for s in emptied if s not in erased])
        return emptied
    vault.expire_items(conn, actor=actor, rows=expire_live, reason="retention")
    vault.expire_items(conn, actor=actor, rows=expire_erased, reason="hold-ended")
    summary.items_deleted += len(expire_live) + len(expire_erased)
    contributions: dict[tuple[str, str], int] = {}
    for subject_id, item_ids in anonymise.items():
        kept = vault.anonymise_items(
            conn,
            actor=actor,
            subject_id=subject_id,
            item_ids=item_ids,
            generalise=lambda v: generalise(policy, v),
            reason="retention",
        )
        for category, value in kept:
            key = (category, value or "*")
            contributions[key] = contributions.get(key, 0) + 1
        summary.items_anonymised += len(kept)
    _count_anonymised(conn, contributions, now.date().replace(day=1))
    emptied = _emptied(conn, touched, {})
    if not emptied:
        return []
    summary.subjects_closed += len([s for s in emptied if s not in erased])
    return vault.close_subjects(conn, actor=actor, subject_ids=emptied, reason="retention", defer_shred=True)


def _emptied(conn: Connection, subject_ids: set[str], leaving: dict[str, int]) -> list[str]:
    """Of these subjects, those with no item left once `leaving` (items per subject) are gone."""
    if not subject_ids:
        return []
    ordered = sorted(subject_ids)
    left: dict[str, int] = {}
    for start in range(0, len(ordered), 5000):
        chunk = ordered[start : start + 5000]
        left.update(
            conn.execute(
                select(items.c.subject_id, func.count())
                .where(items.c.subject_id.in_(chunk))
                .group_by(items.c.subject_id)
            ).all()
        )
    return [s for s in ordered if left.get(s, 0) <= leaving.get(s, 0)]


def _count_anonymised(conn: Connection, contributions: dict[tuple[str, str], int], month: date) -> None:
    for (category, value), count in sorted(contributions.items()):
        changed = conn.execute(
            update(anonymised_counts)
            .where(
                anonymised_counts.c.month == month,
                anonymised_counts.c.category == category,
                anonymised_counts.c.value == value,
            )
            .values(count=anonymised_counts.c.count + count)
        ).rowcount
        if not changed:
            conn.execute(insert(anonymised_counts).values(month=month, category=category, value=value, count=count))


def generalise(policy: Policy, item: ItemValue) -> str | None:
    """A value that identifies nobody, or None to keep only the count (see the module's docstring)."""
    point = policy.collection_point_by_key.get(item.collection_point)
    spec = next((f for f in point.fields if f.name == item.field), None) if point else None
    value = item.value
    if spec is None or value is None:
        return None
    kind = spec.type
    if kind == FieldType.date and isinstance(value, str) and len(value) >= 4:
        return value[:4]
    if kind in (FieldType.country, FieldType.choice, FieldType.card_brand):
        return str(value)[:64]
    if kind == FieldType.boolean:
        return "yes" if value else "no"
    if kind == FieldType.postal_code and isinstance(value, str):
        return value[:2] + "*"
    return None


def shred_leftovers(vault: Vault, *, dry_run: bool = False, subject_id: str | None = None, now=None) -> int:
    """Destroy keys whose subject is closed with nothing left, or that belong to no subject (older than the
    grace period): what a crash between a commit and its shredding, or a rolled-back collection, leaves behind."""
    now = now or clock.now()
    if subject_id is not None:
        keyed = [subject_id] if vault.keystore.has_data_key(subject_id) else []
    else:
        keyed = list(vault.keystore.subject_ids_with_keys())
    doomed: list[str] = []
    # Only an erased subject's items are looked for: a live subject's key is never a leftover.
    has_items = case((subjects.c.state == "erased", exists().where(items.c.subject_id == subjects.c.id)), else_=True)
    with vault.engine.connect() as conn:
        for start in range(0, len(keyed), 5000):
            chunk = keyed[start : start + 5000]
            found = {
                row.id: (row.state, row.has_items)
                for row in conn.execute(
                    select(subjects.c.id, subjects.c.state, has_items.label("has_items")).where(
                        subjects.c.id.in_(chunk)
                    )
                )
            }
            doomed += [s for s in chunk if s in found and found[s][0] == "erased" and not found[s][1]]
            orphans = [s for s in chunk if s not in found]
            if orphans:
                ages = vault.keystore.key_ages(orphans)
                doomed += [s for s in orphans if s in ages and ages[s] < now - ORPHAN_KEY_GRACE]
    if not doomed or dry_run:
        return len(doomed)
    return vault.shred_many(doomed)
