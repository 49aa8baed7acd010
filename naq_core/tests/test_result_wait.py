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

from naq_core import helpers, job_lookup
from naq_core.client import NaqClient
from naq_core.errors import JobNotFoundError, NaqTimeoutError
from naq_core.heartbeat import list_workers
from naq_core.jetstream import RESULTS_BUCKET, Connection
from naq_core.job import JobStatus
from naq_core.queue import Queue
from naq_core.results import ResultStore
from naq_core.server import EmbeddedServer
from naq_core.testing.worker import eventually, wait_until
from naq_core.testing.worker import running_worker as _running_worker

sys.path.insert(0, str(Path(__file__).parent))
import client_tasks
import worker_tasks
from tcp_proxy import TcpProxy

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
        assert await queue.fetch_job_result(job, timeout=0) == 5  # no waiting needed


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
            listed = await job_lookup.recent_jobs(conn, queue=queue_name, limit=None)
            assert [r.job_id for r in listed] == [job.job_id]
        assert await _consumers(conn) == before
        assert await job_lookup.job_ids(conn, prefix=job.job_id) == [job.job_id]
        await list_workers(conn)  # the workers bucket is read the same way
        workers_stream = "KV_naq_workers"
        assert (await conn.js.stream_info(workers_stream)).state.consumer_count == 0


# --- an id that is nowhere ----------------------------------------------------------------------


