"""Retries by delayed NAK with the job's own backoff; retry_on / ignore_on."""

from __future__ import annotations

import uuid

import pytest
import worker_tasks
from structlog.testing import capture_logs
from support import running_worker

from naq_core import Job, JobFailedError, Queue
from naq_core.job import RetryStrategy


def key() -> str:
    return uuid.uuid4().hex


async def test_retries_until_success(nats_url: str, queue_name: str) -> None:
    k = key()
    async with Queue(queue_name, nats_url) as q, running_worker(nats_url, queue_name):
        job = await q.enqueue(worker_tasks.fail_times, k, 2, max_retries=3, retry_delay=0.1)
        assert await q.fetch_job_result(job, timeout=15) == 3
        assert (await q.job_record(job.job_id)).attempt == 3


async def test_retries_exhausted_fails_with_last_error(nats_url: str, queue_name: str) -> None:
    k = key()
    async with Queue(queue_name, nats_url) as q, running_worker(nats_url, queue_name):
        job = await q.enqueue(worker_tasks.fail_times, k, 10, max_retries=2, retry_delay=[0.05, 0.1])
        with pytest.raises(JobFailedError, match="attempt 3"):
            await q.fetch_job_result(job, timeout=15)
    assert worker_tasks.calls[k] == 3


async def test_backoff_delays_the_next_attempt(nats_url: str, queue_name: str) -> None:
    k = key()
    with capture_logs() as logs:
        async with Queue(queue_name, nats_url) as q, running_worker(nats_url, queue_name):
            job = await q.enqueue(worker_tasks.fail_times, k, 1, max_retries=1, retry_delay=0.6)
            assert await q.fetch_job_result(job, timeout=15) == 2
            record = await q.job_record(job.job_id)
    # The worker NAKed with the job's delay, and the server held the retry back that long.
    [retrying] = [e for e in logs if e["event"] == "job_retrying" and e.get("job_id") == job.job_id]
    assert retrying["retry_in"] == 0.6
    assert record.attempt == 2 and record.enqueued_at is not None and record.started_at is not None
    assert record.started_at - record.enqueued_at >= 0.6


async def test_ignore_on_fails_at_once(nats_url: str, queue_name: str) -> None:
    k = key()
    async with Queue(queue_name, nats_url) as q, running_worker(nats_url, queue_name):
        job = await q.enqueue(
            worker_tasks.fail_times,
            k,
            5,
            "permanent",
            max_retries=5,
            retry_delay=0.05,
            ignore_on=[worker_tasks.Permanent],
        )
        with pytest.raises(JobFailedError) as info:
            await q.fetch_job_result(job, timeout=15)
    assert info.value.error_type == "Permanent"
    assert worker_tasks.calls[k] == 1


async def test_retry_on_limits_which_errors_retry(nats_url: str, queue_name: str) -> None:
    k1, k2 = key(), key()
    async with Queue(queue_name, nats_url) as q, running_worker(nats_url, queue_name):
        retried = await q.enqueue(
            worker_tasks.fail_times,
            k1,
            1,
            "transient",
            max_retries=2,
            retry_delay=0.05,
            retry_on=worker_tasks.Transient,
        )
        not_retried = await q.enqueue(
            worker_tasks.fail_times,
            k2,
            1,
            "permanent",
            max_retries=2,
            retry_delay=0.05,
            retry_on=[worker_tasks.Transient],
        )
        assert await q.fetch_job_result(retried, timeout=15) == 2
        with pytest.raises(JobFailedError):
            await q.fetch_job_result(not_retried, timeout=15)


def test_backoff_strategies() -> None:
    fixed = Job(function="m:f", max_retries=5, retry_delay=2)
    assert [fixed.retry_delay_for(n) for n in (1, 2, 3)] == [2, 2, 2]
    expo = Job(function="m:f", max_retries=5, retry_delay=1, retry_strategy=RetryStrategy.EXPONENTIAL)
    assert [expo.retry_delay_for(n) for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    table = Job(function="m:f", max_retries=5, retry_delay=[1, 5, 30])
    assert [table.retry_delay_for(n) for n in (1, 2, 3, 4, 9)] == [1, 5, 30, 30, 30]
    jitter = Job(function="m:f", max_retries=5, retry_delay=10, retry_jitter=0.5)
    samples = [jitter.retry_delay_for(1) for _ in range(200)]
    assert all(10 <= s <= 15 for s in samples) and len(set(samples)) > 1


def test_should_retry_rules() -> None:
    job = Job(function="m:f", max_retries=1, ignore_on=("builtins:KeyError",))
    assert job.should_retry(ValueError())
    assert not job.should_retry(KeyError())
    assert not job.with_attempt(2).should_retry(ValueError())  # attempts used up
    only = Job(function="m:f", max_retries=3, retry_on=("builtins:LookupError",))
    assert only.should_retry(KeyError())  # subclass of LookupError
    assert not only.should_retry(ValueError())


def test_invalid_retry_options_are_refused() -> None:
    with pytest.raises(ValueError):
        Job(function="m:f", max_retries=-1)
    with pytest.raises(ValueError):
        Job(function="m:f", retry_delay=-1)
    with pytest.raises(ValueError):
        Job(function="m:f", retry_strategy="sometimes")
