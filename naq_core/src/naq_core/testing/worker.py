"""A real :class:`~naq_core.worker.Worker` inside a test, and waiting for a condition, bounded.

::

    from naq_core.testing.worker import eventually, running_worker


    async def test_the_job_runs(nats_url):
        async with Queue("q", nats_url) as queue, running_worker(nats_url, "q", tasks=["myapp.tasks"]):
            job = await queue.enqueue("myapp.tasks:add", 2, 3)
            assert await queue.fetch_job_result(job, timeout=10) == 5

Every wait has a timeout, so a test that goes wrong fails instead of hanging. The waits
must be awaited; one that is not (``assert wait_until(...)``) raises or warns instead of
passing without waiting.
:func:`running_worker` runs the worker on the test's event loop; :func:`worker_thread`
runs it on a loop of its own in a thread, for synchronous tests (or tests that start and
end event loops of their own).
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
import traceback
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Generator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from naq_core.worker import Worker

__all__ = ["Waiting", "eventually", "running_worker", "wait_until", "worker_thread"]

#: How long a worker may take to reach ``running``, and to stop once asked, in seconds
#: (to stop: this beyond its ``shutdown_timeout``, the grace its running jobs get).
START_TIMEOUT = 15.0
STOP_TIMEOUT = 30.0


def _stop_timeout(worker: Worker) -> float:
    return worker.config.shutdown_timeout + STOP_TIMEOUT


def _not_stopped(worker: Worker, thread: threading.Thread | None = None) -> str:
    """Why a stop took too long: the steps that ended, and where the worker's thread is."""
    where = ""
    frame = sys._current_frames().get(thread.ident) if thread and thread.ident else None
    if frame is not None:
        where = "\n" + "".join(traceback.format_stack(frame))
    return f"worker did not stop within {_stop_timeout(worker)} s; steps so far: {worker.stop_steps}{where}"


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
        try:
            await asyncio.wait_for(task, timeout=_stop_timeout(worker))
        except TimeoutError:
            raise AssertionError(_not_stopped(worker)) from None


@contextmanager
def worker_thread(nats_url: str, queues: str | Sequence[str], **options: Any) -> Iterator[Worker]:
    """A :class:`Worker` on its own event loop in a daemon thread, for the ``with`` block.

    Options as for :func:`running_worker`. Fails if the worker is not ``running`` within
    :data:`START_TIMEOUT`, does not stop within its ``shutdown_timeout`` plus
    :data:`STOP_TIMEOUT`, or ended with an error.
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
        thread.join(_stop_timeout(worker))
        assert not thread.is_alive(), _not_stopped(worker, thread)
    assert not failures, failures


class Waiting:
    """What :func:`wait_until` and :func:`eventually` return: a wait that starts when awaited.

    Forgetting ``await`` is loud instead of a silent no-op: ``assert wait_until(...)`` or
    ``if eventually(...)`` raise ``TypeError`` ("did you forget await?"), and a wait that is
    dropped without being awaited warns (``RuntimeWarning``) when it is collected.
    """

    def __init__(self, name: str, start: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self._name = name
        self._start: Callable[[], Coroutine[Any, Any, None]] | None = start

    def __await__(self) -> Generator[Any, None, None]:
        start, self._start = self._start, None
        if start is None:
            raise RuntimeError(f"this {self._name}(...) was already awaited; call it again")
        return start().__await__()

    def __bool__(self) -> bool:
        self._start = None  # reported here: no second complaint when collected
        raise TypeError(
            f"{self._name}(...) must be awaited: did you forget await? "
            f"(`await {self._name}(...)`; `assert` or `if` on it never waits)"
        )

    def __del__(self) -> None:
        if getattr(self, "_start", None) is not None:
            warnings.warn(
                f"{self._name}(...) was never awaited, so nothing was waited for: did you forget await?",
                RuntimeWarning,
                stacklevel=2,
            )


def wait_until(predicate: Callable[[], object], timeout: float = 10.0, interval: float = 0.01) -> Waiting:
    """Wait for ``predicate()`` to be true; ``TimeoutError`` after ``timeout`` seconds.

    Await it: ``await wait_until(lambda: worker.status == "running")``.
    """

    async def wait() -> None:
        async with asyncio.timeout(timeout):
            while not predicate():  # noqa: ASYNC110 - polling is the point: no event to wait on
                await asyncio.sleep(interval)

    return Waiting("wait_until", wait)


def eventually(
    check: Callable[[], Awaitable[object]], timeout: float = 10.0, interval: float = 0.02
) -> Waiting:
    """Wait for the coroutine function ``check()`` to return true; ``TimeoutError`` after ``timeout``.

    Await it: ``await eventually(queue_is_empty)``.
    """

    async def wait() -> None:
        async with asyncio.timeout(timeout):
            while not await check():  # noqa: ASYNC110 - polling is the point: no event to wait on
                await asyncio.sleep(interval)

    return Waiting("eventually", wait)
