"""SyncRunner: sync tasks in the worker's thread pool, outcomes handed back in batches."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import worker_tasks
from support import running_worker

from naq_core import JobFailedError, Queue
from naq_core._syncrun import SyncRunner


def _add(a: int, b: int = 0) -> int:
    return a + b


def _boom() -> None:
    raise ValueError("boom")


def _stop() -> None:
    raise StopIteration("over")


async def test_results_and_errors_come_back() -> None:
    with ThreadPoolExecutor(max_workers=4) as threads:
        runner = SyncRunner(threads)
        results = await asyncio.gather(*(runner.call(_add, (i,), {"b": 1}) for i in range(500)))
        assert results == [i + 1 for i in range(500)]
        with pytest.raises(ValueError, match="boom"):
            await runner.call(_boom, (), {})
        with pytest.raises(RuntimeError, match="StopIteration"):
            await runner.call(_stop, (), {})
        assert not runner._outcomes and not runner._wake_pending


async def test_a_call_cancelled_before_a_thread_is_free_never_runs() -> None:
    release = threading.Event()
    ran: list[str] = []
    with ThreadPoolExecutor(max_workers=1) as threads:
        runner = SyncRunner(threads)
        blocker = runner.call(release.wait, (10,), {})
        waiting = runner.call(ran.append, ("ran",), {})
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(waiting, 0.05)
        release.set()
        assert await blocker is True
    assert waiting.cancelled() and ran == []


async def test_a_timed_out_call_drops_its_late_result() -> None:
    release = threading.Event()
    with ThreadPoolExecutor(max_workers=1) as threads:
        runner = SyncRunner(threads)
        late = runner.call(release.wait, (10,), {})
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(late, 0.05)
        release.set()
        assert await runner.call(_add, (1,), {}) == 1  # the late outcome was delivered and dropped
    assert late.cancelled()


async def test_calls_dropped_by_a_pool_shutdown_are_cancelled() -> None:
    release = threading.Event()
    threads = ThreadPoolExecutor(max_workers=1)
    runner = SyncRunner(threads)
    blocker = runner.call(release.wait, (10,), {})
    dropped = runner.call(_add, (1,), {})
    threads.shutdown(wait=False, cancel_futures=True)
    with pytest.raises(asyncio.CancelledError):
        await dropped
    release.set()
    assert await blocker is True


async def test_a_worker_runs_sync_jobs_and_times_them_out(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as q, running_worker(nats_url, queue_name):
        jobs = await q.enqueue_many([(worker_tasks.multiply, (i, 2)) for i in range(50)])
        late = await q.enqueue(worker_tasks.block_for, 2.0, timeout=0.2)
        failing = await q.enqueue(worker_tasks.fail, "kaput")
        assert [await q.fetch_job_result(job, timeout=10) for job in jobs] == [i * 2 for i in range(50)]
        with pytest.raises(JobFailedError) as timed_out:
            await q.fetch_job_result(late, timeout=10)
        with pytest.raises(JobFailedError) as failed:
            await q.fetch_job_result(failing, timeout=10)
    assert timed_out.value.error_type == "JobTimeoutError"
    assert failed.value.error_type == "ValueError"
