"""Reading many keys of a KV bucket in one pass, without trusting the watcher's end marker.

nats-py's watcher signals "no more initial values" with a ``None`` that it decides from a
consumer-info snapshot taken right after the watch starts; under load that snapshot can say
"nothing pending" and the marker arrives before any value, so a reader stopping at ``None``
sees an empty bucket. Here the end is the value after which nothing is pending
(``delta == 0``), deletes included so that count is reached, and an empty match is known
before the watch starts from the stream's own subject counts.

A watch is an ephemeral JetStream consumer, and stopping nats-py's watcher only
unsubscribes: the server would keep the consumer until its inactivity threshold, and it
refuses new consumers past 1,000 on a stream. So :func:`scan` deletes its consumer when it
returns, however it returns, and asks for a short threshold in case the delete is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import nats.errors
from nats.js.kv import KeyValue

from naq_core._jetstream.natspy import kv_bucket, kv_jetstream, kv_stream, watcher_consumer

__all__ = ["bucket_is_empty", "release", "scan"]

#: Seconds the server keeps a scan's consumer if our delete never reaches it.
_INACTIVE_THRESHOLD = 30.0


async def bucket_is_empty(kv: KeyValue, pattern: str = ">") -> bool:
    """Whether no key matches ``pattern`` (from the stream's counts, no watch)."""
    status = await kv.status()
    if status.values == 0:
        return True
    if pattern == ">":
        return False
    info = await kv_jetstream(kv).stream_info(kv_stream(kv), subjects_filter=f"$KV.{kv_bucket(kv)}.{pattern}")
    return not info.state.subjects


async def scan(kv: KeyValue, pattern: str = ">", *, timeout: float = 120.0) -> list[KeyValue.Entry]:
    """The last value of every key matching ``pattern`` (deleted keys left out)."""
    if await bucket_is_empty(kv, pattern):
        return []
    watcher = await kv.watch(pattern, inactive_threshold=_INACTIVE_THRESHOLD)
    entries: list[KeyValue.Entry] = []
    try:
        async with asyncio.timeout(timeout):
            while True:
                entry = await watcher.updates(timeout=timeout)  # type: ignore[no-untyped-call]
                if entry is None:
                    continue  # nats-py's own marker: not reliable, see the module doc
                if entry.operation is None:
                    entries.append(entry)
                if not entry.delta:
                    return entries
    finally:
        await release(kv, watcher)


async def release(kv: KeyValue, watcher: Any) -> None:
    """Stop a KV watcher and delete its consumer on the server (nats-py only unsubscribes)."""
    with contextlib.suppress(TimeoutError, nats.errors.Error):
        await watcher.stop()
    consumer = watcher_consumer(watcher)
    if consumer:
        with contextlib.suppress(TimeoutError, nats.errors.Error):
            await kv_jetstream(kv).delete_consumer(kv_stream(kv), consumer)
