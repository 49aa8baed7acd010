"""The tasks the benchmark's workers run: no work at all, so only naq's own cost shows."""

from __future__ import annotations

import time
from typing import Any

import nats

_reply_conns: dict[str, Any] = {}  # nats URL -> this worker's own connection for replies

__all__ = ["noop", "noop_sync", "stamp", "stamp_to"]


async def noop() -> None:
    """An async no-op: runs on the worker's event loop."""


def noop_sync() -> None:
    """A sync no-op: runs in the worker's thread pool (the cost of the thread hop shows)."""


async def stamp(enqueued_at: float) -> float:
    """Seconds from ``enqueued_at`` (the producer's ``time.time()``) to this task starting."""
    return time.time() - enqueued_at


async def stamp_to(url: str, reply: str) -> float:
    """The ``time.time()`` this task started, also published on ``reply`` (core NATS) over
    a connection of the task's own (made once): the producer waits on a subscription made
    before it enqueued, so nothing of its own runs while the job is on its way (the same
    method as the taskiq-nats measurement). Read before the publish: not in the delay."""
    started = time.time()
    nc = _reply_conns.get(url)
    if nc is None:
        nc = _reply_conns[url] = await nats.connect(url, name="naq-bench-stamp")
    await nc.publish(reply, repr(started).encode())
    return started
