"""Group commit for standalone gated reads: many reads share one durable commit.

A gated read writes an audit record, so on its own it costs a whole write transaction, and the commit (the WAL
write) costs more than everything else the read does. Here concurrent reads run one after another on one
dedicated connection, inside one open transaction; the first reader of a batch becomes its leader and, after
letting the others join, commits for all. Every reader waits for the commit that holds its audit record before it
gets its data: nothing is ever returned whose audit record could still be lost. Alone, a read simply commits itself.

Reads change nothing but the audit log, so a denial does not undo the batch: its audit record is appended in the
shared transaction and the denial is raised to its caller once that transaction has committed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Engine

from vowkeep.vault import audit

T = TypeVar("T")


class _Outcome:
    __slots__ = ("error", "value")

    def __init__(self):
        self.value = None
        self.error: BaseException | None = None


class GroupCommit:
    def __init__(self, engine: Engine, *, prepare: Callable, flush_denials: Callable, max_batch: int = 256):
        self._engine = engine
        self._prepare = prepare  # marks the dedicated connection as a unit of work
        self._flush_denials = flush_denials
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._committed = threading.Condition(threading.Lock())
        self._conn = None
        self._trans = None
        self._batch = 0  # number of the open batch
        self._done = 0  # number of the last batch whose commit finished
        self._members = 0
        self._queued = 0
        self._leader_of = -1
        self._failure: dict[int, BaseException] = {}

    def run(self, work: Callable[[object], T]) -> T:
        """Run `work(conn)` in the shared transaction; return once that transaction has committed."""
        outcome = _Outcome()
        self._queued += 1  # approximate (no lock): only tells a leader whether yielding is worth it
        with self._lock:
            self._queued -= 1
            if self._conn is None:
                self._conn = self._engine.connect()
                self._prepare(self._conn)
            if self._trans is None:
                self._trans = self._conn.begin()
                # This connection holds the write lock for the whole batch: the audit chain's head may be cached.
                self._conn.info[audit.HEAD_CACHE] = {}
                self._batch += 1
                self._members = 0
            batch = self._batch
            try:
                outcome.value = work(self._conn)
            except BaseException as exc:  # handed back to the caller after the commit
                outcome.error = exc
            self._flush_denials(self._conn)
            self._members += 1
            leader = self._leader_of != batch
            if leader:
                self._leader_of = batch
            full = self._members >= self._max_batch
        if leader:
            self._lead(batch, full)
        self._wait_for(batch)
        if outcome.error is not None:
            raise outcome.error
        return outcome.value

    def _lead(self, batch: int, full: bool) -> None:
        # Let readers queued behind the lock join this batch before committing it: yield the GIL for as long as
        # the batch keeps growing (a few rounds at most). Alone, this costs one sleep(0).
        seen = -1
        for _ in range(16):
            if full or self._queued <= 0:
                break
            with self._lock:
                members = self._members
            if members == seen:
                break
            seen = members
            time.sleep(0)
        with self._lock:
            trans, self._trans = self._trans, None
            self._conn.info.pop(audit.HEAD_CACHE, None)
            try:
                trans.commit()
            except BaseException as exc:
                self._failure[batch] = exc
                try:
                    trans.rollback()
                except Exception:  # the connection is broken; drop it and open another next time
                    self._conn.invalidate()
                    self._conn = None
            with self._committed:
                self._done = batch
                self._committed.notify_all()

    def _wait_for(self, batch: int) -> None:
        with self._committed:
            while self._done < batch:
                self._committed.wait()
            failure = self._failure.get(batch)
        if failure is not None:
            raise failure

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
