"""A requeue whose dedup id someone else published first still puts the job back (issue 10)."""

from __future__ import annotations

import uuid

import dlq_tasks
import pytest
from dlq_support import dlq_store, running_worker, wait_for_letters

from naq_core import JobFailedError, Queue


async def test_a_squatted_requeue_id_still_requeues(nats_url: str, queue_name: str) -> None:
    key = uuid.uuid4().hex
    other = queue_name + "-other"
    async with (
        Queue(queue_name, nats_url) as q,
        Queue(other, nats_url) as attacker,
        dlq_store(nats_url) as store,
    ):
        async with running_worker(nats_url, queue_name):
            job = await q.enqueue(dlq_tasks.fail_first_time, key)
            with pytest.raises(JobFailedError):
                await q.fetch_job_result(job, timeout=10)
            [stored] = await wait_for_letters(store, queue_name, 1)
        conn = await attacker.connection()
        for msg_id in (
            f"naq-dlq-requeue-{stored.seq}-{stored.id}",
            f"{queue_name}/naq-dlq-requeue-{stored.seq}-{stored.id}",
        ):
            await conn.js.publish(f"naq.queue.{other}.x{len(msg_id)}", b"{}", headers={"Nats-Msg-Id": msg_id})
        await store.requeue([job.job_id])
        assert await q.count() == 1  # stored, although its dedup id was taken first
        async with running_worker(nats_url, queue_name):
            assert await q.fetch_job_result(job, timeout=10) == 2
        await attacker.purge()
