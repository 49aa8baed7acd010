"""A pull consumer that always keeps a pull request pending.

nats-py's ``fetch`` asks for messages, waits, and asks again, so a worker has no request
open while it handles a batch. Here one subscription on a private inbox receives every
message, and pull requests are re-issued as soon as execution slots free up: an idle
worker always has a request waiting on the server (a new job starts in well under a
millisecond), and a busy one asks for as many messages as it has free slots (the batch
grows with the backlog). Requests expire after ``expires`` seconds; the client tracks
their deadlines itself, so a request lost in a reconnect or a leader election frees its
credit on time without trusting status messages. A deadline must never pass before the
server's own, or the server sends a second batch on top of the first and the worker holds
more than its capacity, more with every stall, for as long as the queue has a backlog (its
memory steps up and stays up). So a request's clock starts once a ping round trip shows
the server has read it (a stalled server reads it late, and its expiry starts only then),
and a request past its deadline is let go only after another round trip has brought in
what the server sent before (a stalled loop has not read it yet, a stalled server had it
queued) and no delivered message waits in the inbox subscription (:meth:`_expire_loop`).
A status that ends a request early (409 on a consumer-leader change, 503 while the
consumer has no leader) frees its credit and asks again at once (:meth:`_ended`). A
stopping worker drains its inbox rather than waiting for its requests to expire (see
:meth:`stop`), so stopping is prompt.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import json
import math
import time
from collections.abc import Callable

import nats.errors
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from naq_core._log import get_logger
from naq_core._teardown import cancel_and_wait

__all__ = ["PullConsumer"]

#: Status replies that end a pull request before it expires (its credit comes back).
_ENDED_BY_STATUS = ("409", "503")
#: Pause before the pull that follows such a status.
_PAUSE = 0.1
#: That pull's ``expires`` (seconds).
_AFTER_STATUS_EXPIRES = 1.0
#: How long a pull waits for the round trip that starts its clock (a server that answers
#: no ping for this long is replaced by a reconnect, which forgets every request).
_CONFIRM_WITHIN = 30
#: The timeout given to nats-py's own flush, which must never time out (see _round_trip).
_FLUSH_NEVER_ENDS = 3600


async def _round_trip(nc: NATS, timeout: float) -> None:
    """A PING/PONG round trip: the server has read everything written before it.

    nats-py's ``flush`` cancels its pong future when it times out or is cancelled, and the
    PONG that arrives later then raises in its read loop (``InvalidStateError``), which
    drops the connection. So that flush is never cut short: it runs shielded, with a
    timeout far beyond ours, and ours (or a cancellation) only stops waiting for it. A
    reconnect forgets the futures it waits on, so it then just ends at its own timeout.
    """
    flush = asyncio.ensure_future(nc.flush(_FLUSH_NEVER_ENDS))
    flush.add_done_callback(_retrieve)
    await asyncio.wait_for(asyncio.shield(flush), timeout)


def _retrieve(task: asyncio.Future[None]) -> None:
    """Read a finished flush's outcome, so nobody logs it as never retrieved."""
    if not task.cancelled():
        task.exception()


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
        self._clocks: set[asyncio.Task[None]] = set()  # round trips starting requests' clocks
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
        """Stop asking for messages and give back, through ``deliver``, what is on its way.

        The inbox is *drained*: the server is told we are no longer listening, and a ping
        round trip proves that everything it sent before has arrived; those arrivals are
        handed to ``deliver`` as usual (a stopping worker NAKs them at once). The server
        drops an open pull request once its reply subject has no interest (nats-server
        ``consumer.go``: ``HasInterest`` on the wait queue), so nothing is delivered to the
        inbox afterwards. The one window left is inside the server: a message routed in the
        instant between that interest check and our unsubscribe is dropped on the way and
        comes back after ``ack_wait``, never lost. All of it is bounded by ``timeout``.
        """
        self._stopping = True
        if self._timer is not None:
            await cancel_and_wait(self._timer)
        for clock in list(self._clocks):  # their requests end with the inbox
            await cancel_and_wait(clock)
        sub, self._sub = self._sub, None
        if sub is None:
            return
        try:
            async with asyncio.timeout(timeout):
                await sub.drain()  # type: ignore[no-untyped-call]  # nats-py 2.16 has no annotation
        except (nats.errors.Error, TimeoutError) as exc:
            get_logger(__name__).warning("pull_inbox_drain_failed", error=str(exc) or type(exc).__name__)
            with contextlib.suppress(nats.errors.Error):
                await sub.unsubscribe()

    def reset(self) -> None:
        """Forget every open request (after a reconnect) and ask again."""
        self._requests.clear()
        self._outstanding = 0
        if not self._stopping:
            asyncio.get_running_loop().create_task(self._pull())

    def done(self) -> None:
        """One held message finished (acked, NAKed or termed): its credit comes back."""
        self._held -= 1
        capacity = self._capacity()  # grows with the prefetch of short jobs: pull in
        free = capacity - self._held - self._outstanding  # batches of a quarter of it
        if free >= max(self._min_batch, capacity // 4) and not self._stopping:
            asyncio.get_running_loop().create_task(self._pull())

    async def _pull(self, expires: float | None = None) -> None:
        free = self._capacity() - self._held - self._outstanding
        if free <= 0 or self._stopping or self._sub is None:
            return
        expires = self._expires if expires is None else expires
        self._outstanding += free
        pending = [float(free), math.inf]  # [remaining, deadline]: no clock until the server has it
        self._requests.append(pending)
        request = {"batch": free, "expires": int(expires * 1e9)}
        try:
            await self._nc.publish(self._next_subject, json.dumps(request).encode(), reply=self._inbox)
        except nats.errors.Error as exc:
            pending[1] = time.monotonic() + expires
            if not self._stopping:
                get_logger(__name__).warning("pull_request_failed", error=str(exc) or type(exc).__name__)
            return
        # In a task of its own: whoever asked for this pull (the worker's start, say) does not
        # wait for the round trip, nor can a cancellation of theirs be lost in it (Python
        # 3.11's wait_for drops one that lands as the awaited future completes).
        clock = asyncio.get_running_loop().create_task(self._start_clock(pending, expires))
        self._clocks.add(clock)
        clock.add_done_callback(self._clocks.discard)

    async def _start_clock(self, pending: list[float], expires: float) -> None:
        """Start a request's deadline once a round trip shows the server has read it."""
        try:
            await _round_trip(self._nc, _CONFIRM_WITHIN)
        except (nats.errors.Error, TimeoutError) as exc:
            if not self._stopping:
                get_logger(__name__).warning("pull_request_failed", error=str(exc) or type(exc).__name__)
        finally:
            pending[1] = time.monotonic() + expires

    async def _on_msg(self, msg: Msg) -> None:
        if not msg.reply:  # a status message (408 expired, 409, 404, 503, 100 heartbeat)
            if (msg.headers or {}).get("Status") in _ENDED_BY_STATUS:
                self._ended(msg)
            return
        if self._requests:
            head = self._requests[0]
            head[0] -= 1
            self._outstanding -= 1
            if head[0] <= 0:
                self._requests.popleft()
        self._held += 1
        self._deliver(msg)

    def _ended(self, msg: Msg) -> None:
        """The server ended a request (409: the consumer's leader changed, or a limit; 503:
        the consumer has no leader, or none exists): free its credit and ask again now, not
        when it would have expired. Which request ended is not said; requests end mostly in
        order, so the oldest goes. The next pull waits :data:`_PAUSE` (a 503 comes back at
        once: no busy loop while an election runs) and expires within
        :data:`_AFTER_STATUS_EXPIRES`: one that still reaches the old leader as it steps
        down is kept there without a word, and must not hold its credit for long. The pulls
        after it are the usual."""
        if self._requests:
            remaining, _ = self._requests.popleft()
            self._outstanding -= int(remaining)
        loop = asyncio.get_running_loop()
        again = functools.partial(self._pull, min(self._expires, _AFTER_STATUS_EXPIRES))
        loop.call_later(_PAUSE, lambda: loop.create_task(again()))

    async def _expire_loop(self) -> None:
        """Free the credit of requests past their deadline, and ask again. Before it does, a
        ping round trip brings in whatever the server sent before it (messages a stalled
        loop has not read yet, or a stalled server had queued for us before its own expiry),
        and nothing expires while delivered messages wait in the inbox subscription: they
        may be the requests' own."""
        while True:
            await asyncio.sleep(min(1.0, self._expires / 2))
            now = time.monotonic()
            expired = False
            if any(r[1] <= now for r in self._requests):
                with contextlib.suppress(nats.errors.Error, TimeoutError):
                    await _round_trip(self._nc, _CONFIRM_WITHIN)
                if self._sub is None or self._sub.pending_msgs == 0:
                    for request in [r for r in self._requests if r[1] <= now]:  # short ones may be behind
                        self._requests.remove(request)
                        self._outstanding -= int(request[0])
                        expired = True
            if expired or self._capacity() - self._held - self._outstanding >= self._min_batch:
                await self._pull()
