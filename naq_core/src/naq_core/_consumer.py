"""A pull consumer that always keeps a pull request pending.

nats-py's ``fetch`` asks for messages, waits, and asks again, so a worker has no request
open while it handles a batch. Here one subscription on a private inbox receives every
message, and pull requests are re-issued as soon as execution slots free up: an idle
worker always has a request waiting on the server (a new job starts in well under a
millisecond), and a busy one asks for as many messages as it has free slots (the batch
grows with the backlog). Requests expire after ``expires`` seconds; the client tracks
their deadlines itself, so a request lost in a reconnect or a leader election frees its
credit on time without trusting status messages. The expiry is short (2 s) because a
stopping worker keeps its inbox until its open requests have ended (see :meth:`stop`).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import time
from collections.abc import Callable

import nats.errors
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from naq_core._log import get_logger
from naq_core._teardown import cancel_and_wait

__all__ = ["PullConsumer"]

#: Seconds past a request's deadline after which nothing more can arrive for it.
_DELIVERY_SLACK = 0.25


class PullConsumer:
    """Feeds messages of one durable consumer to ``deliver`` within a credit budget."""

    def __init__(
        self,
        nc: NATS,
        stream: str,
        consumer: str,
        *,
        capacity: Callable[[], int],
        deliver: Callable[[Msg], None],
        expires: float = 2.0,
    ) -> None:
        self._nc = nc
        self._next_subject = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{consumer}"
        self._capacity = capacity
        self._deliver = deliver
        self._expires = expires
        self._requests: collections.deque[list[float]] = collections.deque()  # [remaining, deadline]
        self._outstanding = 0
        self._held = 0  # delivered to us and not finished (running or waiting for a slot)
        self._inbox = ""
        self._sub: Subscription | None = None
        self._timer: asyncio.Task[None] | None = None
        self._stopping = False
        self._min_batch = max(1, capacity() // 4)

    @property
    def held(self) -> int:
        return self._held

    async def start(self) -> None:
        self._inbox = self._nc.new_inbox()
        self._sub = await self._nc.subscribe(self._inbox, cb=self._on_msg)
        self._timer = asyncio.create_task(self._expire_loop(), name="naq-pull-expiry")
        await self._pull()

    def stop_pulling(self) -> None:
        """Ask for no more messages (the worker is stopping); :meth:`stop` ends the rest."""
        self._stopping = True

    async def stop(self, timeout: float = 5.0) -> None:
        """Stop asking for messages, and end our open requests before the inbox goes.

        A message the server hands to one of our open requests is delivered to it as far
        as JetStream knows; if the inbox is gone when it is routed, it is dropped on the
        way and stays pending until ``ack_wait``. So the inbox stays subscribed until every
        request has ended (its batch served, or past its deadline plus
        :data:`_DELIVERY_SLACK`), each arrival handed to ``deliver`` as usual (which NAKs it
        on a stopping worker). Then it is *drained*: the server is told, a ping round trip
        proves everything sent before has arrived, and those arrivals are handed on too.
        All of it is bounded by ``timeout`` seconds.
        """
        self._stopping = True
        if self._timer is not None:
            await cancel_and_wait(self._timer)
        sub, self._sub = self._sub, None
        if sub is None:
            return
        try:
            async with asyncio.timeout(timeout):
                await self._requests_ended()
                await sub.drain()  # type: ignore[no-untyped-call]  # nats-py 2.16 has no annotation
        except (nats.errors.Error, TimeoutError) as exc:
            get_logger(__name__).warning("pull_inbox_drain_failed", error=str(exc) or type(exc).__name__)
            with contextlib.suppress(nats.errors.Error):
                await sub.unsubscribe()

    async def _requests_ended(self) -> None:
        """Wait until no request of ours is open on the server (the caller bounds it)."""
        while True:
            now = time.monotonic()
            while self._requests and self._requests[0][1] + _DELIVERY_SLACK <= now:
                remaining, _ = self._requests.popleft()
                self._outstanding -= int(remaining)
            if not self._requests:
                return
            await asyncio.sleep(0.02)

    def reset(self) -> None:
        """Forget every open request (after a reconnect) and ask again."""
        self._requests.clear()
        self._outstanding = 0
        if not self._stopping:
            asyncio.get_running_loop().create_task(self._pull())

    def done(self) -> None:
        """One held message finished (acked, NAKed or termed): its credit comes back."""
        self._held -= 1
        free = self._capacity() - self._held - self._outstanding
        if free >= self._min_batch and not self._stopping:
            asyncio.get_running_loop().create_task(self._pull())

    async def _pull(self) -> None:
        free = self._capacity() - self._held - self._outstanding
        if free <= 0 or self._stopping or self._sub is None:
            return
        self._outstanding += free
        self._requests.append([float(free), time.monotonic() + self._expires])
        request = {"batch": free, "expires": int(self._expires * 1e9)}
        try:
            await self._nc.publish(self._next_subject, json.dumps(request).encode(), reply=self._inbox)
        except nats.errors.Error as exc:
            get_logger(__name__).warning("pull_request_failed", error=str(exc))

    async def _on_msg(self, msg: Msg) -> None:
        if not msg.reply:  # a status message (408 expired, 409, 404, 100 heartbeat)
            return
        if self._requests:
            head = self._requests[0]
            head[0] -= 1
            self._outstanding -= 1
            if head[0] <= 0:
                self._requests.popleft()
        self._held += 1
        self._deliver(msg)

    async def _expire_loop(self) -> None:
        while True:
            await asyncio.sleep(min(1.0, self._expires / 2))
            now = time.monotonic()
            expired = False
            while self._requests and self._requests[0][1] <= now:
                remaining, _ = self._requests.popleft()
                self._outstanding -= int(remaining)
                expired = True
            if expired or self._capacity() - self._held - self._outstanding >= self._min_batch:
                await self._pull()
