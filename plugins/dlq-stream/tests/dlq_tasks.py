"""Tasks the dlq-stream tests run. Module-level state lets tests observe what happened."""

from __future__ import annotations

import threading
import time

calls: dict[str, int] = {}
_lock = threading.Lock()


def _count(key: str) -> int:
    with _lock:
        calls[key] = calls.get(key, 0) + 1
        return calls[key]


def fail(message: str = "boom") -> None:
    raise ValueError(message)


def fail_first_time(key: str) -> int:
    """Fails on its first call per key; afterwards returns how many calls there were."""
    n = _count(key)
    if n == 1:
        raise RuntimeError(f"first call of {key}")
    return n


async def add(a: int, b: int) -> int:
    return a + b


def block_forever(key: str) -> None:
    """Records that it started, then blocks (the test kills the process running it)."""
    _count(key)
    while True:
        time.sleep(1)
