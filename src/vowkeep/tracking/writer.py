"""Group commit for the tracking beacon: one thread writes the events of many concurrent beacons in one transaction.

A beacon costs little but its commit; committed one by one, concurrent beacons would also queue for SQLite's
single write lock. Here each beacon's work (the consent check and the insert) is handed to a writer thread, which
runs every waiting beacon's work in one transaction and commits once; each beacon is answered only after the
commit that holds its events. A beacon refused by its own checks changes nothing and does not affect the others.
The thread stops after a few idle seconds and starts again with the next beacon. Beacons wait on asyncio futures
of their event loop, and a committed batch settles all of a loop's futures with one wake-up of that loop (one
`call_soon_threadsafe`, not one per beacon: under load those wake-ups cost the server a twentieth of its time).
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
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

    async def run(self, work: Callable[[Connection], T]) -> T:
        """Run `work(conn)` in the next batch; returns (or raises) once that batch has committed."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.put((work, future))
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="vowkeep-events", daemon=True)
                self._thread.start()
        return await future

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
        outcomes = []
        try:
            with self._engine.begin() as conn:
                for work, future in batch:
                    try:
                        outcomes.append((future, work(conn), None))
                    except Exception as exc:  # a refusal of this beacon alone: it wrote nothing
                        outcomes.append((future, None, exc))
        except Exception as exc:  # the commit failed: no beacon of the batch was stored
            outcomes = [(future, None, exc) for _, future in batch]
        by_loop: dict = {}
        for outcome in outcomes:
            by_loop.setdefault(outcome[0].get_loop(), []).append(outcome)
        for loop, settled in by_loop.items():
            # A loop that has closed (the server stopped) has nobody waiting any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, settled)


def _settle(outcomes) -> None:
    """On the beacons' event loop: hand each its result or its refusal (unless it stopped waiting)."""
    for future, value, error in outcomes:
        if future.done():
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)
