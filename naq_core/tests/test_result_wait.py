"""Waiting for results leaves nothing behind: no server consumer, no subscription.

nats-server refuses new consumers past 1,000 on a stream by default; a wait that made one
per call broke every program on the server after 1,000 waits. These tests wait for 5,000
results one by one and 5,000 at once, and check the results stream's consumer count and
the connection's subscriptions afterwards; then the same after a timeout, a cancellation,
and for the other per-call readers (job status, listings).
"""

from __future__ import annotations

import asyncio
import sys
from functools import partial
from pathlib import Path

import pytest

from naq_core import inspect
from naq_core._conn import RESULTS_BUCKET, Connection
from naq_core.errors import TimeoutError as NaqTimeoutError
from naq_core.heartbeat import list_workers
from naq_core.job import JobStatus
from naq_core.queue import Queue
from naq_core.server import EmbeddedServer
from naq_core.testing.worker import running_worker as _running_worker
from naq_core.testing.worker import wait_until

sys.path.insert(0, str(Path(__file__).parent))
import client_tasks

running_worker = partial(_running_worker, tasks=("client_tasks",), concurrency=200)
RESULTS_STREAM = f"KV_{RESULTS_BUCKET}"
MANY = 5_000


async def _consumers(conn: Connection) -> int:
    return (await conn.js.stream_info(RESULTS_STREAM)).state.consumer_count


def _subscriptions(conn: Connection) -> int:
    return len(conn.nc._subs)


async def _baseline(conn: Connection) -> tuple[int, int]:
    return await _consumers(conn), _subscriptions(conn)


async def test_5000_results_one_by_one_leave_no_consumer(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as queue:
        conn = await queue.connection()
        async with running_worker(nats_url, queue_name):
            jobs = await queue.enqueue_many((client_tasks.greet, (str(i),)) for i in range(MANY))
            before = await _baseline(conn)  # after the connection made its own (lasting) inboxes
            results = [await queue.fetch_job_result(job, timeout=60) for job in jobs]
        assert results == [f"hello {i}!" for i in range(MANY)]
        assert await _baseline(conn) == before


async def test_5000_results_at_once_leave_no_consumer(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as queue:
        conn = await queue.connection()
        jobs = await queue.enqueue_many((client_tasks.greet, (str(i),)) for i in range(MANY))
        before_consumers, before_subs = await _baseline(conn)
        waiting = asyncio.gather(*(queue.fetch_job_result(job, timeout=120) for job in jobs))
        try:
            # Every wait is in place (one subscription each) before any job runs.
            await wait_until(lambda: _subscriptions(conn) == before_subs + MANY, timeout=60)
            assert await _consumers(conn) == before_consumers
            async with running_worker(nats_url, queue_name):
                results = await asyncio.wait_for(waiting, timeout=120)
        finally:
            waiting.cancel()
        assert results == [f"hello {i}!" for i in range(MANY)]
        assert await _baseline(conn) == (before_consumers, before_subs)


async def test_a_timed_out_wait_leaves_nothing(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as queue:
        conn = await queue.connection()
        job = await queue.enqueue(client_tasks.greet, "late")  # no worker: it stays queued
        before = await _baseline(conn)
        with pytest.raises(NaqTimeoutError, match=job.job_id):
            await queue.fetch_job_result(job, timeout=0.2)
        assert await _baseline(conn) == before


async def test_a_cancelled_wait_leaves_nothing(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as queue:
        conn = await queue.connection()
        job = await queue.enqueue(client_tasks.greet, "never")
        before_consumers, before_subs = await _baseline(conn)
        task = asyncio.create_task(queue.fetch_job_result(job))
        await wait_until(lambda: _subscriptions(conn) == before_subs + 1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await _baseline(conn) == (before_consumers, before_subs)


async def test_a_finished_result_is_read_without_waiting(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as queue:
        async with running_worker(nats_url, queue_name):
            job = await queue.enqueue(client_tasks.add, 2, 3)
            assert await queue.fetch_job_result(job, timeout=10) == 5
        # The worker is gone: the record alone answers, again and again.
        for _ in range(3):
            assert await queue.fetch_job_result(job, timeout=10) == 5


async def test_status_and_listings_release_their_consumers(
    fresh_nats_server: EmbeddedServer, queue_name: str
) -> None:
    """2,000 status lookups and listings each; the server keeps no consumer from them.

    A server of its own, so each listing reads one record, not every test's.
    """
    nats_url = fresh_nats_server.url
    async with Queue(queue_name, nats_url) as queue:
        conn = await queue.connection()
        async with running_worker(nats_url, queue_name):
            job = await queue.enqueue(client_tasks.add, 1, 1)
            assert await queue.fetch_job_result(job, timeout=10) == 2
        before = await _consumers(conn)
        for _ in range(2_000):
            assert await queue.job_status(job.job_id) is JobStatus.COMPLETED
        assert await _consumers(conn) == before
        for _ in range(2_000):
            listed = await inspect.recent_jobs(conn, queue=queue_name, limit=None)
            assert [r.job_id for r in listed] == [job.job_id]
        assert await _consumers(conn) == before
        assert await inspect.job_ids(conn, prefix=job.job_id) == [job.job_id]
        await list_workers(conn)  # the workers bucket is read the same way
        workers_stream = "KV_naq_workers"
        assert (await conn.js.stream_info(workers_stream)).state.consumer_count == 0
