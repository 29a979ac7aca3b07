"""Slowing down password guessing: after repeated failures a name or an address must wait."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque


class SignInLimiter:
    def __init__(self, *, max_failures: int = 10, window_seconds: float = 300.0):
        self.max_failures = max_failures
        self.window = window_seconds
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str) -> deque[float]:
        now = time.monotonic()
        times = self._failures[key]
        while times and now - times[0] > self.window:
            times.popleft()
        return times

    def allow(self, username: str, client: str) -> bool:
        with self._lock:
            return all(len(self._recent(k)) < self.max_failures for k in (f"u:{username}", f"c:{client}"))

    def failed(self, username: str, client: str) -> None:
        with self._lock:
            for key in (f"u:{username}", f"c:{client}"):
                self._recent(key).append(time.monotonic())

    def succeeded(self, username: str, client: str) -> None:
        with self._lock:
            self._failures.pop(f"u:{username}", None)
