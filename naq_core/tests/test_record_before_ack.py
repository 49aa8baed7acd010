"""A job leaves its queue only once its final record is stored (pipelined, no round trip per job).

Before: the record was a fire-and-forget publish and the ack followed at once, so under load
a job could be gone from its queue while its record was not yet stored, and a waiter asking
for it in that window got a false JobNotFoundError (seen in the benchmark's 10,000-job drain).
"""

from __future__ import annotations

import asyncio

import worker_tasks
from support import running_worker

from naq_core.jetstream import JOBS_STREAM, consumer_name
from naq_core.queue import Queue
from naq_core.results import ResultStore


async def test_every_acked_job_has_its_record_while_a_backlog_drains(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as q:
        jobs = await q.enqueue_many([(worker_tasks.add, (i, 1), {}) for i in range(2000)])
        conn = await q.connection()
        store = ResultStore(conn)
        async with running_worker(nats_url, queue_name, concurrency=20):
            # While the backlog drains, ask for results of jobs across it: none may be "nowhere".
            answers = await asyncio.gather(*(q.fetch_job_result(job, timeout=60) for job in jobs[::50]))
            assert answers == [i + 1 for i in range(0, 2000, 50)]
            assert await q.fetch_job_result(jobs[-1], timeout=60) == 2000
            info = await conn.js.consumer_info(JOBS_STREAM, consumer_name(queue_name))
        # Every job that left the queue has its record stored.
        assert info.num_pending == 0
        records = await asyncio.gather(*(store.get(job.job_id) for job in jobs))
        assert all(r is not None and r.finished for r in records)


async def test_the_last_of_a_large_backlog_is_never_reported_missing(nats_url: str, queue_name: str) -> None:
    """The benchmark's shape: 10,000 jobs drain while the producer waits for the last one."""
    async with Queue(queue_name, nats_url) as q:
        jobs = await q.enqueue_many([(worker_tasks.add, (i, 1), {}) for i in range(10_000)])
        async with running_worker(nats_url, queue_name, concurrency=10):
            assert await q.fetch_job_result(jobs[-1], timeout=120) == 10_000


async def test_a_stopping_worker_acks_the_jobs_whose_records_it_wrote(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as q:
        jobs = await q.enqueue_many([(worker_tasks.add, (i, 1), {}) for i in range(300)])
        async with running_worker(nats_url, queue_name) as worker:
            await q.fetch_job_result(jobs[-1], timeout=60)
        conn = await q.connection()
        assert worker.status == "stopped"
        info = await conn.js.consumer_info(JOBS_STREAM, consumer_name(queue_name))
        assert info.num_ack_pending == 0 and info.num_pending == 0  # all acked: nothing comes back
