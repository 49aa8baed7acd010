"""Running one job message: decode, look up the task, run it, record, ack/NAK/dead-letter."""

from __future__ import annotations

import asyncio
import inspect
import time
import traceback as tb
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from attrs import evolve

from naq_core import _schedules
from naq_core._log import get_logger
from naq_core.deadletter import DeadLetterReason
from naq_core.errors import JobTimeoutError, SerializationError
from naq_core.job import Job, JobStatus, Outcome
from naq_core.registry import unknown_task_message
from naq_core.serializer import SERIALIZER_HEADER

if TYPE_CHECKING:
    from nats.aio.msg import Msg

    from naq_core._conn import Connection
    from naq_core._dead import DeadLetterRouter
    from naq_core._deps import DependencyTracker
    from naq_core.registry import TaskRegistry
    from naq_core.results import ResultStore

__all__ = ["Executor"]


def _context(job: Job) -> dict[str, Any]:
    """The fields every job event carries: id, queue, function, attempt."""
    return {"job_id": job.job_id, "queue": job.queue_name, "function": job.function, "attempt": job.attempt}


def _format(exc: BaseException) -> tuple[str, str, str]:
    return type(exc).__name__, str(exc), "".join(tb.format_exception(exc))


def _failure_reason(job: Job, exc: BaseException) -> DeadLetterReason:
    """``retries exhausted`` when retries were wanted for this error and ran out; ``failed``
    when none were: no ``max_retries``, or ``retry_on`` / ``ignore_on`` rule it out."""
    if job.max_retries and evolve(job, attempt=1).should_retry(exc):
        return DeadLetterReason.RETRIES_EXHAUSTED
    return DeadLetterReason.FAILED


