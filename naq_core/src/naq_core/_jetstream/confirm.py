"""Records confirmed by the server before their job is acknowledged, without a round trip
per job on the worker's path.

A completed job's record is published with a reply subject on one inbox subscription per
connection; when the stream's acknowledgement arrives, the job's own message is acked. So a
job leaves its queue only once its record is stored (a waiter that no longer finds the job
queued always finds its record), while jobs go on running: nothing waits for the reply but
the ack. Acks are matched by a token per record and checked with a substring test, as in
:mod:`naq_core._jetstream.publish`. A record the server refuses is logged and the job still
acked (it ran; running it again would not store the record either). A "no responders"
status (503: the stream has no leader, as during a leader election in a cluster) is not a
refusal: the record is published again, a few times a second up to :data:`RETRY_FOR`
seconds, and if it is still not stored the job is left unacked. A record that gets no
answer at all within :data:`RESEND_AFTER` seconds (it went to a server that died, or its
reply was lost) is published again by the worker's sweep (:meth:`RecordConfirmer.keep_alive`)
on the same terms: storing a record twice is harmless, running its job twice is what this
avoids. A record never answered leaves the job unacked: it is delivered again after
``ack_wait``, and the record's entry here is forgotten after :data:`FORGET_AFTER` seconds
(checked as records are published, the oldest first), so lost replies never pile up.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from naq_core._log import get_logger

__all__ = ["RecordConfirmer"]

Then = Callable[[], Awaitable[None]]
#: How long a record is re-published while its stream has no leader, and how often.
RETRY_FOR = 20.0
RETRY_EVERY = 0.25
#: Seconds without any answer after which a record is published again (by the sweep).
RESEND_AFTER = 2.0
#: Seconds after which a record with no reply is forgotten (its job comes back after ack_wait).
FORGET_AFTER = 60.0


class _Sent:
    """One record published and not yet confirmed: what a retry publishes again, and then."""

    __slots__ = ("at", "data", "headers", "heard", "keepalive", "signed", "subject", "then", "tries")

    def __init__(
        self,
        subject: str,
        data: bytes,
        headers: dict[str, str],
        then: Then,
        at: float,
        keepalive: Then | None,
    ) -> None:
        self.subject = subject
        self.data = data
        self.headers = headers
        self.then = then
        self.at = at  # time.monotonic() of its first publish
        self.tries = 0
        self.keepalive = keepalive
        self.signed = at  # time.monotonic() of the last keepalive (or the publish)
        self.heard = at  # time.monotonic() of the last publish or answer (a 503)


class RecordConfirmer:
    """Publishes records and runs ``then`` (the job's ack) once each is stored."""

    def __init__(self, nc: NATS, forget_after: float | None = None) -> None:
        self._nc = nc
        self._prefix = ""
        self._sub: Subscription | None = None
        # token -> record; tokens grow, so the dict's order is the order of first publish
        self._pending: dict[str, _Sent] = {}
        self._forget_after = FORGET_AFTER if forget_after is None else forget_after
        self._next_check = 0.0  # time.monotonic() of the next look for forgotten replies
        self._retries: set[asyncio.Task[None]] = set()
        self._ids = itertools.count()
        self._lock = asyncio.Lock()
        self._settled = asyncio.Event()
        self._settled.set()

    async def _start(self) -> None:
        async with self._lock:
            if self._sub is None:
                self._prefix = self._nc.new_inbox()
                self._sub = await self._nc.subscribe(f"{self._prefix}.*", cb=self._on_reply)

    async def publish(
        self, subject: str, data: bytes, headers: dict[str, str], then: Then, keepalive: Then | None = None
    ) -> None:
        """Publish one record; ``then()`` runs when the server has stored it.

        ``keepalive`` (the job message's in_progress): called by :meth:`keep_alive` while the
        record waits for its store reply, so the finished job is not delivered again meanwhile.
        """
        if self._sub is None:
            await self._start()
        token = str(next(self._ids))
        now = time.monotonic()
        self._pending[token] = _Sent(subject, data, headers, then, now, keepalive)
        self._settled.clear()
        if now >= self._next_check:
            self._forget_unanswered(now)
        try:
            await self._nc.publish(subject, data, reply=f"{self._prefix}.{token}", headers=headers)
        except BaseException:
            self._forget(token)
            raise

    def _forget(self, token: str) -> _Sent | None:
        entry = self._pending.pop(token, None)
        if not self._pending:
            self._settled.set()
        return entry

    def _forget_unanswered(self, now: float) -> None:
        """Forget the records published ``forget_after`` seconds ago or more and never
        answered (their jobs stay unacked and come back after ``ack_wait``)."""
        self._next_check = now + self._forget_after / 4
        cutoff = now - self._forget_after
        stale = []
        for token, sent in self._pending.items():  # oldest first: stop at the first recent one
            if sent.at > cutoff:
                break
            stale.append(token)
        for token in stale:
            self._forget(token)
        if stale:
            get_logger(__name__).warning("record_replies_lost", records=len(stale))

    async def _on_reply(self, msg: Msg) -> None:
        token = msg.subject.rpartition(".")[2]
        if not msg.data and (msg.headers or {}).get("Status") == "503" and token in self._pending:
            self._pending[token].heard = time.monotonic()
            # Not in this callback (it serves every reply in turn): in a task of its own.
            retry = asyncio.get_running_loop().create_task(self._again(token))
            self._retries.add(retry)
            retry.add_done_callback(self._retries.discard)
            return
        entry = self._forget(token)
        if entry is None:
            return
        if not msg.data or b'"error"' in msg.data:
            get_logger(__name__).error(
                "record_not_stored", subject=entry.subject, reply=msg.data[:200].decode("utf-8", "replace")
            )
        try:
            await entry.then()
        except Exception as exc:  # the connection went away: the job comes back after ack_wait
            get_logger(__name__).warning("ack_after_record_failed", subject=entry.subject, error=str(exc))

    async def _again(self, token: str) -> None:
        """Publish the record of ``token`` again after a pause (its stream had no leader)."""
        sent = self._pending.get(token)
        if sent is None:
            return
        if sent.tries * RETRY_EVERY >= RETRY_FOR:  # left unacked: the job comes back after ack_wait
            self._forget(token)
            get_logger(__name__).error("record_not_stored", subject=sent.subject, reply="no responders")
            return
        sent.tries += 1
        await asyncio.sleep(RETRY_EVERY)
        if self._pending.get(token) is not sent:
            return
        await self._republish(token, sent)

    async def _republish(self, token: str, sent: _Sent) -> None:
        sent.heard = time.monotonic()
        try:
            await self._nc.publish(
                sent.subject, sent.data, reply=f"{self._prefix}.{token}", headers=sent.headers
            )
        except Exception as exc:  # the connection went away: the job comes back after ack_wait
            self._forget(token)
            get_logger(__name__).warning("record_publish_failed", subject=sent.subject, error=str(exc))

    async def _resend_unanswered(self, now: float, after: float) -> None:
        """Publish again the records with no answer for ``after`` seconds (oldest first);
        give up on those first published :data:`RETRY_FOR` seconds ago."""
        silent = []
        for token, sent in self._pending.items():  # in order of first publish
            if now - sent.at < after:
                break
            if now - sent.heard >= after:
                silent.append((token, sent))
        for token, sent in silent:
            if self._pending.get(token) is not sent:
                continue
            if now - sent.at >= RETRY_FOR:  # left unacked: the job comes back after ack_wait
                self._forget(token)
                get_logger(__name__).error("record_not_stored", subject=sent.subject, reply="no answer")
                continue
            sent.tries += 1
            await self._republish(token, sent)

    async def keep_alive(self, every: float) -> int:
        """Call ``keepalive`` of every record being sent again and not signed for ``every``
        seconds (the worker's in_progress sweep); returns how many. First, publish again
        the records that got no answer for ``min(every, RESEND_AFTER)`` seconds.

        During a leader election the server answers a record with 503, or not at all when
        the record went to the leader that died; either way the record is sent again for up
        to :data:`RETRY_FOR` seconds, and without these signs its job, already finished,
        would reach another worker after ``ack_wait``. A worker cut off from NATS cannot
        deliver the signs either: its jobs come back after ``ack_wait``, as a dead worker's."""
        now = time.monotonic()
        if self._pending:
            await self._resend_unanswered(now, min(every, RESEND_AFTER))
        due = [
            s
            for s in self._pending.values()
            if s.keepalive is not None and s.tries and now - s.signed >= every
        ]
        for sent in due:
            sent.signed = now
            assert sent.keepalive is not None
            try:
                await sent.keepalive()
            except Exception as exc:  # a lost sign is covered by the next one
                get_logger(__name__).debug("record_keepalive_failed", error=str(exc))
        return len(due)

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
