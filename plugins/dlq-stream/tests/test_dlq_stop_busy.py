"""A worker stopped while busy: a backlog of junk, failing jobs and pending jobs.

Every step of its stop runs and ends in time (none is cut off by its bound), every message
it held is handed back or settled (a second worker finishes the backlog long before
``ack_wait``), and it leaves no task behind on the event loop.
"""

from __future__ import annotations

import asyncio

from dlq_support import dlq_store, eventually

from naq_core import Queue, Worker
from naq_core.testing.worker import running_worker, wait_until
from naq_dlq_stream import LetterFilter

#: Steps every clean stop of a one-queue worker runs, first to last.
_STEPS = [
    "announce_stopping",
    "pull_consumer",
    "running_jobs",
    "in_progress_sweep",
    "heartbeat",
    "cancel_subscription",
    "max_delivery_mover",
    "dependency_watch",
    "worker_stopped",
    "close_connection",
]


async def test_a_busy_worker_stops_completely(nats_url: str, queue_name: str) -> None:
    before = asyncio.all_tasks()
    async with Queue(queue_name, nats_url) as q, dlq_store(nats_url) as store:
        conn = await q.connection()
        worker = Worker(
            queue_name,
            nats_url,
            tasks=["dlq_stop_tasks"],
            concurrency=8,
            shutdown_timeout=5,
            ack_wait=60,
            install_signal_handlers=False,
        )
        run = asyncio.create_task(worker.run())
        await wait_until(lambda: worker.status == "running" or run.done(), timeout=15)
        assert worker.status == "running", run
        for i in range(150):  # junk: poison and unknown tasks, each one a dead letter
            subject = f"naq.queue.{queue_name}.junk{i}"
            await conn.js.publish(subject, b"\xff not a job" if i % 2 else b'{"v": 1, "fn": 3}')
        await q.enqueue_many([("dlq_stop_tasks:fail_sync", (i,)) for i in range(150)])
        await q.enqueue_many(
            [(f"dlq_stop_tasks:slow_{kind}", (i,)) for i in range(300) for kind in ("sync", "async")]
        )

        async def dead_lettering() -> bool:
            return len(await store.list(LetterFilter(queue=queue_name), limit=None)) >= 20

        await eventually(dead_lettering, timeout=30)
        worker.request_stop()
        await wait_until(lambda: worker.status == "stopped" and run.done(), timeout=60)
        assert run.result() is None
        assert await q.count() > 0  # it was stopped with a backlog left

        steps = [(name.partition(":")[0], outcome) for name, outcome in worker.stop_steps]
        assert steps == [(name, "ok") for name in _STEPS]

        # Nothing it held is stuck until ack_wait (60 s): a second worker runs the rest now.
        async with running_worker(nats_url, queue_name, tasks=["dlq_stop_tasks"], concurrency=8):

            async def drained() -> bool:
                return await q.count() == 0

            await eventually(drained, timeout=40)
    # The test's connections are closed too: no task of the workers (or of a connection
    # they opened, such as the sink's) is left on the loop.
    assert [t for t in asyncio.all_tasks() - before if not t.done()] == []
