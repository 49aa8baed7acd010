"""The messages a worker holds: one :class:`RunningJob` each, and when JetStream is due an
in_progress sign for it (:func:`progress_due`, :func:`send_in_progress`); the acks of the
last seconds, sent again after a reconnect (:class:`RecentAcks`)."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING

import nats.errors
from attrs import define

if TYPE_CHECKING:
    from nats.aio.client import Client as NATS
    from nats.aio.msg import Msg

    from naq_core.job import Job

__all__ = ["RecentAcks", "RunningJob", "progress_due", "send_in_progress"]


async def send_in_progress(msg: Msg) -> None:
    """``+WPI`` for ``msg`` (a publish: no round trip); a lost one is covered by the next."""
    try:
        await msg.in_progress()
    except nats.errors.Error:
        pass


@define(eq=False)
class RunningJob:
    """One message a worker holds: waiting for a slot, then running its job.

    ``started`` once its task runs (a task cancelled before that never runs its
    ``finally``, so it is never cancelled then); ``has_slot`` once it holds an execution
    slot; ``job`` and ``started_at`` are set when the job starts (``None`` while it waits);
    ``marked`` once its "running" status is recorded; ``sync`` when it runs in a thread
    (which cannot be interrupted); ``cancel_requested`` by ``naq job cancel``;
    ``progressed`` when JetStream last heard of it (delivery, then each in_progress).
    """

    msg: Msg
    queue: str
    received: float  # time.monotonic() at delivery
    progressed: float = 0.0  # time.monotonic() of delivery or of the last in_progress sent
    task: asyncio.Task[None] | None = None
    started: bool = False  # its task began to run
    has_slot: bool = False  # it got an execution slot (it is starting or running)
    job: Job | None = None
    started_at: float = 0.0  # time.time() when the job started
    marked: bool = False
    sync: bool = False
    cancel_requested: bool = False


def progress_due(records: Iterable[RunningJob], now: float, every: float) -> list[RunningJob]:
    """The held messages JetStream has not heard of for ``every`` seconds or more (since
    delivery or their last in_progress), each counted as told at ``now``.

    Each message has its own clock: one delivered just after a sweep is due ``every``
    seconds after *its* delivery, never a whole sweep period later.
    """
    due = [r for r in records if now - r.progressed >= every and not r.msg.is_acked]
    for record in due:
        record.progressed = now
    return due


class RecentAcks:
    """The acks a worker sent in the last ``window`` seconds, to send again after a reconnect.

    An ack is a publish without a reply: one written to a connection whose server then
    died (or that broke) may never have arrived, and its job, finished and recorded, would
    run again after ``ack_wait``. Acking a message twice is harmless (the server ignores an
    ack for a message it no longer holds), so after a reconnect the worker acks again what
    it acked in the last ``ack_wait`` seconds. At most ``limit`` are kept.
    """

    def __init__(self, window: float, limit: int = 10_000) -> None:
        self.window = window
        self._sent: deque[tuple[float, str]] = deque(maxlen=limit)

    async def ack(self, msg: Msg) -> None:
        """Ack ``msg`` and remember it."""
        await msg.ack()
        self._sent.append((time.monotonic(), msg.reply))

    async def again(self, nc: NATS) -> int:
        """Ack again over ``nc`` what was acked in the last ``window`` seconds; how many."""
        cutoff = time.monotonic() - self.window
        subjects = [subject for at, subject in self._sent if at >= cutoff]
        self._sent.clear()
        for subject in subjects:
            await nc.publish(subject, b"+ACK")
        return len(subjects)
