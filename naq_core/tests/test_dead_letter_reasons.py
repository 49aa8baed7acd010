"""A failed job's dead letter says whether retries were asked for: ``failed`` or ``retries exhausted``."""

from __future__ import annotations

import pytest
import worker_tasks
from support import collect_dead_letters, running_worker, wait_until

from naq_core import DeadLetterReason, JobFailedError, Queue


async def test_reason_is_failed_without_retries_and_exhausted_after_them(
    nats_url: str, queue_name: str
) -> None:
    sink = collect_dead_letters()
    async with Queue(queue_name, nats_url) as q, running_worker(nats_url, queue_name):
        plain = await q.enqueue(worker_tasks.fail, "no retries")
        retried = await q.enqueue(worker_tasks.fail, "retried", max_retries=1, retry_delay=0.05)
        excluded = await q.enqueue(worker_tasks.fail, "not retryable", max_retries=3, ignore_on=ValueError)
        for job in (plain, retried, excluded):
            with pytest.raises(JobFailedError):
                await q.fetch_job_result(job, timeout=10)
        await wait_until(lambda: len(sink.letters) == 3, timeout=10)
    letters = {letter.job_id: letter for letter in sink.letters}
    assert letters[plain.job_id].reason is DeadLetterReason.FAILED
    assert letters[plain.job_id].attempts == 1 and letters[plain.job_id].error == "no retries"
    assert letters[retried.job_id].reason is DeadLetterReason.RETRIES_EXHAUSTED
    assert letters[retried.job_id].attempts == 2
    assert letters[excluded.job_id].reason is DeadLetterReason.FAILED  # its error is never retried
    assert letters[excluded.job_id].attempts == 1
    assert DeadLetterReason.FAILED.value == "failed"
