"""Dead letters for jobs whose delivery limit was hit (workers kept dying on them).

JetStream publishes ``$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.<stream>.<consumer>`` when
it gives up on a message after ``max_deliver`` deliveries. The message itself stays in the
work-queue stream. Advisories are plain core-NATS messages (at most once), so the stream
``naq_advisories`` captures those of ``naq_jobs`` durably; a worker restart loses none.

Every worker runs a :class:`MaxDeliveryMover` on the durable pull consumer ``naq-dlq-mover``
(shared, so each advisory is handled once). For each advisory it reads the original message
by sequence, hands a ``max deliveries`` dead letter to every sink, marks the job failed
(``MaxDeliveriesExceeded``), deletes the message from ``naq_jobs`` once every sink stored
it, and only then acks the advisory. A sink failure leaves both in place; the advisory
comes back after a delay. JetStream emits the advisory lazily, when the consumer next tries
to deliver, which needs a pending pull: workers always have one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import TYPE_CHECKING, Any

import nats.errors
import nats.js.errors
from attrs import evolve

from naq_core._jetstream.names import (
    ADVISORIES_STREAM,
    JOBS_STREAM,
    MOVER_CONSUMER,
    RESULTS_BUCKET,
    WORKER_CONSUMER_PREFIX,
    queue_of_subject,
)
from naq_core._log import get_logger
from naq_core._teardown import cancel_and_wait
from naq_core.deadletter import DeadLetter, DeadLetterReason
from naq_core.job import Job, JobStatus
from naq_core.results import ResultStore
from naq_core.serializer import SERIALIZER_HEADER

if TYPE_CHECKING:
    from nats.aio.msg import Msg
    from nats.js.api import RawStreamMsg

    from naq_core._dead import DeadLetterRouter
    from naq_core._deps import DependencyTracker
    from naq_core._jetstream.connection import Connection

__all__ = ["MaxDeliveryMover"]

ERROR_TYPE = "MaxDeliveriesExceeded"
_BATCH = 16


class MaxDeliveryMover:
    """Turns captured MAX_DELIVERIES advisories into dead letters (one per worker process)."""

    def __init__(
        self,
        conn: Connection,
        router: DeadLetterRouter,
        *,
        deps: DependencyTracker | None = None,
        fetch_timeout: float = 5.0,
        retry_delay: float = 5.0,
    ) -> None:
        self.conn = conn
        self.router = router
        self.deps = deps
        self.fetch_timeout = fetch_timeout
        self.retry_delay = retry_delay  # a sink failed: handle the advisory again after this
        self.moved = 0
        self._task: asyncio.Task[None] | None = None
        self._sub: Any = None  # the pull subscription on MOVER_CONSUMER
        self._busy = False
        self._stopping = False

    def stopping(self) -> bool:
        """Whether :meth:`stop` was called (a call, so type checkers do not narrow it)."""
        return self._stopping

    async def start(self) -> None:
        """Create the stream and consumer if needed and start handling advisories."""
        await self.conn.ensure_advisories()
        await self.conn.bucket(RESULTS_BUCKET)
        sub = self._sub = await self.conn.js.pull_subscribe_bind(MOVER_CONSUMER, stream=ADVISORIES_STREAM)
        self._stopping = False
        self._task = asyncio.create_task(self._run(sub), name="naq-dlq-mover")

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop fetching; an advisory being handled gets ``timeout`` seconds to finish."""
        task, self._task = self._task, None
        sub, self._sub = self._sub, None
        if task is not None:
            self._stopping = True
            if not self._busy:
                await cancel_and_wait(task)
            done, _ = await asyncio.wait({task}, timeout=timeout)
            if not done:
                await cancel_and_wait(task)
        if sub is not None:  # a task cancelled before it ran never reached its `finally`
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    async def _run(self, sub: Any) -> None:
        log = get_logger(__name__)
        try:
            while not self.stopping():
                if self.conn.nc.is_closed:  # the worker is gone; nothing to fetch with
                    return
                try:
                    msgs = await sub.fetch(_BATCH, timeout=self.fetch_timeout)
                except TimeoutError:
                    continue
                except nats.js.errors.NotFoundError:  # stream or consumer removed: make them again
                    log.warning("dlq_mover_consumer_missing")
                    await asyncio.sleep(1.0)
                    with contextlib.suppress(nats.errors.Error, TimeoutError):
                        await self.conn.ensure_advisories()
                    continue
                except nats.errors.Error as exc:  # reconnecting, leader election: try again
                    log.warning("dlq_mover_fetch_failed", error=str(exc))
                    await asyncio.sleep(1.0)
                    continue
                self._busy = True
                try:
                    for msg in msgs:
                        if self.stopping():  # hand the rest back at once
                            await msg.nak()
                            continue
                        await self._handle_safely(msg)
                finally:
                    self._busy = False
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    async def _handle_safely(self, msg: Msg) -> None:
        try:
            await self.handle(msg)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # never let one advisory stop the mover
            get_logger(__name__).error(
                "dlq_mover_failed", error=f"{type(exc).__name__}: {exc}", subject=msg.subject
            )
            with contextlib.suppress(nats.errors.Error):
                await msg.nak(delay=self.retry_delay)

    async def handle(self, msg: Msg) -> None:
        """Handle one advisory message: dead-letter its job, then ack it."""
        try:
            advisory = json.loads(msg.data)
            stream, consumer = advisory["stream"], advisory["consumer"]
            seq, deliveries = int(advisory["stream_seq"]), int(advisory.get("deliveries", 0))
        except (ValueError, KeyError, TypeError):
            await msg.ack()  # not an advisory we understand: nothing to move
            return
        if stream != JOBS_STREAM or not str(consumer).startswith(WORKER_CONSUMER_PREFIX):
            await msg.ack()
            return
        queue = str(consumer)[len(WORKER_CONSUMER_PREFIX) :]
        try:
            raw = await self.conn.js.get_msg(JOBS_STREAM, seq)
        except nats.js.errors.NotFoundError:
            await msg.ack()  # already gone (acked late, purged, or moved by another worker)
            return
        job = self._decode(raw, seq, deliveries)
        letter = self._letter(raw, queue, job, deliveries)
        if not await self.router.store(letter):
            await msg.nak(delay=self.retry_delay)
            return
        if job is not None:
            await self._record_failed(job, letter.error, raw.data or b"")
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await self.conn.js.delete_msg(JOBS_STREAM, seq)
        await msg.ack()
        self.moved += 1

    async def _record_failed(self, job: Job, error: str | None, data: bytes) -> None:
        """Mark the job failed, keeping what a requeue publishes (best effort: the sinks
        hold the letter already). A schedule's firing is kept as the job under its own id."""
        if job.schedule_id is not None:
            data = self.conn.serializer.dumps(evolve(job, schedule_id=None).to_envelope())
        try:
            await ResultStore(self.conn).write(
                job,
                JobStatus.FAILED,
                error_type=ERROR_TYPE,
                error=error,
                worker_id=self.router.worker_id,
                confirm=True,
                payload=data,
            )
        except (nats.errors.Error, TimeoutError) as exc:
            get_logger(__name__).warning("dlq_mover_record_failed", job_id=job.job_id, error=str(exc))
            return
        if self.deps is not None:
            self.deps.finished(job.queue_name, job.job_id)

    def _decode(self, raw: RawStreamMsg, seq: int, deliveries: int) -> Job | None:
        """The job, if this worker's serializer can read it (else the letter has no job).

        A recurring schedule's firing gets its own id, ``<schedule id>-<stream sequence>``,
        as a worker gives it when it runs the firing.
        """
        serializer = self.conn.serializer
        headers = raw.headers or {}
        written_by = headers.get(SERIALIZER_HEADER)
        if written_by is not None and written_by != serializer.name:
            return None
        try:
            job = Job.from_envelope(serializer.loads(raw.data or b""), attempt=max(deliveries, 1))
        except Exception:  # poison as well as dead: the letter still carries the bytes
            return None
        # The subject is the authority (as in _intake): an envelope naming another queue's
        # job, or another id, gets no record and resolves no dependent.
        subject = raw.subject or ""
        named = job.schedule_id or job.job_id
        if job.queue_name != queue_of_subject(subject) or subject.rpartition(".")[2] != named:
            return None
        recurring = "Nats-Scheduler" in headers and headers.get("Nats-Schedule-Next", "") != "purge"
        if job.schedule_id is not None and recurring:
            job = evolve(job, job_id=f"{job.schedule_id}-{seq}")
        return job

    def _letter(self, raw: RawStreamMsg, queue: str, job: Job | None, deliveries: int) -> DeadLetter:
        limit = self.conn.config.max_deliver
        error = (
            f"delivered {deliveries} times without an acknowledgement (max_deliver={limit}): "
            "the workers running it died or lost their connection"
        )
        headers = {k: v for k, v in (raw.headers or {}).items() if isinstance(v, str)}
        return DeadLetter(
            reason=DeadLetterReason.MAX_DELIVERIES,
            queue_name=queue,
            payload=bytes(raw.data or b""),
            headers=headers,
            job_id=job.job_id if job else None,
            function=job.function if job else None,
            error_type=ERROR_TYPE,
            error=error,
            attempts=deliveries,
            first_seen=job.enqueued_at if job else (raw.time.timestamp() if raw.time else None),
            last_seen=time.time(),
            worker_id=self.router.worker_id,
            subject=raw.subject,
        )
