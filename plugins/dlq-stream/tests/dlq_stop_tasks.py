"""Tasks of the busy-stop test: short jobs, sync (thread pool) and async, some failing."""

from __future__ import annotations

import asyncio
import time


def slow_sync(n: int) -> int:
    """A job that holds a thread for a moment."""
    time.sleep(0.05)
    return n


async def slow_async(n: int) -> int:
    await asyncio.sleep(0.05)
    return n


def fail_sync(n: int) -> None:
    """Dead-lettered (``failed``) at once: the sink is busy too."""
    raise ValueError(f"job {n} fails")
