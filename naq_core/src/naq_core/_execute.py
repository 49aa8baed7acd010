"""Running one job message: look up the task, run it, record, ack/NAK/dead-letter.

The message's intake (decode, the subject's authority, poison letters) is ``_intake``; the
record of each message held and its in_progress signs are ``_running``.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import time
import traceback as tb
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from attrs import evolve

from naq_core._dead import failure_reason
from naq_core._heap import HeapTrimmer
from naq_core._intake import Intake
from naq_core._jobevents import JobEvents
from naq_core._log import get_logger
from naq_core._running import RecentAcks, RunningJob, progress_due, send_in_progress
from naq_core._syncrun import SyncRunner
from naq_core.deadletter import DeadLetterReason
from naq_core.errors import JobTimeoutError
from naq_core.heartbeat import MinuteCounts
from naq_core.job import Job, JobStatus, Outcome
from naq_core.registry import unknown_task_message

#: Records waiting for their store reply, per unit of credit, before they take the credit.
_UNCONFIRMED_PER_CREDIT = 4

if TYPE_CHECKING:
    from nats.aio.msg import Msg

    from naq_core._dead import DeadLetterRouter
    from naq_core._deps import DependencyTracker
    from naq_core._jetstream.connection import Connection
    from naq_core.registry import TaskRegistry
    from naq_core.results import ResultStore

__all__ = ["JobRunner"]


def _format(exc: BaseException) -> tuple[str, str, str]:
    return type(exc).__name__, str(exc), "".join(tb.format_exception(exc))


class JobRunner:
    """Turns messages into job runs; one per worker.

    Every message held is one :class:`RunningJob` in ``held``; once its job starts, the
    same record is in ``running`` under the job id.
    """

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
        self.intake = Intake(conn=conn, results=results, dead=dead, deps=deps, worker_id=worker_id)
        self.max_deliver = conn.config.max_deliver
        self.sync_calls = SyncRunner(concurrency)
        self.slots = asyncio.Semaphore(concurrency)
        self.held: set[RunningJob] = set()
        #: Jobs running now by (queue, job id): ids are unique per queue only.
        self.running: dict[tuple[str, str], RunningJob] = {}
        self.concurrency = concurrency
        self.max_prefetch = conn.config.prefetch
        #: Seconds between in_progress signs of a held message: a third of ack_wait.
        self.progress_every = conn.config.ack_wait / 3
        self.acks = RecentAcks(window=conn.config.ack_wait)  # sent again after a reconnect
        self.heap = HeapTrimmer()  # memory of a burst given back once idle
        self.avg_duration = 1.0  # seconds, EWMA; starts pessimistic (no prefetch)
        self.stopping = False
        self.processed = 0
        self.failed = 0
        self.history = MinuteCounts()  # per queue and minute, sent in the heartbeat
        # job_completed at debug, failures per job, a jobs_processed summary at info
        self.events = JobEvents(worker_id, logger=__name__)
        _, self._hook_started, self._hook_finished = conn.hooks.lifecycle_active()

    def is_stopping(self) -> bool:
        """Whether the worker is stopping (a call, so type checkers do not narrow it)."""
        return self.stopping

    def _forget(self, record: RunningJob) -> None:
        """The job stopped running: no more "running" marks, and learn its duration."""
        if record.job is not None:
            self.running.pop((record.job.queue_name, record.job.job_id), None)
        self.avg_duration += 0.05 * (time.time() - record.started_at - self.avg_duration)

    def capacity(self) -> int:
        """How many messages to hold: the slots, plus a prefetch that grows for short jobs.

        Holding about 50 ms of work per slot keeps a fast worker busy between pull round
        trips, while a worker running long jobs holds none it cannot start (so idle workers
        get them instead). Records waiting for the server's reply beyond four times that
        (a store far behind: a stall, not the normal pipeline) take its place, so the pulls
        slow down instead of records piling up (the expiry loop pulls again within 1 s).
        """
        base = self.concurrency
        if self.max_prefetch:
            base += min(self.max_prefetch, int(self.concurrency * 0.05 / max(self.avg_duration, 1e-5)))
        return max(0, base - max(0, self.conn.confirmer.pending - _UNCONFIRMED_PER_CREDIT * base))

    async def mark_running(self) -> None:
        """Record "running" for jobs that have been running a while (one sweep, not per job)."""
        todo = [(key, record) for key, record in self.running.items() if not record.marked]
        for key, record in todo:
            if self.running.get(key) is record and record.job is not None:  # still running
                record.marked = True
                await self.results.write(
                    record.job, JobStatus.RUNNING, started_at=record.started_at, worker_id=self.worker_id
                )

    async def keep_in_progress(self) -> int:
        """Tell JetStream that every held message not heard of for ``progress_every``
        seconds is still being worked on (``+WPI``, a publish without reply, whether its job
        runs or waits for a slot). Returns how many were sent."""
        due = progress_due(self.held, time.monotonic(), self.progress_every)
        for record in due:
            await send_in_progress(record.msg)
        # Finished jobs whose record waits for its store reply: still theirs, not done yet.
        return len(due) + await self.conn.confirmer.keep_alive(self.progress_every)

    def dispatch(self, msg: Msg, queue: str, done: Callable[[], None]) -> None:
        """Hold ``msg`` and run it in a task of its own; ``done`` gives its pull credit back."""
        now = time.monotonic()
        record = RunningJob(msg, queue, now, progressed=now)
        self.held.add(record)
        record.task = asyncio.get_running_loop().create_task(self.handle(record, done))

    async def handle(self, record: RunningJob, done: Callable[[], None]) -> None:
        """Run one message end to end, then forget it and call ``done``.

        A message still waiting for a slot when the worker stops (prefetched, never
        started) is NAKed at once, so another worker takes it without waiting for ack_wait.
        """
        msg = record.msg
        record.started = True
        try:
            if self.is_stopping():  # released before its task first ran
                await msg.nak()
                return
            try:
                await self.slots.acquire()
            except asyncio.CancelledError:
                await msg.nak()
                raise
            record.has_slot = True
            try:
                if self.is_stopping():
                    await msg.nak()
                    return
                await self._handle(msg, record.queue, record)
            finally:
                self.slots.release()
        finally:
            self.held.discard(record)
            done()

    async def _handle(self, msg: Msg, queue: str, record: RunningJob) -> None:
        job = await self.intake.admit(msg, queue)
        if job is None:  # a poison letter, or a firing that runs nothing
            return
        if job.function not in self.registry:
            error = unknown_task_message(job.function, queue)
            await self.results.write(
                job,
                JobStatus.FAILED,
                error_type="TaskNotFoundError",
                error=error,
                worker_id=self.worker_id,
                confirm=True,  # stored before the dead letter acks the message
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
            self.deps.finished(job.queue_name, job.job_id)
            self.failed += 1
            self.history.add(queue, failed=True)
            return
        func = self.registry.get(job.function)
        record.job, record.started_at = job, time.time()
        started = record.started_at
        self.running[job.queue_name, job.job_id] = record  # marked "running" by mark_running() if it lasts
        if progress_due((record,), time.monotonic(), self.progress_every):  # it waited long
            await send_in_progress(msg)
        if self._hook_started:
            await self.conn.hooks.job_started(job=job, worker_id=self.worker_id)
        try:
            result = await self._run(func, job, record)
        except asyncio.CancelledError:
            if record.cancel_requested:  # `naq job cancel`: ours, so it ends here
                current = asyncio.current_task()
                if current is not None:
                    current.uncancel()
                await self._cancelled(msg, job, record)
                return
            # Shutdown ran out of grace: give the job back at once, record nothing final.
            self._forget(record)
            await msg.nak()
            await self.results.write(job, JobStatus.PENDING, worker_id=self.worker_id)
            raise
        except BaseException as exc:
            self._forget(record)
            await self._failed(msg, job, exc, started)
        else:
            # Forget it before the final write, so the "running" sweep cannot write after it.
            self._forget(record)
            await self.results.write(
                job,
                JobStatus.COMPLETED,
                result=result,
                started_at=started,
                worker_id=self.worker_id,
                confirm=self.deps.has_dependents(job.queue_name, job.job_id),
                then=functools.partial(self.acks.ack, msg),  # leaves its queue once its record is stored
                keepalive=functools.partial(send_in_progress, msg),
            )
            self.processed += 1
            self.history.add(job.queue_name)
            self.deps.finished(job.queue_name, job.job_id)
            duration = time.time() - started
            self.events.completed(job, duration)
            if self._hook_finished:
                await self.conn.hooks.job_finished(
                    job=job,
                    outcome=Outcome(status=JobStatus.COMPLETED, duration=duration, result=result),
                    worker_id=self.worker_id,
                )

    async def _run(self, func: Callable[..., Any], job: Job, record: RunningJob) -> Any:
        if inspect.iscoroutinefunction(func):
            call = func(*job.args, **job.kwargs)
        else:
            record.sync = True
            call = self.sync_calls.call(func, job.args, job.kwargs)
        if job.timeout is None:
            return await call
        try:
            return await asyncio.wait_for(call, job.timeout)
        except TimeoutError:
            raise JobTimeoutError(f"job exceeded its timeout of {job.timeout} s") from None

    async def _failed(self, msg: Msg, job: Job, exc: BaseException, started: float) -> None:
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
            self.events.retrying(job, delay, f"{error_type}: {error}")
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
                confirm=True,  # stored before the dead letter acks the message
            )
            self.failed += 1
            self.history.add(job.queue_name, failed=True)
            self.events.failed(job, duration, f"{error_type}: {error}")
            letter = self.dead.letter(
                msg,
                failure_reason(job, exc),
                queue=job.queue_name,
                job=job,
                error_type=error_type,
                error=error,
                traceback=trace,
            )
            await self.dead.route(msg, letter)
            self.deps.finished(job.queue_name, job.job_id)
            outcome = Outcome(
                status=JobStatus.FAILED,
                duration=duration,
                error_type=error_type,
                error=error,
                traceback=trace,
            )
        if self._hook_finished:
            await self.conn.hooks.job_finished(job=job, outcome=outcome, worker_id=self.worker_id)

    def request_cancel(self, job_id: str, queue: str | None = None) -> str:
        """``cancelled``, ``sync`` (a thread cannot be interrupted) or ``unknown`` (not here,
        or a job of another queue than ``queue``, or without ``queue`` one id running here
        for several queues: the caller must name the queue)."""
        if queue:
            record = self.running.get((queue, job_id))
        else:
            found = [r for (_, running_id), r in self.running.items() if running_id == job_id]
            record = found[0] if len(found) == 1 else None
        if record is None or record.task is None:
            return "unknown"
        if record.sync:
            return "sync"
        record.cancel_requested = True
        record.task.cancel()
        return "cancelled"

    async def _cancelled(self, msg: Msg, job: Job, record: RunningJob) -> None:
        started = record.started_at
        self._forget(record)
        await self.results.write(
            job,
            JobStatus.CANCELLED,
            error_type="Cancelled",
            error="cancelled while running",
            started_at=started,
            worker_id=self.worker_id,
            confirm=True,  # stored before the ack: a waiter never finds the job nowhere
            payload=self._payload(msg, job),
        )
        await msg.ack()
        self.deps.finished(job.queue_name, job.job_id)
        get_logger(__name__).info(
            "job_cancelled", job_id=job.job_id, queue=job.queue_name, function=job.function
        )

    def _payload(self, msg: Msg, job: Job) -> bytes:
        """What a requeue publishes: the message body, or for a schedule's firing the job
        itself under its own id (a firing's body carries the schedule's id)."""
        if job.schedule_id is None:
            return bytes(msg.data)
        return self.serializer.dumps(evolve(job, schedule_id=None).to_envelope())

    def release_waiting(self) -> int:
        """The worker is stopping: start no more jobs, and NAK at once every held message
        still waiting for a slot (prefetched, never started), so another worker takes it
        now rather than after ``ack_wait``. Returns how many were released."""
        self.stopping = True
        waiting = [r for r in self.held if not r.has_slot and r.task is not None and not r.task.done()]
        for record in waiting:
            if record.started and record.task is not None:
                record.task.cancel()  # handle() NAKs a message cancelled while it waits for a slot
            # one not started yet NAKs its message as it starts (``stopping``)
        return len(waiting)

    async def cancel_all(self, timeout: float = 5.0) -> int:
        """Cancel every held message's task (each NAKs its message) and wait up to
        ``timeout`` seconds for them; returns how many were cancelled. A task that has not
        started yet is left to NAK its message as it starts (``stopping`` is set)."""
        self.stopping = True
        held = [r for r in self.held if r.task is not None and not r.task.done()]
        tasks = [r.task for r in held if r.task is not None]
        for record in held:
            if record.started and record.task is not None:
                record.task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)
        return len(tasks)

    def shutdown(self) -> None:
        self.events.flush()  # the last jobs_processed summary
        self.sync_calls.shutdown()
