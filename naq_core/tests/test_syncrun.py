"""SyncRunner: sync tasks in the worker's own threads, outcomes handed back in batches."""

from __future__ import annotations

import asyncio
import threading

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
    runner = SyncRunner(4)
    results = await asyncio.gather(*(runner.call(_add, (i,), {"b": 1}) for i in range(500)))
    assert results == [i + 1 for i in range(500)]
    with pytest.raises(ValueError, match="boom"):
        await runner.call(_boom, (), {})
    with pytest.raises(RuntimeError, match="StopIteration"):
        await runner.call(_stop, (), {})
    assert not runner._outcomes and not runner._wake_pending and runner._outstanding == 0
    assert 1 <= runner.threads <= 4
    runner.shutdown()


async def test_threads_start_only_when_calls_wait_for_one() -> None:
    runner = SyncRunner(8)
    for i in range(20):  # one call at a time never needs a second thread
        assert await runner.call(_add, (i,), {}) == i
    assert runner.threads == 1
    release = threading.Event()
    blocked = [runner.call(release.wait, (10,), {}) for _ in range(3)]
    assert runner.threads == 3
    release.set()
    assert await asyncio.gather(*blocked) == [True, True, True]
    runner.shutdown()
    with pytest.raises(RuntimeError, match="shut down"):
        runner.call(_add, (1,), {})


def test_max_threads_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_threads"):
        SyncRunner(0)


async def test_a_call_cancelled_before_a_thread_is_free_never_runs() -> None:
    release = threading.Event()
    ran: list[str] = []
    runner = SyncRunner(1)
    blocker = runner.call(release.wait, (10,), {})
    waiting = runner.call(ran.append, ("ran",), {})
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(waiting, 0.05)
    release.set()
    assert await blocker is True
    assert await runner.call(_add, (2,), {}) == 2  # the skipped call was passed over
    assert waiting.cancelled() and ran == [] and runner._outstanding == 0
    runner.shutdown()


async def test_a_timed_out_call_drops_its_late_result() -> None:
    release = threading.Event()
    runner = SyncRunner(1)
    late = runner.call(release.wait, (10,), {})
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(late, 0.05)
    release.set()
    assert await runner.call(_add, (1,), {}) == 1  # the late outcome was delivered and dropped
    assert late.cancelled()
    runner.shutdown()


async def test_calls_not_started_at_shutdown_are_cancelled_and_threads_end() -> None:
    release = threading.Event()
    runner = SyncRunner(1)
    blocker = runner.call(release.wait, (10,), {})
    dropped = runner.call(_add, (1,), {})
    runner.shutdown()
    with pytest.raises(asyncio.CancelledError):
        await dropped
    release.set()
    assert await blocker is True
    (thread,) = runner._threads
    thread.join(timeout=10)
    assert not thread.is_alive() and thread.daemon


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
