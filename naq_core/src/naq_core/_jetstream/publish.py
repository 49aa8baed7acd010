"""Pipelined JetStream publishing: many messages, one flush, acks counted not parsed.

nats-py's ``publish_async`` makes a future, a semaphore slot and a parsed ``PubAck`` per
message. For a batch naq needs less: one reply subscription per connection, one counter
and one future per batch, and a substring check for errors. Acks are matched by a per-batch
reply token, so concurrent batches on one connection do not mix.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Iterable

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from naq_core.errors import NaqConnectionError

__all__ = ["AckPipeline"]

_WINDOW = 8192  # unacknowledged messages allowed in flight per batch


class _Batch:
    __slots__ = ("errors", "future", "remaining")

    def __init__(self, future: asyncio.Future[None]) -> None:
        self.remaining = 0
        self.errors: list[str] = []
        self.future = future


class AckPipeline:
    """Publishes batches to JetStream and waits for all their acks at once."""

    def __init__(self, nc: NATS) -> None:
        self._nc = nc
        self._prefix = ""
        self._sub: Subscription | None = None
        self._batches: dict[str, _Batch] = {}
        self._ids = itertools.count()
        self._lock = asyncio.Lock()

    async def _start(self) -> None:
        async with self._lock:
            if self._sub is None:
                self._prefix = self._nc.new_inbox()
                self._sub = await self._nc.subscribe(f"{self._prefix}.*", cb=self._on_ack)

    async def _on_ack(self, msg: Msg) -> None:
        batch = self._batches.get(msg.subject.rpartition(".")[2])
        if batch is None:
            return
        data = msg.data
        if not data or b'"error"' in data:
            batch.errors.append(_describe(msg))
        batch.remaining -= 1
        if batch.remaining <= 0 and not batch.future.done():
            batch.future.set_result(None)

    async def publish(
        self, messages: Iterable[tuple[str, bytes, dict[str, str] | None]], timeout: float = 30.0
    ) -> None:
        """Publish ``(subject, data, headers)`` items; raise if any was not stored."""
        if self._sub is None:
            await self._start()
        token = str(next(self._ids))
        reply = f"{self._prefix}.{token}"
        loop = asyncio.get_running_loop()
        batch = _Batch(loop.create_future())
        self._batches[token] = batch
        publish = self._nc.publish
        sent = 0
        try:
            for subject, data, headers in messages:
                batch.remaining += 1
                sent += 1
                await publish(subject, data, reply=reply, headers=headers)
                if batch.remaining >= _WINDOW:
                    await self._wait_below(batch, _WINDOW // 2, timeout)
            if sent and batch.remaining > 0:
                await asyncio.wait_for(asyncio.shield(batch.future), timeout)
        except TimeoutError:
            raise NaqConnectionError(
                f"NATS confirmed {sent - batch.remaining} of {sent} messages within {timeout} s"
            ) from None
        finally:
            self._batches.pop(token, None)
        if batch.errors:
            raise NaqConnectionError(
                f"{len(batch.errors)} of {sent} messages were not stored: {batch.errors[0]}"
            )

    async def _wait_below(self, batch: _Batch, level: int, timeout: float) -> None:
        # Flow control for huge batches: a short sleep is cheaper than an Event per ack.
        async with asyncio.timeout(timeout):
            while batch.remaining > level:  # noqa: ASYNC110
                await asyncio.sleep(0.001)


def _describe(msg: Msg) -> str:
    if not msg.data:
        status = (msg.headers or {}).get("Status", "?")
        return f"no JetStream stream answered (status {status})"
    try:
        error = json.loads(msg.data).get("error", {})
        return str(error.get("description", error))
    except ValueError:
        return msg.data[:200].decode("utf-8", "replace")
