"""job_lookup.dependents: the jobs still held for a job, by exact reference or bare id."""

from __future__ import annotations

from naq_core import Queue
from naq_core.job_lookup import dependents


async def test_dependents_lists_the_held_jobs_of_that_queue_only(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as queue, Queue(f"{queue_name}-other", nats_url) as other:
        first = await queue.enqueue("tests:noop")  # no worker: stays pending
        held = await queue.enqueue("tests:noop", depends_on=[first])
        also = await other.enqueue("tests:noop", depends_on=[first])
        conn = await queue.connection()
        expected = sorted([f"{queue_name}.{held.job_id}", f"{queue_name}-other.{also.job_id}"])
        assert await dependents(conn, first.job_id, queue=queue_name) == expected
        assert await dependents(conn, f"{queue_name}.{first.job_id}") == expected
        assert await dependents(conn, first.job_id) == expected  # a bare id, looked up
        assert await dependents(conn, held.job_id, queue=queue_name) == []
