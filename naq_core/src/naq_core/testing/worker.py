"""A real :class:`~naq_core.worker.Worker` inside a test, and waiting for a condition, bounded.

::

    from naq_core.testing.worker import eventually, running_worker


    async def test_the_job_runs(nats_url):
        async with Queue("q", nats_url) as queue, running_worker(nats_url, "q", tasks=["myapp.tasks"]):
            job = await queue.enqueue("myapp.tasks:add", 2, 3)
            assert await queue.fetch_job_result(job, timeout=10) == 5

Every wait has a timeout, so a test that goes wrong fails instead of hanging.
:func:`running_worker` runs the worker on the test's event loop; :func:`worker_thread`
runs it on a loop of its own in a thread, for synchronous tests (or tests that start and
end event loops of their own).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from naq_core.worker import Worker

__all__ = ["eventually", "running_worker", "wait_until", "worker_thread"]

#: How long a worker may take to reach ``running``, and to stop once asked, in seconds.
START_TIMEOUT = 15.0
STOP_TIMEOUT = 30.0


@asynccontextmanager
async def running_worker(nats_url: str, queues: str | Sequence[str], **options: Any) -> AsyncIterator[Worker]:
    """A :class:`Worker` for ``queues`` running on this event loop for the ``async with`` block.

    ``options`` go to :class:`Worker` (``tasks=[...]``, ``concurrency=``, any setting);
    signal handlers are not installed unless asked for. The block starts once the worker
    is ``running`` (what stopped it is raised if it could not start); at its end the worker
    is asked to stop and awaited, each bounded in time.
    """
    options.setdefault("install_signal_handlers", False)
    worker = Worker(queues, nats_url, **options)
    task = asyncio.create_task(worker.run())
    try:
        await wait_until(lambda: worker.status == "running" or task.done(), timeout=START_TIMEOUT)
        if task.done():
            task.result()  # raise what stopped it
        yield worker
    finally:
        worker.request_stop()
        await asyncio.wait_for(task, timeout=STOP_TIMEOUT)


@contextmanager
def worker_thread(nats_url: str, queues: str | Sequence[str], **options: Any) -> Iterator[Worker]:
    """A :class:`Worker` on its own event loop in a daemon thread, for the ``with`` block.

    Options as for :func:`running_worker`. Fails if the worker is not ``running`` within
    :data:`START_TIMEOUT`, does not stop within :data:`STOP_TIMEOUT`, or ended with an error.
    """
    options.setdefault("install_signal_handlers", False)
    worker = Worker(queues, nats_url, **options)
    failures: list[BaseException] = []

    def run() -> None:
        try:
            worker.run_sync()
        except BaseException as exc:
            failures.append(exc)

    thread = threading.Thread(target=run, name="naq-test-worker", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT
    while worker.status != "running" and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        assert worker.status == "running", failures or f"worker did not start within {START_TIMEOUT} s"
        yield worker
    finally:
        worker.request_stop()
        thread.join(STOP_TIMEOUT)
        assert not thread.is_alive(), f"worker did not stop within {STOP_TIMEOUT} s"
    assert not failures, failures


async def wait_until(predicate: Callable[[], object], timeout: float = 10.0, interval: float = 0.01) -> None:
    """Wait for ``predicate()`` to be true; ``TimeoutError`` after ``timeout`` seconds."""
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110 - polling is the point: no event to wait on
            await asyncio.sleep(interval)


async def eventually(
    check: Callable[[], Awaitable[object]], timeout: float = 10.0, interval: float = 0.02
) -> None:
    """Wait for the coroutine function ``check()`` to return true; ``TimeoutError`` after ``timeout``."""
    async with asyncio.timeout(timeout):
        while not await check():  # noqa: ASYNC110 - polling is the point: no event to wait on
            await asyncio.sleep(interval)
