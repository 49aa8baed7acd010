"""Cancel and requeue by id; pause and resume a queue."""

from __future__ import annotations

import uuid

import pytest
import worker_tasks
from support import eventually, running_worker, wait_until

from naq_core import JobFailedError, JobNotFoundError, JobStatus, NaqError, Queue


def key() -> str:
    return uuid.uuid4().hex


async def test_cancel_a_queued_job_then_requeue_it(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as q:
        job = await q.enqueue(worker_tasks.add, 20, 22)
        assert await q.cancel_job(job.job_id) is JobStatus.CANCELLED
        assert await q.count() == 0
        assert await q.job_status(job.job_id) is JobStatus.CANCELLED
        with pytest.raises(NaqError, match="already ended: cancelled"):
            await q.cancel_job(job.job_id)
        again = await q.requeue_job(job.job_id)
        assert again.job_id == job.job_id
        async with running_worker(nats_url, queue_name):
            assert await q.fetch_job_result(job, timeout=10) == 42


async def test_cancel_a_running_async_job(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as q, running_worker(nats_url, queue_name) as worker:
        job = await q.enqueue(worker_tasks.sleep_for, 30)
        await wait_until(lambda: job.job_id in worker.running_jobs, timeout=10)
        assert await q.cancel_job(job.job_id) is JobStatus.CANCELLED
        with pytest.raises(JobFailedError) as info:
            await q.fetch_job_result(job, timeout=10)
        assert info.value.status == "cancelled"
        assert job.job_id not in worker.running_jobs
        conn = await q.connection()

        async def settled() -> bool:
            info = await conn.js.consumer_info("naq_jobs", f"naq-worker-{queue_name}")
            return bool(info.num_ack_pending == 0 and info.num_pending == 0)

        await eventually(settled, timeout=10)
        # acked, not NAKed: delivered once, and nothing of it is left on the server
        info = await conn.js.consumer_info("naq_jobs", f"naq-worker-{queue_name}")
        assert info.delivered.consumer_seq == 1
        assert await q.count() == 0
        assert await q.job_status(job.job_id) is JobStatus.CANCELLED


async def test_a_running_sync_job_cannot_be_cancelled(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as q, running_worker(nats_url, queue_name) as worker:
        job = await q.enqueue(worker_tasks.block_for, 1.0)
        await wait_until(lambda: job.job_id in worker.running_jobs, timeout=10)
        with pytest.raises(NaqError, match="sync function, which cannot be interrupted"):
            await q.cancel_job(job.job_id)
        assert await q.fetch_job_result(job, timeout=10) == 1.0


async def test_cancel_a_waiting_job_fails_its_dependents(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as q:
        first = await q.enqueue(worker_tasks.add, 1, 1)
        second = await q.enqueue(worker_tasks.add, 2, 2, depends_on=first)
        third = await q.enqueue(worker_tasks.add, 3, 3, depends_on=second)
        assert await q.cancel_job(second.job_id) is JobStatus.CANCELLED
        assert await q.job_status(third.job_id) is JobStatus.DEPENDENCY_FAILED
        async with running_worker(nats_url, queue_name):
            assert await q.fetch_job_result(first, timeout=10) == 2


async def test_cancel_a_scheduled_job(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as q:
        job = await q.enqueue_in(3600, worker_tasks.add, 1, 1)
        assert await q.cancel_job(job.job_id) is JobStatus.CANCELLED
        assert await q.job_status(job.job_id) is JobStatus.CANCELLED


async def test_requeue_a_failed_job_resets_attempts(nats_url: str, queue_name: str) -> None:
    k = key()
    async with Queue(queue_name, nats_url) as q, running_worker(nats_url, queue_name):
        job = await q.enqueue(worker_tasks.fail_times, k, 1)  # fails once, no retries
        with pytest.raises(JobFailedError):
            await q.fetch_job_result(job, timeout=10)
        assert (await q.job_record(job.job_id)).to_dict()["requeueable"] is True
        await q.requeue_job(job.job_id)
        assert await q.fetch_job_result(job, timeout=10) == 2
        record = await q.job_record(job.job_id)
        assert record.attempt == 1  # attempts start again
        with pytest.raises(NaqError, match="only failed, dependency_failed and cancelled"):
            await q.requeue_job(job.job_id)


async def test_unknown_ids(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as q:
        with pytest.raises(JobNotFoundError):
            await q.cancel_job("0" * 32)
        with pytest.raises(JobNotFoundError):
            await q.requeue_job("0" * 32)


async def test_pause_and_resume_a_queue(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as q, running_worker(nats_url, queue_name):
        await q.pause()
        assert await q.is_paused()
        job = await q.enqueue(worker_tasks.add, 1, 2)
        conn = await q.connection()
        info = await conn.js.consumer_info("naq_jobs", f"naq-worker-{queue_name}")
        assert info.paused  # the server holds the job back: nobody gets it
        assert info.num_pending == 1 and info.num_ack_pending == 0 and info.delivered.consumer_seq == 0
        assert await q.job_status(job.job_id) is JobStatus.PENDING
        await q.resume()
        assert not await q.is_paused()
        assert await q.fetch_job_result(job, timeout=10) == 3
