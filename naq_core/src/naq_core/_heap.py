"""Giving a worker's freed memory back to the system once it goes idle.

A burst (a stall of nats-server, records waiting for their store reply, a large batch)
raises a worker's memory for a moment; the objects are freed within a second, but glibc's
malloc keeps the freed pages in its heap, so the resident size steps up and stays up.
``malloc_trim(0)`` hands them back. It walks the heap (a few milliseconds for a worker's),
so it runs only when the worker has just gone idle, at most every :data:`TRIM_EVERY`
seconds. Elsewhere (no glibc: musl, macOS, Windows) there is nothing to call and nothing
is done.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
import time
from collections.abc import Callable

__all__ = ["TRIM_EVERY", "HeapTrimmer", "malloc_trim"]

#: Seconds between two trims at most.
TRIM_EVERY = 10.0


def _find_malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
        return None
    return trim


#: glibc's ``malloc_trim`` where there is one, else ``None``.
malloc_trim = _find_malloc_trim()


class HeapTrimmer:
    """Trims the heap on the first idle tick after some work, at most every ``every`` s."""

    def __init__(self, every: float = TRIM_EVERY) -> None:
        self.every = every
        self.trims = 0  # how many times the heap was trimmed
        self._work_seen = 0  # the work count at the last trim
        self._last = -every

    def tick(self, *, idle: bool, work: int) -> bool:
        """Called by the worker's sweep with whether it holds no message and a count of the
        work it has done (messages handled); whether it trimmed now."""
        if not idle or work == self._work_seen or malloc_trim is None:
            return False
        now = time.monotonic()
        if now - self._last < self.every:
            return False
        self._work_seen, self._last = work, now
        malloc_trim(0)
        self.trims += 1
        return True
