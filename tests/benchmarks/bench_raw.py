"""The baseline: what nats-py alone does with the same messages naq sends.

Each message has naq's subject shape (``bench.queue.<queue>.<id>``), the size of a naq
no-op job envelope and naq's two headers (``Nats-Msg-Id`` with a fresh id, the serializer
name), on a file-backed WorkQueue stream configured like ``naq_jobs``. So the ratios show
what naq's own Python code costs on top of the client, not a different workload.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid

import nats
import nats.errors
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, RetentionPolicy, StorageType, StreamConfig

__all__ = ["RAW_STREAM", "RawBench"]

RAW_STREAM = "bench_raw"
_FETCH_BATCH = 100


class RawBench:
    """One nats-py connection and the raw stream; every measurement returns messages/second."""

    def __init__(self, url: str, payload: bytes, serializer: str) -> None:
        self.url = url
        self.payload = payload
        self.serializer = serializer
        self._nc: NATS | None = None
        self._js: JetStreamContext | None = None

    @property
    def js(self) -> JetStreamContext:
        assert self._js is not None, "call start() first"
        return self._js

    async def start(self) -> None:
        self._nc = await nats.connect(self.url, name="naq-bench-raw", pending_size=8 * 1024 * 1024)
        self._js = self._nc.jetstream()
        await self._js.add_stream(
            StreamConfig(
                name=RAW_STREAM,
                subjects=["bench.queue.>"],
                retention=RetentionPolicy.WORK_QUEUE,
                storage=StorageType.FILE,
                duplicate_window=120.0,
                allow_msg_ttl=True,
            )
        )

    async def close(self) -> None:
        if self._nc is not None:
            try:
                await self.js.delete_stream(RAW_STREAM)
            finally:
                await self._nc.close()
            self._nc = self._js = None

    def _headers(self, msg_id: str) -> dict[str, str]:
        return {"Nats-Msg-Id": msg_id, "Naq-Serializer": self.serializer}

    async def _purge(self) -> None:
        await self.js.purge_stream(RAW_STREAM)

    async def publish(self, n: int) -> float:
        """(a) one awaited ``js.publish`` at a time."""
        queue = _queue()
        js, payload = self.js, self.payload
        start = time.perf_counter()
        for _ in range(n):
            msg_id = os.urandom(16).hex()
            await js.publish(f"bench.queue.{queue}.{msg_id}", payload, headers=self._headers(msg_id))
        elapsed = time.perf_counter() - start
        await self._purge()
        return n / elapsed

    async def _publish_pipelined(self, queue: str, n: int) -> None:
        js, payload = self.js, self.payload
        futures = []
        for _ in range(n):
            msg_id = os.urandom(16).hex()
            subject = f"bench.queue.{queue}.{msg_id}"
            futures.append(await js.publish_async(subject, payload, headers=self._headers(msg_id)))
        await asyncio.gather(*futures)

    async def publish_async(self, n: int) -> float:
        """(b) pipelined ``js.publish_async``, then every ack future awaited."""
        queue = _queue()
        start = time.perf_counter()
        await self._publish_pipelined(queue, n)
        elapsed = time.perf_counter() - start
        await self._purge()
        return n / elapsed

    async def fetch_ack(self, n: int, timeout: float) -> float:
        """(c) ``pull_subscribe`` + ``fetch(100)`` + ``msg.ack()`` until ``n`` were drained.

        The clock runs from creating the pull subscription (as a worker starting up would)
        until the last ack has reached the server (a flush after it).
        """
        queue = _queue()
        await self._publish_pipelined(queue, n)
        assert self._nc is not None
        durable = f"bench-{queue}"
        config = ConsumerConfig(
            ack_policy=AckPolicy.EXPLICIT, ack_wait=30.0, max_deliver=20, max_ack_pending=-1, max_waiting=512
        )
        deadline = time.monotonic() + timeout
        start = time.perf_counter()
        sub = await self.js.pull_subscribe(
            f"bench.queue.{queue}.*", durable=durable, stream=RAW_STREAM, config=config
        )
        done = 0
        while done < n:
            if time.monotonic() > deadline:
                raise TimeoutError(f"raw drain: {done} of {n} messages after {timeout:g} s")
            try:
                msgs = await sub.fetch(_FETCH_BATCH, timeout=5.0)
            except nats.errors.TimeoutError:
                continue
            for msg in msgs:
                await msg.ack()
            done += len(msgs)
        await self._nc.flush()
        elapsed = time.perf_counter() - start
        await sub.unsubscribe()
        await self.js.delete_consumer(RAW_STREAM, durable)
        await self._purge()
        return n / elapsed

    async def latency(self, samples: int, warmup: int = 20, gap: float = 0.005) -> list[float]:
        """Publish-to-receipt delays (ms) of single messages to an idle pull consumer.

        A ``fetch(1)`` is waiting on the server when each message is published, as a naq
        worker's pull request is when it is idle.
        """
        queue = _queue()
        durable = f"lat-{queue}"
        config = ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, ack_wait=30.0, max_waiting=512)
        sub = await self.js.pull_subscribe(
            f"bench.queue.{queue}.*", durable=durable, stream=RAW_STREAM, config=config
        )

        async def receive() -> float:
            msgs = await sub.fetch(1, timeout=10.0)
            received = time.perf_counter()
            await msgs[0].ack()
            return received

        delays: list[float] = []
        try:
            for i in range(warmup + samples):
                waiting = asyncio.ensure_future(receive())
                await asyncio.sleep(gap)  # the pull request reaches the server
                msg_id = os.urandom(16).hex()
                sent = time.perf_counter()
                await self.js.publish(
                    f"bench.queue.{queue}.{msg_id}", self.payload, headers=self._headers(msg_id)
                )
                received = await waiting
                if i >= warmup:
                    delays.append((received - sent) * 1000.0)
        finally:
            await sub.unsubscribe()
            await self.js.delete_consumer(RAW_STREAM, durable)
            await self._purge()
        return delays


def _queue() -> str:
    return f"q{uuid.uuid4().hex[:10]}"
