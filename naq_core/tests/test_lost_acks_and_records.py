"""Acks and records lost or delayed on their way to the server, against a real server
through a TCP relay that drops them: no job runs twice for it, nothing piles up.

An ack is a publish without a reply. One written to a connection that then broke (its
server was SIGKILLed, say) may never arrive: the job ran and its record is stored, but
JetStream still holds the message and hands it to a worker again after ``ack_wait`` — a
duplicate run. A worker acks again, after a reconnect, what it acked in the last
``ack_wait`` seconds (acking twice is harmless), and acks without running a redelivered
job whose record already says it completed.
"""

from __future__ import annotations

import asyncio
import uuid

import worker_tasks
from support import running_worker
from tcp_proxy import TcpProxy

from naq_core import JobStatus, Queue
from naq_core.jetstream import JOBS_STREAM, consumer_name
from naq_core.testing.worker import eventually, wait_until


async def test_an_ack_lost_with_the_connection_is_sent_again_after_the_reconnect(
    nats_url: str, queue_name: str, proxy: TcpProxy
) -> None:
    proxied = proxy.url
    async with Queue(queue_name, nats_url) as q:
        # ack_wait far beyond the test: only an ack sent again can empty the consumer
        async with running_worker(proxied, queue_name, ack_wait=120) as worker:
            warm = await q.enqueue(worker_tasks.add, 1, 1)  # the consumer exists and works
            assert await q.fetch_job_result(warm, timeout=10) == 2
            await eventually(lambda: _ack_pending(q, queue_name, 0), timeout=10)
            proxy.drop_published_to(b"$JS.ACK.")  # acks (and in_progress signs) are lost
            job = await q.enqueue(worker_tasks.add, 2, 3)
            assert await q.fetch_job_result(job, timeout=10) == 5  # ran; record stored
            await eventually(lambda: _ack_pending(q, queue_name, 1), timeout=10)
            runner = worker._runner
            assert runner is not None
            nc = runner.conn.nc
            reconnects = nc.stats["reconnects"]
            proxy.cut()
            await wait_until(lambda: not nc.is_connected, timeout=10)
            proxy.reopen()
            await wait_until(lambda: nc.stats["reconnects"] > reconnects, timeout=30)
            await eventually(lambda: _ack_pending(q, queue_name, 0), timeout=10)
            assert await q.job_status(job) is JobStatus.COMPLETED
            record = await q.job_record(job)
            assert record.attempt == 1  # never delivered again


async def _ack_pending(q: Queue, queue: str, expected: int) -> bool:
    conn = await q.connection()
    info = await conn.js.consumer_info(JOBS_STREAM, consumer_name(queue))
    return info.num_ack_pending == expected and info.num_pending == 0


async def test_a_completed_job_delivered_again_is_acked_without_running(
    nats_url: str, queue_name: str, proxy: TcpProxy
) -> None:
    """Its ack never reached the consumer (lost with a consumer leader that died before
    replicating it, here dropped on the way), so JetStream delivers the job again after
    ack_wait. Its record already says completed, for this very enqueue: the worker acks
    it without running it a second time (one record read, only for a redelivery)."""
    key = uuid.uuid4().hex
    async with Queue(queue_name, nats_url) as q:
        async with running_worker(proxy.url, queue_name, ack_wait=1):
            warm = await q.enqueue(worker_tasks.add, 1, 1)
            assert await q.fetch_job_result(warm, timeout=10) == 2
            await eventually(lambda: _ack_pending(q, queue_name, 0), timeout=10)  # warm's ack is in
            proxy.drop_published_to(b"$JS.ACK.")  # its ack is lost
            job = await q.enqueue(worker_tasks.count, key)
            assert await q.fetch_job_result(job, timeout=10) == 1  # ran once, record stored
            await eventually(lambda: _ack_pending(q, queue_name, 1), timeout=10)
            proxy.keep_published()  # acks go through again; the redelivery comes
            await eventually(lambda: _ack_pending(q, queue_name, 0), timeout=30)
            assert worker_tasks.calls[key] == 1  # not run again
            record = await q.job_record(job)
            assert (record.status, record.attempt) == (JobStatus.COMPLETED, 1)


async def test_records_waiting_for_the_store_slow_the_pulls_instead_of_piling_up(
    nats_url: str, queue_name: str, proxy: TcpProxy
) -> None:
    """While the store does not answer (a stalled or starved nats-server, here records
    dropped on the way), finished jobs' records wait for their reply. A job's pull credit
    came back when its record was published, so the worker kept running jobs and the
    unconfirmed records piled up (1,148 in one soak, its memory stepping up). Now records
    waiting beyond four times the worker's capacity take its place: it stops pulling at
    five times its capacity waiting."""
    async with Queue(queue_name, nats_url) as q:
        async with running_worker(proxy.url, queue_name, concurrency=2, prefetch=0) as worker:
            runner = worker._runner
            assert runner is not None
            proxy.drop_published_to(b"$KV.naq_results.")  # no record reaches the store
            jobs = await q.enqueue_many([(worker_tasks.add, (i, 1)) for i in range(100)])
            await wait_until(lambda: runner.conn.confirmer.pending >= 10, timeout=10)
            await asyncio.sleep(0.5)  # room for more pulls, had they been made
            assert runner.conn.confirmer.pending <= 10 and runner.processed <= 12
            proxy.keep_published()  # the store answers again: everything completes
            assert await q.fetch_job_result(jobs[-1], timeout=60) == 100