async def test_unknown_id_raises_at_once(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as queue:
        conn = await queue.connection()
        before = await _consumers(conn)
        with pytest.raises(JobNotFoundError, match="no-such-job"):
            await queue.fetch_job_result("no-such-job", timeout=30)
        with pytest.raises(JobNotFoundError):
            await queue.fetch_job_result("not.a valid>id", timeout=30)
        assert await _consumers(conn) == before


async def test_an_expired_record_is_not_found(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as queue:
        async with running_worker(nats_url, queue_name):
            job = await queue.enqueue(client_tasks.add, 1, 2)
            assert await queue.fetch_job_result(job, timeout=10) == 3
        await ResultStore(await queue.connection()).delete(job.job_id)  # as if its TTL ran out
        with pytest.raises(JobNotFoundError, match=job.job_id):
            await queue.fetch_job_result(job, timeout=30)


async def test_jobs_not_yet_run_are_waited_for(nats_url: str, queue_name: str) -> None:
    """Queued, held for a dependency, scheduled: each is waited for, none is "not found"."""
    async with Queue(queue_name, nats_url) as queue:
        queued = await queue.enqueue(client_tasks.add, 1, 2)
        held = await queue.enqueue(client_tasks.add, 3, 4, depends_on=queued)
        later = await queue.enqueue_in(3600, client_tasks.add, 5, 6)
        hourly = await queue.schedule(client_tasks.add, 7, 8, cron="@hourly")
        paused = await queue.schedule(client_tasks.add, 9, 9, interval=3600)
        await queue.pause_scheduled_job(paused.schedule_id)  # no schedule message any more
        ids = (queued.job_id, held.job_id, later.job_id, hourly.schedule_id, paused.schedule_id)
        for job_id in ids:
            with pytest.raises(NaqTimeoutError, match=job_id):
                await queue.fetch_job_result(job_id, timeout=0.3)
        async with running_worker(nats_url, queue_name):
            waits = asyncio.gather(
                queue.fetch_job_result(queued, timeout=30), queue.fetch_job_result(held, timeout=30)
            )
            assert await waits == [3, 7]


async def test_a_job_enqueued_a_moment_ago_is_never_missing(nats_url: str, queue_name: str) -> None:
    """Enqueue and wait at once, with a busy worker, many times: every wait gets its result."""
    async with Queue(queue_name, nats_url) as queue, running_worker(nats_url, queue_name):
        for i in range(200):
            job = await queue.enqueue(client_tasks.greet, str(i))
            assert await queue.fetch_job_result(job, timeout=30) == f"hello {i}!"


def test_unknown_id_through_the_client(nats_url: str) -> None:
    with NaqClient(nats_url) as client, pytest.raises(JobNotFoundError, match="no-such-job"):
        client.fetch_job_result("no-such-job", timeout=30)


async def test_unknown_id_through_the_helper(nats_url: str) -> None:
    try:
        with pytest.raises(JobNotFoundError, match="no-such-job"):
            await helpers.fetch_job_result("no-such-job", timeout=30, nats_url=nats_url)
    finally:
        await helpers.close_connections()


def test_unknown_id_through_the_sync_helper(nats_url: str) -> None:
    try:
        with pytest.raises(JobNotFoundError, match="no-such-job"):
            helpers.fetch_job_result_sync("no-such-job", timeout=30, nats_url=nats_url)
    finally:
        helpers.close_sync_connections()


# --- the original's second argument was the URL -------------------------------------------------

_URL_MESSAGE = r"timeout must be a number of seconds, got the string 'nats://127\.0\.0\.1:1'.*nats_url="


async def test_a_url_where_timeout_goes_says_so(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as queue:
        job = await queue.enqueue(client_tasks.add, 1, 2)
        with pytest.raises(TypeError, match=_URL_MESSAGE):
            await queue.fetch_job_result(job, "nats://127.0.0.1:1")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="zero or more"):
            await queue.fetch_job_result(job, -1)
    with NaqClient(nats_url) as client, pytest.raises(TypeError, match=_URL_MESSAGE):
        client.fetch_job_result(job, "nats://127.0.0.1:1")  # type: ignore[arg-type]
    # The helpers refuse before connecting: nothing listens on port 1.
    with pytest.raises(TypeError, match=_URL_MESSAGE):
        await helpers.fetch_job_result(job.job_id, "nats://127.0.0.1:1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=_URL_MESSAGE):
        helpers.fetch_job_result_sync(job.job_id, "nats://127.0.0.1:1")  # type: ignore[arg-type]


# --- a write made while the waiter was disconnected ---------------------------------------------


async def test_a_record_written_while_disconnected_is_read_after_reconnect(
    nats_server: EmbeddedServer, queue_name: str
) -> None:
    proxy = TcpProxy(int(nats_server.url.rsplit(":", 1)[1]))
    proxy_url = await proxy.start()
    try:
        async with Queue(queue_name, nats_server.url) as producer, Queue(queue_name, proxy_url) as waiter:
            job = await producer.enqueue(client_tasks.add, 20, 22)  # no worker: it stays queued
            conn = await waiter.connection()
            waiting = asyncio.create_task(waiter.fetch_job_result(job, timeout=60))
            subscribed = _subscriptions(conn) + 1
            await wait_until(lambda: _subscriptions(conn) == subscribed)
            proxy.cut()
            await wait_until(lambda: not conn.nc.is_connected)
            # The job ends while the waiter is away: its subscription never sees the write.
            await ResultStore(await producer.connection()).write(
                job, JobStatus.COMPLETED, result=42, confirm=True
            )
            proxy.reopen()
            assert await asyncio.wait_for(waiting, timeout=60) == 42
            assert _subscriptions(conn) == subscribed - 1
    finally:
        await proxy.close()


async def test_a_completion_just_before_the_wait_is_never_missed(nats_url: str, queue_name: str) -> None:
    """The worker's write can reach the server just before the waiter subscribes, and the
    first record read can still see "running" (the stream stores writes asynchronously).
    Fifty rounds of: a job seen running, its gate opened, its result awaited at once."""
    async with (
        Queue(queue_name, nats_url) as queue,
        _running_worker(nats_url, queue_name, tasks=("worker_tasks",)),
    ):
        for round_ in range(50):
            key = f"{queue_name}-{round_}"
            job = await queue.enqueue(worker_tasks.wait_for_gate, key)

            async def running(job_id: str = job.job_id) -> bool:
                return await queue.job_status(job_id) is JobStatus.RUNNING

            await eventually(running, timeout=10)
            worker_tasks.gate(key).set()
            try:
                assert await queue.fetch_job_result(job, timeout=5) == key
            except NaqTimeoutError:
                pytest.fail(f"round {round_}: the completion was missed")
