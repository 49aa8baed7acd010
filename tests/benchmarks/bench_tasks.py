"""The tasks the benchmark's workers run: no work at all, so only naq's own cost shows."""

from __future__ import annotations

import time

__all__ = ["noop", "noop_sync", "stamp"]


async def noop() -> None:
    """An async no-op: runs on the worker's event loop."""


def noop_sync() -> None:
    """A sync no-op: runs in the worker's thread pool (the cost of the thread hop shows)."""


async def stamp(enqueued_at: float) -> float:
    """Seconds from ``enqueued_at`` (the producer's ``time.time()``) to this task starting."""
    return time.time() - enqueued_at
