"""Group commit for the tracking beacon: one thread writes the events of many concurrent beacons in one transaction.

A beacon costs little but its commit; committed one by one, concurrent beacons would also queue for SQLite's
single write lock. Here each beacon's work (the consent check and the insert) is handed to a writer thread, which
runs every waiting beacon's work in one transaction and commits once; each beacon is answered only after the
commit that holds its events. A beacon refused by its own checks changes nothing and does not affect the others.
The thread stops after a few idle seconds and starts again with the next beacon.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

from sqlalchemy import Connection, Engine

T = TypeVar("T")
IDLE_SECONDS = 5.0


class EventWriter:
    def __init__(self, engine: Engine, *, max_batch: int = 256):
        self._engine = engine
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def submit(self, work: Callable[[Connection], T]) -> Future:
        """Run `work(conn)` in the next batch; the future resolves once that batch has committed."""
        future: Future = Future()
        self._queue.put((work, future))
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="vowkeep-events", daemon=True)
                self._thread.start()
        return future

    def _run(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        self._thread = None
                        return
                continue
            batch = [first]
            while len(batch) < self._max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._write(batch)

    def _write(self, batch) -> None:
        results = []
        try:
            with self._engine.begin() as conn:
                for work, future in batch:
                    try:
                        results.append((future, work(conn), None))
                    except Exception as exc:  # a refusal of this beacon alone: it wrote nothing
                        results.append((future, None, exc))
        except Exception as exc:  # the commit failed: no beacon of the batch was stored
            for _, future in batch:
                future.set_exception(exc)
            return
        for future, value, error in results:
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(value)
