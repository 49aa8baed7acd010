"""Running a real Worker inside a test, bounded in time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from naq_core import Worker


@asynccontextmanager
async def running_worker(url: str, queues: str | list[str], **options: Any) -> AsyncIterator[Worker]:
    """A worker for ``worker_tasks`` on ``queues``; stopped (bounded) when the block ends."""
    options.setdefault("tasks", ["worker_tasks"])
    options.setdefault("install_signal_handlers", False)
    worker = Worker(queues, url, **options)
    task = asyncio.create_task(worker.run())
    try:
        await wait_until(lambda: worker.status == "running" or task.done(), timeout=15)
        if task.done():
            task.result()  # raise what stopped it
        yield worker
    finally:
        worker.request_stop()
        await asyncio.wait_for(task, timeout=30)


async def wait_until(predicate: Any, timeout: float = 10.0, interval: float = 0.01) -> None:
    """Wait for ``predicate()`` to be true, failing after ``timeout`` seconds."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(interval)


async def eventually(check: Any, timeout: float = 10.0, interval: float = 0.02) -> None:
    """Wait for the coroutine function ``check()`` to return true, bounded in time."""
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(interval)
