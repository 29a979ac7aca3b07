"""The durable job queue: a job row is written in the same transaction as the change that causes it.

Workers claim due jobs under a lease; on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so any number of workers on
any number of machines share one queue, and on SQLite under the database's single write lock. A job whose worker
died is claimed again when its lease runs out; a failing job is retried with exponential backoff, then marked
dead with its last error. Handlers must therefore be idempotent.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from vowkeep import clock
from vowkeep.store.tables import jobs

DEFAULT_LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    payload: dict
    attempts: int
    max_attempts: int
    created_at: datetime


def enqueue(
    conn: Connection,
    *,
    kind: str,
    payload: dict | None = None,
    run_at: datetime | None = None,
    max_attempts: int = 8,
    unique_key: str | None = None,
) -> int | None:
    """Queue a job in the caller's transaction. With `unique_key`, a second job of the same key is not added."""
    now = clock.now()
    values = dict(
        kind=kind,
        payload=payload or {},
        state="queued",
        run_at=run_at or now,
        attempts=0,
        max_attempts=max_attempts,
        created_at=now,
        unique_key=unique_key,
    )
    if unique_key is None:
        return conn.execute(insert(jobs).values(**values)).inserted_primary_key[0]
    if conn.execute(select(jobs.c.id).where(jobs.c.unique_key == unique_key)).first() is not None:
        return None
    savepoint = conn.begin_nested()
    try:
        job_id = conn.execute(insert(jobs).values(**values)).inserted_primary_key[0]
    except IntegrityError:
        # Another process queued the same unique job first.
        savepoint.rollback()
        return None
    savepoint.commit()
    return job_id


def claim(engine: Engine, *, worker: str, kinds: list[str] | None = None, lease: timedelta = DEFAULT_LEASE):
    """Take the next due job (or one whose worker's lease ran out); None when nothing is due."""
    now = clock.now()
    due = or_(
        and_(jobs.c.state == "queued", jobs.c.run_at <= now),
        and_(jobs.c.state == "running", jobs.c.locked_until < now),
    )
    query = select(jobs).where(due).order_by(jobs.c.run_at, jobs.c.id).limit(1)
    if kinds:
        query = query.where(jobs.c.kind.in_(kinds))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        row = conn.execute(query).first()
        if row is None:
            return None
        conn.execute(
            update(jobs)
            .where(jobs.c.id == row.id)
            .values(state="running", locked_by=worker, locked_until=now + lease, attempts=row.attempts + 1)
        )
    return Job(row.id, row.kind, row.payload, row.attempts + 1, row.max_attempts, row.created_at)


def complete(conn: Connection, *, job: Job) -> None:
    """Mark a job done (in the transaction that did its work, when it has one)."""
    conn.execute(
        update(jobs).where(jobs.c.id == job.id).values(state="done", finished_at=clock.now(), locked_until=None)
    )


def fail(engine: Engine, *, job: Job, error: str) -> bool:
    """Record a failure; retry later with backoff, or mark the job dead. True if it will be retried."""
    now = clock.now()
    retry = job.attempts < job.max_attempts
    delay = min(5 * 2 ** (job.attempts - 1), 3600) * random.uniform(0.8, 1.2)
    with engine.begin() as conn:
        conn.execute(
            update(jobs)
            .where(jobs.c.id == job.id)
            .values(
                state="queued" if retry else "dead",
                run_at=now + timedelta(seconds=delay) if retry else now,
                locked_by=None,
                locked_until=None,
                last_error=error[:2000],
                finished_at=None if retry else now,
            )
        )
    return retry


def counts(conn: Connection) -> dict[str, int]:
    """How many jobs are in each state."""
    return dict(conn.execute(select(jobs.c.state, func.count()).group_by(jobs.c.state)).all())
