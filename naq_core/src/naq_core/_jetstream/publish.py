"""Pipelined JetStream publishing that survives a reconnect: acks counted, lost ones re-sent.

nats-py's ``publish_async`` makes a future, a semaphore slot and a parsed ``PubAck`` per
message. For a batch naq needs less: one reply subscription per connection, one counter
and one future per batch, and a substring check for errors. Each message's reply subject
names its batch and its index (``<inbox>.<batch>.<index>``), so concurrent batches on one
connection do not mix and a batch knows which of its messages were acknowledged.

When the connection drops, a message already written may or may not have reached the
server, and its ack may be lost. After the reconnect every message of a batch not yet
acknowledged is sent again at once: callers give each message a ``Nats-Msg-Id`` header, so
the server stores a re-sent message once (its duplicate window is two minutes) and acks it
again. A batch fails with :class:`NaqConnectionError` only if NATS stays away longer than
:data:`OUTAGE_TIMEOUT`, or if a connected server does not answer within the batch's
``timeout``. A "no responders" answer (JetStream not taking the subject: a server still
starting) is retried within the same bound, unless the stream is really gone.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Sequence

import nats.errors
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from naq_core._jetstream.names import JOBS_STREAM
from naq_core.errors import NaqConnectionError, NaqError

__all__ = ["OUTAGE_TIMEOUT", "AckPipeline", "Message"]

#: Seconds a publish waits for NATS to come back (or JetStream to answer) before it fails.
OUTAGE_TIMEOUT = 30.0
#: ``(subject, data, headers)``
Message = tuple[str, bytes, dict[str, str] | None]

_WINDOW = 8192  # unacknowledged messages allowed in flight per batch
_LOOK = 0.5  # how often (seconds) a waiting batch looks at the connection's state
_RETRY_REFUSED = 0.25  # pause before a "no responders" message is sent again


class _Batch:
    __slots__ = ("acked", "acks", "answered", "errors", "future", "refused", "resent", "wake_at")

    def __init__(self, size: int, keep_acks: bool) -> None:
        self.answered = bytearray(size)  # 1 once message i is answered (a byte each, not a set)
        self.acked = 0  # messages answered (stored, refused, error); all are among those sent
        self.wake_at = 0
        self.refused: list[int] = []  # answered "no responders": not stored
        self.errors: list[str] = []
        self.acks: dict[int, bytes] | None = {} if keep_acks else None
        self.resent = False
        self.future: asyncio.Future[None] | None = None

    def wake(self) -> None:
        future = self.future
        if future is not None and not future.done():
            future.set_result(None)


class AckPipeline:
    """Publishes batches to JetStream and waits for all their acks at once."""

    def __init__(self, nc: NATS) -> None:
        self._nc = nc
        self._prefix = ""
        self._cut = 0
        self._sub: Subscription | None = None
        self._batches: dict[str, _Batch] = {}
        self._ids = itertools.count()
        self._lock = asyncio.Lock()
        self._reconnects = 0

    def reconnected(self) -> None:
        """Called after each reconnect: every batch re-sends what was not acknowledged."""
        self._reconnects += 1
        for batch in list(self._batches.values()):
            batch.wake()

    async def _start(self) -> None:
        async with self._lock:
            if self._sub is None:
                self._prefix = self._nc.new_inbox()
                self._cut = len(self._prefix) + 1
                self._sub = await self._nc.subscribe(f"{self._prefix}.*.*", cb=self._on_ack)

    async def _on_ack(self, msg: Msg) -> None:
        token, _, index = msg.subject[self._cut :].partition(".")
        batch = self._batches.get(token)
        if batch is None:
            return
        i = int(index)
        if batch.answered[i]:
            return  # the second ack of a message sent twice
        batch.answered[i] = 1
        data = msg.data
        if not data:
            if (msg.headers or {}).get("Status") == "503":
                batch.refused.append(i)
            else:
                batch.errors.append(_describe(msg))
        elif b'"error"' in data:
            batch.errors.append(_describe(msg))
        elif batch.acks is not None:
            batch.acks[i] = data
        batch.acked += 1
        if batch.acked >= batch.wake_at:
            batch.wake()

    async def publish(self, messages: Sequence[Message], timeout: float = 30.0) -> None:
        """Publish ``(subject, data, headers)`` items; raise if any was not stored."""
        if not messages:
            return
        batch = await self._run(messages, timeout, keep_acks=False)
        if batch.errors:
            raise NaqConnectionError(
                f"{len(batch.errors)} of {len(messages)} messages were not stored: {batch.errors[0]}"
            )

    async def request(
        self, subject: str, data: bytes, headers: dict[str, str] | None, timeout: float = 10.0
    ) -> tuple[bytes, bool]:
        """One publish: the server's ack, and whether the message had to be sent again."""
        batch = await self._run([(subject, data, headers)], timeout, keep_acks=True)
        if batch.errors:
            raise NaqConnectionError(f"NATS refused the message on {subject}: {batch.errors[0]}")
        assert batch.acks is not None
        return batch.acks[0], batch.resent

    async def _run(self, items: Sequence[Message], timeout: float, *, keep_acks: bool) -> _Batch:
        if self._sub is None:
            await self._start()
        loop = asyncio.get_running_loop()
        token = str(next(self._ids))
        reply = f"{self._prefix}.{token}."
        size = len(items)
        batch = _Batch(size, keep_acks)
        self._batches[token] = batch
        nc = self._nc
        publish = nc.publish
        sent = 0
        generation = self._reconnects
        seen, quiet_since = 0, loop.time()
        away_until: float | None = None  # the outage's deadline, while there is one
        refused_before = getattr(nc, "last_refusal", None)  # naq's Client notes permission errors
        try:
            while True:
                if generation != self._reconnects:  # what was written before may be lost
                    generation = self._reconnects
                    again = [i for i in range(sent) if not batch.answered[i]]
                    batch.resent = batch.resent or bool(again)
                    for i in again:
                        await self._send(items[i], reply, i)
                if batch.refused and batch.acked == sent:  # every other message answered
                    away_until = away_until or loop.time() + OUTAGE_TIMEOUT
                    await self._refused(items, batch, away_until)
                    for i in batch.refused:
                        batch.answered[i] = 0
                        await self._send(items[i], reply, i)
                    batch.acked -= len(batch.refused)
                    batch.refused.clear()
                    batch.resent = True
                while sent < size and sent - batch.acked < _WINDOW and nc.is_connected:
                    subject, data, headers = items[sent]  # _send inlined: the hot loop
                    try:
                        await publish(subject, data, reply=f"{reply}{sent}", headers=headers)
                    except nats.errors.OutboundBufferLimitError:
                        pass  # disconnected meanwhile: sent again after the reconnect
                    except nats.errors.ConnectionClosedError:
                        raise NaqConnectionError("the NATS connection is closed") from None
                    sent += 1
                if batch.acked == size and not batch.refused:
                    return batch
                batch.wake_at = sent if sent == size else sent - _WINDOW // 2
                batch.future = loop.create_future()
                if batch.acked < batch.wake_at or not nc.is_connected:
                    try:
                        await asyncio.wait_for(batch.future, _LOOK)
                    except TimeoutError:
                        pass
                refusal = getattr(nc, "last_refusal", None)
                if refusal is not refused_before and _names(refusal, items[0][0]):
                    raise NaqError(str(refusal))  # a refused publish gets no answer at all
                now = loop.time()
                if batch.acked != seen:
                    seen, quiet_since = batch.acked, now
                if nc.is_closed:
                    raise NaqConnectionError(
                        f"the NATS connection was closed: {batch.acked} of {size} messages confirmed"
                    )
                if not nc.is_connected:
                    away_until = away_until or now + OUTAGE_TIMEOUT
                    if now > away_until:
                        raise NaqConnectionError(
                            f"NATS did not come back within {OUTAGE_TIMEOUT:g} s: {batch.acked} of "
                            f"{size} messages confirmed, the others may or may not be stored"
                        )
                    quiet_since = now  # time away is not the server's silence
                elif not batch.refused:
                    away_until = None
                    if now - quiet_since > timeout:
                        raise NaqConnectionError(
                            f"NATS confirmed {batch.acked} of {size} messages within {timeout:g} s"
                        )
        finally:
            self._batches.pop(token, None)

    async def _send(self, item: Message, reply: str, index: int) -> None:
        subject, data, headers = item
        try:
            await self._nc.publish(subject, data, reply=f"{reply}{index}", headers=headers)
        except nats.errors.OutboundBufferLimitError:
            pass  # disconnected with a full buffer: sent again after the reconnect
        except nats.errors.ConnectionClosedError:
            raise NaqConnectionError("the NATS connection is closed") from None

    async def _refused(self, items: Sequence[Message], batch: _Batch, away_until: float) -> None:
        """Wait a little before a "no responders" message goes again; fail if the stream is gone
        or JetStream stays away past ``away_until``."""
        subject = items[batch.refused[0]][0]
        if await self._stream_missing():
            raise NaqConnectionError(f"no JetStream stream stores {subject}; was the stream deleted?")
        if asyncio.get_running_loop().time() > away_until:
            raise NaqConnectionError(
                f"JetStream did not take {subject} within {OUTAGE_TIMEOUT:g} s (no responders): "
                f"{batch.acked - len(batch.refused)} of {len(items)} messages confirmed"
            )
        await asyncio.sleep(_RETRY_REFUSED)

    async def _stream_missing(self) -> bool:
        try:
            reply = await self._nc.request(f"$JS.API.STREAM.INFO.{JOBS_STREAM}", b"", timeout=2)
        except (nats.errors.Error, TimeoutError):
            return False  # JetStream is not answering: not known to be gone
        return b'"code":404' in reply.data


def _names(refusal: object, subject: str) -> bool:
    """Whether a permission refusal is about ``subject``'s family (``naq.queue.<queue>.*``)."""
    scope = subject.rpartition(".")[0] or subject
    return isinstance(refusal, str) and f"'{scope.lower()}" in refusal.lower()


def _describe(msg: Msg) -> str:
    if not msg.data:
        status = (msg.headers or {}).get("Status", "?")
        return f"no JetStream stream answered (status {status})"
    try:
        error = json.loads(msg.data).get("error", {})
        return str(error.get("description", error))
    except ValueError:
        return msg.data[:200].decode("utf-8", "replace")
