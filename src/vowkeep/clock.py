"""The one source of "now" for vowkeep, so that deadlines and retention can be tested without sleeping.

Production code calls `clock.now()`; tests move time with `clock.travel_to(...)` / `clock.advance(...)` and put it
back with `clock.reset()`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_offset = timedelta(0)
_frozen: datetime | None = None


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    if _frozen is not None:
        return _frozen
    return datetime.now(UTC) + _offset


def travel_to(moment: datetime, *, frozen: bool = True) -> None:
    """Make `now()` return `moment` (frozen), or keep ticking from it."""
    global _frozen, _offset
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if frozen:
        _frozen = moment
    else:
        _frozen = None
        _offset = moment - datetime.now(UTC)


def advance(delta: timedelta) -> None:
    """Move time forward by `delta`."""
    global _frozen, _offset
    if _frozen is not None:
        _frozen = _frozen + delta
    else:
        _offset = _offset + delta


def reset() -> None:
    """Back to the real time."""
    global _frozen, _offset
    _frozen, _offset = None, timedelta(0)