class Executor:
    """Turns messages into job runs; one per worker. ``running`` maps msg -> task."""

    def __init__(
        self,
        *,
        conn: Connection,
        registry: TaskRegistry,
        results: ResultStore,
        dead: DeadLetterRouter,
        deps: DependencyTracker,
        worker_id: str,
        concurrency: int,
    ) -> None:
        self.conn = conn
        self.registry = registry
        self.results = results
        self.dead = dead
        self.deps = deps
        self.worker_id = worker_id
        self.serializer = conn.serializer
        self.max_deliver = conn.config.max_deliver
        self.threads = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="naq-job")
        self.slots = asyncio.Semaphore(concurrency)
        self.current: dict[str, Job] = {}
        self.started: dict[str, float] = {}  # running jobs not yet recorded as "running"
        self.concurrency = concurrency
        self.max_prefetch = conn.config.prefetch
        self.avg_duration = 1.0  # seconds, EWMA; starts pessimistic (no prefetch)
        self.stopping = False
        self.tasks_by_job: dict[str, asyncio.Task[Any]] = {}
        self.sync_jobs: set[str] = set()
        self.cancelled: set[str] = set()  # cancel requested by `naq job cancel`
        self.processed = 0
        self.failed = 0
        _, self._hook_started, self._hook_finished = conn.hooks.lifecycle_active()

    def _forget(self, job: Job, started: float) -> None:
        """The job stopped running: no more "running" marks, and learn its duration."""
        self.current.pop(job.job_id, None)
        self.started.pop(job.job_id, None)
        self.tasks_by_job.pop(job.job_id, None)
        self.sync_jobs.discard(job.job_id)
        self.avg_duration += 0.05 * (time.time() - started - self.avg_duration)

    def capacity(self) -> int:
        """How many messages to hold: the slots, plus a prefetch that grows for short jobs.

        Holding about 50 ms of work per slot keeps a fast worker busy between pull round
        trips, while a worker running long jobs holds none it cannot start (so idle workers
        get them instead).
        """
        if not self.max_prefetch:
            return self.concurrency
        extra = int(self.concurrency * 0.05 / max(self.avg_duration, 1e-5))
        return self.concurrency + min(self.max_prefetch, extra)

    async def mark_running(self) -> None:
        """Record "running" for jobs that have been running a while (one sweep, not per job)."""
        if not self.started:
            return
        marked, self.started = self.started, {}
        for job_id, since in marked.items():
            job = self.current.get(job_id)
            if job is not None:
                await self.results.write(job, JobStatus.RUNNING, started_at=since, worker_id=self.worker_id)

    def decode(self, msg: Msg, attempt: int) -> Job:
        headers = msg.headers
        if headers:
            written_by = headers.get(SERIALIZER_HEADER)
            if written_by is not None and written_by != self.serializer.name:
                raise SerializationError(
                    f"message was written by serializer {written_by!r}; this worker uses "
                    f"{self.serializer.name!r}"
                )
        return Job.from_envelope(self.serializer.loads(msg.data), attempt=attempt)

    async def handle(self, msg: Msg, queue: str, release: Callable[[], None]) -> None:
        """Run one message end to end. ``release`` gives its pull credit back.

        A message still waiting for a slot when the worker stops (prefetched, never
        started) is NAKed at once, so another worker takes it without waiting for ack_wait.
        """
        try:
            try:
                await self.slots.acquire()
            except asyncio.CancelledError:
                await msg.nak()
                raise
            try:
                if self.stopping:
                    await msg.nak()
                    return
                await self._handle(msg, queue)
            finally:
                self.slots.release()
        finally:
            release()

    async def _handle(self, msg: Msg, queue: str) -> None:
        log = get_logger(__name__)
        attempt = msg.metadata.num_delivered
        try:
            job = self.decode(msg, attempt)
        except SerializationError as exc:
            letter = self.dead.letter(
                msg, DeadLetterReason.POISON, queue=queue, error_type="SerializationError", error=str(exc)
            )
            await self.dead.route(msg, letter)
            return
        if job.schedule_id is not None and msg.headers and "Nats-Scheduler" in msg.headers:
            fired = await _schedules.on_fire(self.conn, msg, job)
            if fired is None:  # past its repeat, or its schedule was cancelled
                await msg.ack()
                return
            job = fired
        if job.function not in self.registry:
            error = unknown_task_message(job.function, queue)
            await self.results.write(
                job,
                JobStatus.FAILED,
                error_type="TaskNotFoundError",
                error=error,
                worker_id=self.worker_id,
                confirm=self.deps.has_dependents(job.job_id),
                payload=bytes(msg.data),
            )
            letter = self.dead.letter(
                msg,
                DeadLetterReason.UNKNOWN_TASK,
                queue=queue,
                job=job,
                error_type="TaskNotFoundError",
                error=error,
            )
            await self.dead.route(msg, letter)
            self.deps.finished(job.job_id)
            self.failed += 1
            return
        func = self.registry.get(job.function)
        started = time.time()
        self.current[job.job_id] = job
        self.started[job.job_id] = started  # marked "running" by mark_running() if it lasts
        task = asyncio.current_task()
        if task is not None:
            self.tasks_by_job[job.job_id] = task
        if self._hook_started:
            await self.conn.hooks.job_started(job=job, worker_id=self.worker_id)
        try:
            result = await self._run(func, job)
        except asyncio.CancelledError:
            if job.job_id in self.cancelled:  # `naq job cancel`: ours, so it ends here
                self.cancelled.discard(job.job_id)
                current = asyncio.current_task()
                if current is not None:
                    current.uncancel()
                await self._cancelled(msg, job, started)
                return
            # Shutdown ran out of grace: give the job back at once, record nothing final.
            self._forget(job, started)
            await msg.nak()
            await self.results.write(job, JobStatus.PENDING, worker_id=self.worker_id)
            raise
        except BaseException as exc:
            self._forget(job, started)
            await self._failed(msg, job, exc, started)
        else:
            # Forget it before the final write, so the "running" sweep cannot write after it.
            self._forget(job, started)
            await self.results.write(
                job,
                JobStatus.COMPLETED,
                result=result,
                started_at=started,
                worker_id=self.worker_id,
                confirm=self.deps.has_dependents(job.job_id),
            )
            await msg.ack()
            self.processed += 1
            self.deps.finished(job.job_id)
            duration = time.time() - started
            log.info("job_completed", **_context(job), duration=round(duration, 6))
            if self._hook_finished:
                await self.conn.hooks.job_finished(
                    job=job, outcome=Outcome(status=JobStatus.COMPLETED, duration=duration, result=result)
                )

    async def _run(self, func: Callable[..., Any], job: Job) -> Any:
        if inspect.iscoroutinefunction(func):
            call = func(*job.args, **job.kwargs)
        else:
            self.sync_jobs.add(job.job_id)
            loop = asyncio.get_running_loop()
            call = loop.run_in_executor(self.threads, lambda: func(*job.args, **job.kwargs))
        if job.timeout is None:
            return await call
        try:
            return await asyncio.wait_for(call, job.timeout)
        except TimeoutError:
            raise JobTimeoutError(f"job exceeded its timeout of {job.timeout} s") from None

    async def _failed(self, msg: Msg, job: Job, exc: BaseException, started: float) -> None:
        log = get_logger(__name__)
        error_type, error, trace = _format(exc)
        duration = time.time() - started
        retry = job.should_retry(exc) and job.attempt < self.max_deliver
        if retry:
            delay = job.retry_delay_for()
            await self.results.write(
                job,
                JobStatus.RETRYING,
                error_type=error_type,
                error=error,
                traceback=trace,
                started_at=started,
                worker_id=self.worker_id,
            )
            await msg.nak(delay=delay or None)
            log.warning(
                "job_retrying", **_context(job), retry_in=round(delay, 3), error=f"{error_type}: {error}"
            )
            outcome = Outcome(
                status=JobStatus.RETRYING,
                duration=duration,
                error_type=error_type,
                error=error,
                traceback=trace,
                retry_in=delay,
            )
        else:
            await self.results.write(
                job,
                JobStatus.FAILED,
                payload=self._payload(msg, job),
                error_type=error_type,
                error=error,
                traceback=trace,
                started_at=started,
                worker_id=self.worker_id,
                confirm=self.deps.has_dependents(job.job_id),
            )
            self.failed += 1
            log.error(
                "job_failed", **_context(job), duration=round(duration, 6), error=f"{error_type}: {error}"
            )
            letter = self.dead.letter(
                msg,
                _failure_reason(job, exc),
                queue=job.queue_name,
                job=job,
                error_type=error_type,
                error=error,
                traceback=trace,
            )
            await self.dead.route(msg, letter)
            self.deps.finished(job.job_id)
            outcome = Outcome(
                status=JobStatus.FAILED,
                duration=duration,
                error_type=error_type,
                error=error,
                traceback=trace,
            )
        if self._hook_finished:
            await self.conn.hooks.job_finished(job=job, outcome=outcome)

    def request_cancel(self, job_id: str) -> str:
        """``cancelled``, ``sync`` (a thread cannot be interrupted) or ``unknown`` (not here)."""
        task = self.tasks_by_job.get(job_id)
        if task is None:
            return "unknown"
        if job_id in self.sync_jobs:
            return "sync"
        self.cancelled.add(job_id)
        task.cancel()
        return "cancelled"

    async def _cancelled(self, msg: Msg, job: Job, started: float) -> None:
        self._forget(job, started)
        await self.results.write(
            job,
            JobStatus.CANCELLED,
            error_type="Cancelled",
            error="cancelled while running",
            started_at=started,
            worker_id=self.worker_id,
            confirm=self.deps.has_dependents(job.job_id),
            payload=self._payload(msg, job),
        )
        await msg.ack()
        self.deps.finished(job.job_id)
        get_logger(__name__).info(
            "job_cancelled", job_id=job.job_id, queue=job.queue_name, function=job.function
        )

    def _payload(self, msg: Msg, job: Job) -> bytes:
        """What a requeue publishes: the message body, or for a schedule's firing the job
        itself under its own id (a firing's body carries the schedule's id)."""
        if job.schedule_id is None:
            return bytes(msg.data)
        return self.serializer.dumps(evolve(job, schedule_id=None).to_envelope())

    def shutdown(self) -> None:
        self.threads.shutdown(wait=False, cancel_futures=True)
