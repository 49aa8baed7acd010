"""A real Worker for ``dlq_tasks`` inside a test (from naq_core.testing), and reading the DLQ."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from naq_core import Queue
from naq_core.testing import worker as _testing
from naq_core.testing.worker import eventually
from naq_dlq_stream import DeadLetterStore, LetterFilter, StoredLetter

__all__ = ["dlq_store", "eventually", "running_worker", "wait_for_letters"]

#: ``async with running_worker(url, queues, **options) as worker:`` runs ``dlq_tasks``.
running_worker = partial(_testing.running_worker, tasks=("dlq_tasks",))


@asynccontextmanager
async def dlq_store(url: str) -> AsyncIterator[DeadLetterStore]:
    async with Queue(nats_url=url) as queue:
        yield DeadLetterStore(await queue.connection())


async def wait_for_letters(
    store: DeadLetterStore, queue: str, count: int, timeout: float = 10.0
) -> list[StoredLetter]:
    """The letters of ``queue`` once there are at least ``count`` of them."""
    found: list[StoredLetter] = []

    async def enough() -> bool:
        nonlocal found
        found = await store.list(LetterFilter(queue=queue), limit=None)
        return len(found) >= count

    await eventually(enough, timeout, interval=0.05)
    return found
