"""Handing a message that cannot run to every dead-letter sink, then off the queue."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from attrs import evolve

from naq_core._jetstream.natspy import term_with_reason
from naq_core._log import get_logger
from naq_core.deadletter import DeadLetter, DeadLetterReason

if TYPE_CHECKING:
    from nats.aio.msg import Msg

    from naq_core.deadletter import DeadLetterSink
    from naq_core.job import Job

__all__ = ["DeadLetterRouter", "failure_reason", "job_of_subject"]

_PAYLOAD_LOG_LIMIT = 512


def job_of_subject(subject: str, queue: str) -> tuple[str, str | None]:
    """``(queue, job_id)`` of a job message's subject ``naq.queue.<queue>.<id>``.

    For a message whose payload cannot be decoded. ``queue`` (the one the worker read it
    from) and no job id when the subject has another shape.
    """
    parts = subject.split(".")
    if len(parts) == 4 and parts[:2] == ["naq", "queue"] and parts[2] and parts[3]:
        return parts[2], parts[3]
    return queue, None


class DeadLetterRouter:
    """Stores dead letters in every sink; removes the message only after all stored it."""

    def __init__(self, sinks: list[DeadLetterSink], worker_id: str) -> None:
        self.sinks = sinks
        self.worker_id = worker_id

    def letter(
        self,
        msg: Msg,
        reason: DeadLetterReason,
        *,
        queue: str,
        job: Job | None = None,
        job_id: str | None = None,
        error_type: str | None = None,
        error: str | None = None,
        traceback: str | None = None,
    ) -> DeadLetter:
        try:
            attempts = msg.metadata.num_delivered
        except Exception:  # a message without JetStream metadata
            attempts = 0
        return DeadLetter(
            reason=reason,
            queue_name=job.queue_name if job else queue,
            payload=bytes(msg.data),
            headers=dict(msg.headers or {}),
            job_id=job.job_id if job else job_id,
            function=job.function if job else None,
            error_type=error_type,
            error=error,
            traceback=traceback,
            attempts=attempts,
            first_seen=job.enqueued_at if job else None,
            last_seen=time.time(),
            worker_id=self.worker_id,
            subject=msg.subject,
        )

    async def route(self, msg: Msg, letter: DeadLetter) -> bool:
        """Store ``letter`` then remove ``msg``. False if a sink failed (message kept)."""
        if not self.sinks:
            self.dropped(letter)
            await _term(msg, letter.reason.value)
            return True
        if not await self.store(letter):
            await msg.nak(delay=5)
            return False
        await msg.ack()
        return True

    async def store(self, letter: DeadLetter) -> bool:
        """Hand ``letter`` to every sink at once; True only if all of them stored it.

        Each failure is logged (``dead_letter_sink_failed``); the caller keeps the message.
        With no sink installed this returns True after logging the letter (see
        :meth:`dropped`): there is nothing to wait for.
        """
        log = get_logger(__name__)
        if not self.sinks:
            self.dropped(letter)
            return True
        results = await asyncio.gather(*(sink.store(letter) for sink in self.sinks), return_exceptions=True)
        failures = [
            (s.name, r) for s, r in zip(self.sinks, results, strict=True) if isinstance(r, BaseException)
        ]
        if failures:
            for name, exc in failures:
                log.error("dead_letter_sink_failed", sink=name, job_id=letter.job_id, error=repr(exc))
            return False
        log.warning(
            "job_dead_lettered",
            reason=letter.reason.value,
            job_id=letter.job_id,
            queue=letter.queue_name,
            function=letter.function,
            attempts=letter.attempts,
        )
        return True

    def dropped(self, letter: DeadLetter) -> None:
        """No sink is installed: log the letter (payload truncated) at error level."""
        get_logger(__name__).error(
            "dead_letter_dropped",
            reason=letter.reason.value,
            job_id=letter.job_id,
            queue=letter.queue_name,
            error=letter.error,
            payload=letter.payload[:_PAYLOAD_LOG_LIMIT].decode("utf-8", "replace"),
            hint="no dead-letter sink installed (pip install naq-dlq-stream)",
        )


async def _term(msg: Msg, reason: str) -> None:
    """TERM with a reason (nats-py's ``term()`` takes none; the protocol does)."""
    await term_with_reason(msg, reason)


def failure_reason(job: Job, exc: BaseException) -> DeadLetterReason:
    """``retries exhausted`` when retries were wanted for this error and ran out; ``failed``
    when none were: no ``max_retries``, or ``retry_on`` / ``ignore_on`` rule it out."""
    if job.max_retries and evolve(job, attempt=1).should_retry(exc):
        return DeadLetterReason.RETRIES_EXHAUSTED
    return DeadLetterReason.FAILED
