"""A worker's message intake: decode a delivered message, check it against the subject it
arrived on (the authority), and file what cannot run as a poison letter.

A message written by another serializer is a poison letter too, and its job gets a
``failed`` record naming the mismatch, so the producer waiting for the result learns it at
once instead of timing out.

A job delivered again (not its first delivery) whose record already says it completed, for
this very message (same enqueue time), is acked without running: its ack was lost (in a
consumer-leader failover the acks the dying leader had not replicated are lost, and the new
leader delivers those jobs again). One record read per redelivery, none on a first delivery;
a record that cannot be read in time lets the job run (at-least-once, as before).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import nats.errors

from naq_core._dead import job_of_subject
from naq_core._log import get_logger
from naq_core.deadletter import DeadLetterReason
from naq_core.errors import NaqError, SerializationError
from naq_core.job import Job, JobStatus
from naq_core.schedules import _store as _schedules
from naq_core.serializer import SERIALIZER_HEADER

if TYPE_CHECKING:
    from nats.aio.msg import Msg

    from naq_core._dead import DeadLetterRouter
    from naq_core._deps import DependencyTracker
    from naq_core._jetstream.connection import Connection
    from naq_core.results import ResultStore
    from naq_core.serializer import Serializer

__all__ = ["Intake", "delivered"]

_SKIP = object()  # a real firing that runs nothing (past its repeat, or cancelled)
#: Seconds a redelivered job waits at most for its record to be read.
_RECORD_READ_TIMEOUT = 2.0


def delivered(msg: Msg) -> int:
    """How many times ``msg`` was delivered, read from its ack subject's one token.

    ``$JS.ACK.<stream>.<consumer>.<delivered>.…`` (9 tokens) or, with a domain and an
    account hash, ``$JS.ACK.<domain>.<hash>.<stream>.<consumer>.<delivered>.…`` (12 or
    more). Anything else goes through nats-py's full parse (which raises for a message
    that is not a JetStream one); the full parse builds a datetime and two dataclasses a
    message, which the hot path does not need.
    """
    tokens = (msg.reply or "").split(".")
    if tokens[0] == "$JS" and len(tokens) > 4 and tokens[1] == "ACK":
        at = 4 if len(tokens) == 9 else 6 if len(tokens) >= 11 else -1
        if at > 0 and tokens[at].isdigit():
            return int(tokens[at])
    return msg.metadata.num_delivered


class _Mismatch(SerializationError):
    """The message was written by another serializer, ``written_by``."""

    def __init__(self, message: str, written_by: str) -> None:
        super().__init__(message)
        self.written_by = written_by


class Intake:
    """Turns a delivered message into the job it may run; one per worker."""

    def __init__(
        self,
        *,
        conn: Connection,
        results: ResultStore,
        dead: DeadLetterRouter,
        deps: DependencyTracker,
        worker_id: str,
    ) -> None:
        self.conn = conn
        self.results = results
        self.dead = dead
        self.deps = deps
        self.worker_id = worker_id
        self.serializer = conn.serializer

    async def admit(self, msg: Msg, queue: str) -> Job | None:
        """The job ``msg`` runs, or ``None`` when it runs nothing: a poison letter (filed
        here), or a schedule's firing past its repeat or cancelled (acked here)."""
        attempt = delivered(msg)
        try:
            job = self.decode(msg, attempt)
            fired = await self._authorize(msg, queue, job)
        except SerializationError as exc:
            await self._poison(msg, queue, exc)
            return None
        if fired is _SKIP:  # past its repeat, or its schedule was cancelled
            await msg.ack()
            return None
        if isinstance(fired, Job):
            return fired
        if attempt > 1 and await self._completed_before(job):
            await msg.ack()
            get_logger(__name__).info(
                "completed_job_redelivered", job_id=job.job_id, queue=job.queue_name, attempt=attempt
            )
            return None
        return job

    async def _completed_before(self, job: Job) -> bool:
        """Whether ``job`` (this enqueue of it) already has a ``completed`` record."""
        try:
            async with asyncio.timeout(_RECORD_READ_TIMEOUT):
                record = await self.results.get(job.job_id, job.queue_name)
        except (NaqError, nats.errors.Error, TimeoutError):
            return False  # unknown: run it
        return (
            record is not None
            and record.status is JobStatus.COMPLETED
            and record.enqueued_at == job.enqueued_at
        )

    def decode(self, msg: Msg, attempt: int) -> Job:
        written_by = (msg.headers or {}).get(SERIALIZER_HEADER)
        if written_by is not None and written_by != self.serializer.name:
            raise _Mismatch(self._mismatch(written_by), written_by)
        try:
            return Job.from_envelope(self.serializer.loads(msg.data), attempt=attempt, headers=msg.headers)
        except SerializationError:
            written_by = self._readable_by(msg)
            if written_by is None:
                raise
            raise _Mismatch(self._mismatch(written_by), written_by) from None

    async def _authorize(self, msg: Msg, queue: str, job: Job) -> Job | object | None:
        """Check the envelope against the subject it arrived on, which is the authority.

        A message on ``naq.queue.<queue>.<id>`` may only be the job ``<id>`` of ``<queue>``,
        or a real firing of the schedule ``<id>`` of ``<queue>`` (then the job it runs, or
        ``_SKIP``); anything else raises :class:`SerializationError` (a poison letter filed
        under the subject's queue and id, with no record written and no dependent touched).
        """
        subject_queue, subject_id = job_of_subject(msg.subject, queue)
        headers = msg.headers or {}
        if subject_id is None or job.queue_name != subject_queue:
            raise SerializationError(
                f"envelope names queue {job.queue_name!r}, the subject {msg.subject!r} another"
            )
        if _schedules.SCHEDULER_HEADER in headers:
            if job.schedule_id != subject_id:
                raise SerializationError(f"a firing on {msg.subject!r} for schedule {job.schedule_id!r}")
            try:
                fired = await _schedules.on_fire(self.conn, msg, job, queue=subject_queue)
            except _schedules.ForgedFiringError as exc:
                raise SerializationError(str(exc)) from None
            return _SKIP if fired is None else fired
        if job.job_id != subject_id:
            raise SerializationError(
                f"envelope names job {job.job_id!r}, the subject {msg.subject!r} another"
            )
        return None

    async def _repair(self, msg: Msg) -> None:
        """A forged firing (``Nats-Scheduler`` on a poison message) may have made the server
        purge the schedule message it names: publish it again (``schedules._store.restore``)."""
        scheduler = (msg.headers or {}).get(_schedules.SCHEDULER_HEADER)
        if scheduler is None:
            return
        try:
            await _schedules.restore(self.conn, scheduler)
        except Exception as exc:  # the letter is filed all the same
            get_logger(__name__).warning("schedule_restore_failed", scheduler=scheduler, error=repr(exc))

    def _readable_by(self, msg: Msg) -> str | None:
        """Another installed serializer that reads ``msg`` as a job (never an unsafe one)."""
        try:
            others = self.conn.hooks.serializers(config=self.conn.config)
        except Exception:  # a broken plugin: no guess
            return None
        for name, serializer in others.items():
            if name == self.serializer.name or serializer.unsafe:
                continue
            try:
                Job.from_envelope(serializer.loads(msg.data))
            except Exception:  # noqa: S112 - not this one
                continue
            return name
        return None

    def _installed(self, name: str) -> Serializer | None:
        try:
            return self.conn.hooks.serializer(name, config=self.conn.config)
        except Exception:  # not installed here (or a broken plugin): nothing to name
            return None

    def _mismatch(self, written_by: str) -> str:
        writer = self._installed(written_by)
        theirs = f"{written_by!r} ({writer.content_type})" if writer else repr(written_by)
        ours = f"{self.serializer.name!r} ({self.serializer.content_type})"
        return f"serializer mismatch: the message was written with {theirs}, this worker reads {ours}"

    async def _poison(self, msg: Msg, queue: str, exc: SerializationError) -> None:
        """A message that cannot be decoded: a poison letter with the job id of its subject.

        When it was written by another serializer (its ``Naq-Serializer`` header says so, or
        another installed serializer reads it), the job also gets a ``failed`` record,
        written with that serializer when it is installed here, so the producer waiting for
        the result gets the mismatch at once instead of a timeout.
        """
        await self._repair(msg)
        queue, job_id = job_of_subject(msg.subject, queue)
        written_by = exc.written_by if isinstance(exc, _Mismatch) else None
        if written_by is not None and job_id is not None:
            await self.results.write(
                Job(function="", queue_name=queue, job_id=job_id),
                JobStatus.FAILED,
                error_type="SerializationError",
                error=str(exc),
                worker_id=self.worker_id,
                confirm=True,
                payload=bytes(msg.data),
                serializer=self._installed(written_by),
            )
            self.deps.finished(queue, job_id)
        letter = self.dead.letter(
            msg,
            DeadLetterReason.POISON,
            queue=queue,
            job_id=job_id,
            error_type="SerializationError",
            error=str(exc),
        )
        await self.dead.route(msg, letter)
