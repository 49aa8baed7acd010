"""Running a real Worker inside a test, bounded in time, and reading the DLQ."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from naq_core import Queue, Worker
from naq_dlq_stream import DeadLetterStore, LetterFilter, StoredLetter


@asynccontextmanager
async def running_worker(url: str, queues: str | list[str], **options: Any) -> AsyncIterator[Worker]:
    """A worker for ``dlq_tasks`` on ``queues``; stopped (bounded) when the block ends."""
    options.setdefault("tasks", ["dlq_tasks"])
    options.setdefault("install_signal_handlers", False)
    worker = Worker(queues, url, **options)
    task = asyncio.create_task(worker.run())
    try:
        async with asyncio.timeout(15):
            while worker.status != "running" and not task.done():
                await asyncio.sleep(0.01)
        if task.done():
            task.result()  # raise what stopped it
        yield worker
    finally:
        worker.request_stop()
        await asyncio.wait_for(task, timeout=30)


@asynccontextmanager
async def dlq_store(url: str) -> AsyncIterator[DeadLetterStore]:
    async with Queue(nats_url=url) as queue:
        yield DeadLetterStore(await queue.connection())


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    """Wait for ``check()`` to return true, failing after ``timeout`` seconds."""
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.05)


async def wait_for_letters(
    store: DeadLetterStore, queue: str, count: int, timeout: float = 10.0
) -> list[StoredLetter]:
    """The letters of ``queue`` once there are at least ``count`` of them."""
    found: list[StoredLetter] = []

    async def enough() -> bool:
        nonlocal found
        found = await store.list(LetterFilter(queue=queue), limit=None)
        return len(found) >= count

    await eventually(enough, timeout)
    return found
