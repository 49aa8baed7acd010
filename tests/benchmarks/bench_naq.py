"""naq's side of the benchmark, through the public API only (Queue, Worker)."""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

import bench_tasks

from naq_core import Queue, Worker

__all__ = ["NaqBench"]

TASK_MODULES = ["bench_tasks"]
_POLL = 0.005


def _queue_name(kind: str) -> str:
    return f"bench_{kind}_{uuid.uuid4().hex[:8]}"


class NaqBench:
    """Each measurement uses a queue of its own and leaves it empty."""

    def __init__(self, url: str, *, concurrency: int, timeout: float) -> None:
        self.url = url
        self.concurrency = concurrency
        self.timeout = timeout

    def _worker(self, queue: str) -> Worker:
        return Worker(
            queue,
            self.url,
            concurrency=self.concurrency,
            tasks=TASK_MODULES,
            install_signal_handlers=False,
        )

    async def _stop(self, worker: Worker, running: asyncio.Task[None]) -> None:
        worker.request_stop()
        await asyncio.wait_for(running, self.timeout)

    async def encoded_noop(self) -> tuple[bytes, str]:
        """The bytes and serializer name of a no-op job, for the raw baseline's payload."""
        async with Queue(_queue_name("probe"), self.url) as queue:
            conn = await queue.connection()
            job = queue.prepare(bench_tasks.noop)
            return conn.serializer.dumps(job.to_envelope()), conn.serializer.name

    async def enqueue(self, n: int) -> float:
        """(a') one awaited ``Queue.enqueue`` of a no-op task at a time."""
        async with Queue(_queue_name("enqueue"), self.url) as queue:
            await queue.connection()
            noop = bench_tasks.noop
            start = time.perf_counter()
            for _ in range(n):
                await queue.enqueue(noop)
            elapsed = time.perf_counter() - start
            await queue.purge()
        return n / elapsed

    async def enqueue_many(self, n: int) -> float:
        """(b') one ``Queue.enqueue_many`` of ``n`` no-op jobs."""
        async with Queue(_queue_name("many"), self.url) as queue:
            await queue.connection()
            calls = [(bench_tasks.noop, ())] * n
            start = time.perf_counter()
            await queue.enqueue_many(calls)
            elapsed = time.perf_counter() - start
            await queue.purge()
        return n / elapsed

    async def drain(self, n: int, task: Callable[..., Any]) -> float:
        """(c') one Worker draining ``n`` pre-enqueued jobs, results stored.

        The clock runs from starting the worker (connect, consumer, first pull included)
        until the result record of the last job enqueued exists.
        """
        name = _queue_name("drain")
        async with Queue(name, self.url) as queue:
            jobs = await queue.enqueue_many([(task, ())] * n)
            worker = self._worker(name)
            start = time.perf_counter()
            running = asyncio.create_task(worker.run())
            try:
                await queue.fetch_job_result(jobs[-1], timeout=self.timeout)
                elapsed = time.perf_counter() - start
            finally:
                await self._stop(worker, running)
            left = await queue.count()
            if left:
                print(f"warning: drain left {left} of {n} jobs queued", file=sys.stderr)
                await queue.purge()
        return n / elapsed

    async def _wait_running(self, worker: Worker) -> None:
        deadline = time.monotonic() + self.timeout
        while worker.status != "running":
            if time.monotonic() > deadline:
                raise TimeoutError(f"worker not running after {self.timeout:g} s (status {worker.status})")
            await asyncio.sleep(_POLL)

    async def latency(self, samples: int, warmup: int = 20, gap: float = 0.005) -> list[float]:
        """Enqueue-to-start delays (ms) of single jobs sent to an idle worker, one at a time.

        Each job carries the producer's ``time.time()`` taken just before ``enqueue``; the
        task returns how late it started. ``gap`` seconds pass between samples so that the
        worker is idle (its pull request re-issued) when the next job arrives.
        """
        name = _queue_name("latency")
        delays: list[float] = []
        async with Queue(name, self.url) as queue:
            await queue.connection()
            worker = self._worker(name)
            running = asyncio.create_task(worker.run())
            try:
                await self._wait_running(worker)
                for i in range(warmup + samples):
                    await asyncio.sleep(gap)
                    job = await queue.enqueue(bench_tasks.stamp, time.time())
                    delay = await queue.fetch_job_result(job, timeout=self.timeout)
                    if i >= warmup:
                        delays.append(float(delay) * 1000.0)
            finally:
                await self._stop(worker, running)
        return delays
