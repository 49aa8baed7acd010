"""The fetch loop survives the server going away and coming back (same store)."""

from __future__ import annotations

import asyncio

import worker_tasks
from support import running_worker

from naq_core import NaqConnectionError, Queue
from naq_core.server import EmbeddedServer


async def test_worker_and_queue_survive_a_server_restart(fresh_nats_server: EmbeddedServer) -> None:
    server = fresh_nats_server
    url = server.url
    async with Queue("restart", url) as q, running_worker(url, "restart"):
        first = await q.enqueue(worker_tasks.add, 1, 1)
        assert await q.fetch_job_result(first, timeout=10) == 2
        server.stop()
        await asyncio.sleep(0.5)
        server.start()  # same port, same store
        async with asyncio.timeout(20):
            while True:  # the queue's connection reconnects on its own
                try:
                    second = await q.enqueue(worker_tasks.add, 2, 2)
                    break
                except (NaqConnectionError, TimeoutError):  # not connected yet; anything else fails
                    await asyncio.sleep(0.2)
        assert await q.fetch_job_result(second, timeout=20) == 4
