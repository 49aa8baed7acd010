"""Records confirmed by the server before their job is acknowledged, without a round trip
per job on the worker's path.

A completed job's record is published with a reply subject on one inbox subscription per
connection; when the stream's acknowledgement arrives, the job's own message is acked. So a
job leaves its queue only once its record is stored (a waiter that no longer finds the job
queued always finds its record), while jobs go on running: nothing waits for the reply but
the ack. Acks are matched by a token per record and checked with a substring test, as in
:mod:`naq_core._jetstream.publish`. A record the server refuses is logged and the job still
acked (it ran; running it again would not store the record either). A reply that never
comes leaves the job unacked: it is delivered again after ``ack_wait``.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from naq_core._log import get_logger

__all__ = ["RecordConfirmer"]

Then = Callable[[], Awaitable[None]]


class RecordConfirmer:
    """Publishes records and runs ``then`` (the job's ack) once each is stored."""

    def __init__(self, nc: NATS) -> None:
        self._nc = nc
        self._prefix = ""
        self._sub: Subscription | None = None
        self._pending: dict[str, tuple[str, Then]] = {}
        self._ids = itertools.count()
        self._lock = asyncio.Lock()
        self._settled = asyncio.Event()
        self._settled.set()

    async def _start(self) -> None:
        async with self._lock:
            if self._sub is None:
                self._prefix = self._nc.new_inbox()
                self._sub = await self._nc.subscribe(f"{self._prefix}.*", cb=self._on_reply)

    async def publish(self, subject: str, data: bytes, headers: dict[str, str], then: Then) -> None:
        """Publish one record; ``then()`` runs when the server has stored it."""
        if self._sub is None:
            await self._start()
        token = str(next(self._ids))
        self._pending[token] = (subject, then)
        self._settled.clear()
        try:
            await self._nc.publish(subject, data, reply=f"{self._prefix}.{token}", headers=headers)
        except BaseException:
            self._forget(token)
            raise

    def _forget(self, token: str) -> tuple[str, Then] | None:
        entry = self._pending.pop(token, None)
        if not self._pending:
            self._settled.set()
        return entry

    async def _on_reply(self, msg: Msg) -> None:
        entry = self._forget(msg.subject.rpartition(".")[2])
        if entry is None:
            return
        subject, then = entry
        if not msg.data or b'"error"' in msg.data:
            get_logger(__name__).error(
                "record_not_stored", subject=subject, reply=msg.data[:200].decode("utf-8", "replace")
            )
        try:
            await then()
        except Exception as exc:  # the connection went away: the job comes back after ack_wait
            get_logger(__name__).warning("ack_after_record_failed", subject=subject, error=str(exc))

    @property
    def pending(self) -> int:
        """Records published and not yet confirmed."""
        return len(self._pending)

    async def settle(self, timeout: float) -> bool:
        """Wait until every published record was confirmed (and its job acked)."""
        try:
            async with asyncio.timeout(timeout):
                await self._settled.wait()
        except TimeoutError:
            return False
        return True
