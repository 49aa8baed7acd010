"""A real worker against a real NATS server: results, failures, concurrency, timeouts."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
import worker_tasks
from support import running_worker

from naq_core import JobFailedError, JobNotFoundError, JobStatus, Queue
from naq_core.heartbeat import list_workers


async def test_async_and_sync_tasks_return_results(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as q, running_worker(nats_url, queue_name):
        a = await q.enqueue(worker_tasks.add, 2, 3)
        m = await q.enqueue(worker_tasks.multiply, 4, b=5)
        assert await q.fetch_job_result(a, timeout=10) == 5
        assert await q.fetch_job_result(m.job_id, timeout=10) == 20
        assert await q.job_status(a.job_id) is JobStatus.COMPLETED
        record = await q.job_record(m.job_id)
        assert record.function == "worker_tasks:multiply"
        assert record.queue == queue_name
        assert record.attempt == 1
        assert record.started_at is not None
        assert record.finished_at is not None
        assert record.finished_at >= record.started_at


async def test_rich_arguments_round_trip_through_the_worker(nats_url: str, queue_name: str) -> None:
    when = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    ident = uuid.uuid4()
    async with Queue(queue_name, nats_url) as q, running_worker(nats_url, queue_name):
        job = await q.enqueue(worker_tasks.echo, when, ident, amount=Decimal("1.10"), raw=b"\x00\x01")
        result = await q.fetch_job_result(job, timeout=10)
    assert result == {"args": [when, ident], "kwargs": {"amount": Decimal("1.10"), "raw": b"\x00\x01"}}
    assert result["args"][0].utcoffset() == dt.timedelta(hours=2)


async def test_failure_carries_remote_traceback(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as q, running_worker(nats_url, queue_name):
        job = await q.enqueue(worker_tasks.fail, "kaput")
        with pytest.raises(JobFailedError) as info:
            await q.fetch_job_result(job, timeout=10)
    error = info.value
    assert error.error_type == "ValueError"
    assert error.error == "kaput"
    assert error.traceback is not None and "worker_tasks.py" in error.traceback
    assert "Remote traceback" in str(error)


async def test_unknown_task_never_runs_and_is_recorded(
    nats_url: str, queue_name: str, tmp_path: Path
) -> None:
    pwned = tmp_path / "pwned"
    async with Queue(queue_name, nats_url) as q, running_worker(nats_url, queue_name) as worker:
        job = await q.enqueue("os:system", f"touch {pwned}")
        with pytest.raises(JobFailedError) as info:
            await q.fetch_job_result(job, timeout=10)
        record = await q.job_record(job.job_id)
        counters = worker.snapshot()
    assert (counters["processed"], counters["failed"]) == (0, 1)
    assert info.value.error_type == "TaskNotFoundError"
    assert "unknown task" in info.value.error
    assert record.status is JobStatus.FAILED and record.attempt == 1
    # os.system is not a registered task: the registry is a closed dict, the command never ran
    assert not pwned.exists()


async def test_unregistered_function_of_a_known_module_is_refused(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as q, running_worker(nats_url, queue_name, tasks=[]):
        job = await q.enqueue(worker_tasks.add, 1, 1)  # module not given to this worker
        with pytest.raises(JobFailedError, match="unknown task"):
            await q.fetch_job_result(job, timeout=10)


async def test_unserializable_result_is_a_clear_failure(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as q, running_worker(nats_url, queue_name):
        job = await q.enqueue(worker_tasks.unserializable_result)
        with pytest.raises(JobFailedError, match="return value could not be stored"):
            await q.fetch_job_result(job, timeout=10)


async def test_concurrency_is_bounded(nats_url: str, queue_name: str) -> None:
    worker_tasks.peak = 0
    async with Queue(queue_name, nats_url) as q, running_worker(nats_url, queue_name, concurrency=3):
        jobs = await q.enqueue_many([(worker_tasks.track, (0.05,)) for _ in range(15)])
        for job in jobs:
            await q.fetch_job_result(job, timeout=20)
    assert worker_tasks.peak == 3


async def test_timeout_fails_the_job(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as q, running_worker(nats_url, queue_name):
        job = await q.enqueue(worker_tasks.sleep_for, 5, timeout=0.2)
        with pytest.raises(JobFailedError) as info:
            await q.fetch_job_result(job, timeout=10)
    assert info.value.error_type == "JobTimeoutError"


async def test_running_status_is_visible_for_long_jobs(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as q, running_worker(nats_url, queue_name):
        k = uuid.uuid4().hex
        job = await q.enqueue(worker_tasks.wait_for_gate, k)  # runs until we have seen it running
        statuses: list[JobStatus] = []

        async def running() -> bool:
            statuses.append(await q.job_status(job.job_id))
            return statuses[-1] is JobStatus.RUNNING

        async with asyncio.timeout(10):
            while not await running():
                await asyncio.sleep(0.05)
        worker_tasks.gate(k).set()
        assert await q.fetch_job_result(job, timeout=10) == k


async def test_status_of_pending_and_unknown_jobs(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as q:
        job = await q.enqueue(worker_tasks.add, 1, 2)
        assert await q.job_status(job.job_id) is JobStatus.PENDING
        assert await q.count() == 1
        with pytest.raises(JobNotFoundError):
            await q.job_status("0" * 32)
        assert await q.purge() == 1
        assert await q.count() == 0


async def test_caller_given_job_id_is_idempotent(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as q:
        await q.enqueue(worker_tasks.add, 1, 2, job_id="order-42")
        await q.enqueue(worker_tasks.add, 1, 2, job_id="order-42")
        assert await q.count() == 1
        await q.purge()


async def test_enqueue_many_mixes_tuples_and_prepared_jobs(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as q, running_worker(nats_url, queue_name):
        prepared = q.prepare(worker_tasks.add, 10, 20)
        jobs = await q.enqueue_many(
            [(worker_tasks.add, (1, 2)), (worker_tasks.multiply, (3,), {"b": 4}), prepared]
        )
        results = [await q.fetch_job_result(j, timeout=10) for j in jobs]
    assert results == [3, 12, 30]


async def test_heartbeat_lists_the_worker_with_its_current_job(nats_url: str, queue_name: str) -> None:
    async with (
        Queue(queue_name, nats_url) as q,
        running_worker(nats_url, queue_name, heartbeat_interval=5.0) as worker,
    ):
        k = uuid.uuid4().hex
        job = await q.enqueue(worker_tasks.wait_for_gate, k)
        conn = await q.connection()

        async def current() -> list[str]:
            mine = [w for w in await list_workers(conn) if w.worker_id == worker.worker_id]
            return list(mine[0].current_jobs) if mine else []

        async with asyncio.timeout(10):
            while job.job_id not in await current():
                await asyncio.sleep(0.05)
        info = [w for w in await list_workers(conn) if w.worker_id == worker.worker_id][0]
        assert info.queues == (queue_name,)
        assert info.pid > 0 and info.hostname
        worker_tasks.gate(k).set()
        assert await q.fetch_job_result(job, timeout=10) == k
    async with Queue(queue_name, nats_url) as q:
        conn = await q.connection()
        # heartbeat_interval=5: its entry would live 15 s; only the worker's own purge at stop
        # can have removed it already
        assert worker.worker_id not in [w.worker_id for w in await list_workers(conn)]


async def test_one_worker_serves_several_queues(nats_url: str, queue_name: str) -> None:
    other = queue_name + "-2"
    async with Queue(queue_name, nats_url) as first, Queue(other, nats_url) as second:
        async with running_worker(nats_url, [queue_name, other]) as worker:
            a = await first.enqueue(worker_tasks.add, 1, 1)
            b = await second.enqueue(worker_tasks.add, 2, 2)
            assert await first.fetch_job_result(a, timeout=10) == 2
            assert await second.fetch_job_result(b, timeout=10) == 4
            assert worker.queues == (queue_name, other)
