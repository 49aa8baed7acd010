"""``Queue``: enqueue jobs, look them up, wait for results, purge. The producer's API."""

from __future__ import annotations

import asyncio
import datetime as dt
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from naq_core import job_control, job_lookup
from naq_core._enqueue import (
    ExcSpec,
    check_retries,
    dep_ids,
    encode,
    enqueue_many,
    enqueue_one,
    exc_names,
    purge_subject,
)
from naq_core._jetstream.connection import Connection, connect
from naq_core._jetstream.names import (
    JOBS_STREAM,
    RESULTS_BUCKET,
    queue_filter,
)
from naq_core._log import get_logger
from naq_core._resultwait import check_timeout, wait_for_record
from naq_core.config import Config, load_config, validate_queue_name
from naq_core.job import Job, JobStatus, RetryStrategy, check_job_id
from naq_core.plugins import get_hooks
from naq_core.registry import task_name
from naq_core.results import JobRecord
from naq_core.schedules import _store as schedule_store
from naq_core.schedules.record import Schedule, recurring_schedule
from naq_core.schedules.spec import modify_changes, seconds

__all__ = ["Queue", "UnsafeSerializerWarning"]

_warned_unsafe: set[str] = set()


class UnsafeSerializerWarning(UserWarning):
    """The configured serializer can run code on decode (pickle)."""


def warn_if_unsafe(conn: Connection, where: str) -> None:
    """Warn once per process and place (``enqueue``, ``worker start``) about a serializer
    that can run code when it decodes."""
    serializer = conn.serializer
    if not serializer.unsafe or where in _warned_unsafe:
        return
    _warned_unsafe.add(where)
    message = (
        f"serializer {serializer.name!r} can execute code when it decodes: anyone who can publish "
        "to naq's subjects can run code on your workers. See docs/security.md."
    )
    get_logger(__name__).warning("unsafe_serializer", serializer=serializer.name, where=where)
    warnings.warn(message, UnsafeSerializerWarning, stacklevel=3)


class Queue:
    """A named queue on the ``naq_jobs`` stream.

    ``Queue("emails")`` connects lazily on first use with the effective configuration
    (files, ``NAQ_*``, then the arguments given here); pass ``connection=`` to share one
    connection between queues. Use it as ``async with Queue(...) as q:`` or call
    :meth:`close`.
    """

    def __init__(
        self,
        name: str | None = None,
        nats_url: str | Sequence[str] | None = None,
        *,
        config: Config | None = None,
        connection: Connection | None = None,
        **settings: Any,
    ) -> None:
        if config is None:
            config = (
                connection.config if connection else load_config(overrides={"nats_url": nats_url, **settings})
            )
        self.config = config
        self.name = validate_queue_name(name or config.default_queue)
        self._conn = connection
        self._owns_conn = connection is None
        self._lock = asyncio.Lock()
        self._ready = False

    async def connection(self) -> Connection:
        """The connection (opened, with the stream in place, on first call)."""
        if self._conn is None or not self._ready:
            async with self._lock:
                if self._conn is None:
                    self._conn = await connect(self.config, hooks=get_hooks(), name=f"naq-queue-{self.name}")
                if not self._ready:
                    await self._conn.ensure_stream()
                    await self._conn.bucket(RESULTS_BUCKET)  # records may be written at once
                    warn_if_unsafe(self._conn, "enqueue")
                    self._ready = True
        return self._conn

    async def close(self) -> None:
        if self._conn is not None and self._owns_conn:
            await self._conn.close()
            self._conn = None
            self._ready = False

    async def __aenter__(self) -> Queue:
        await self.connection()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- building jobs ------------------------------------------------------------------

    def prepare(
        self,
        func: Callable[..., Any] | str,
        *args: Any,
        max_retries: int = 0,
        retry_delay: float | Sequence[float] = 0,
        retry_strategy: str | RetryStrategy = RetryStrategy.LINEAR,
        retry_jitter: float = 0.0,
        retry_on: ExcSpec | Sequence[ExcSpec] | None = None,
        ignore_on: ExcSpec | Sequence[ExcSpec] | None = None,
        depends_on: str | Job | Sequence[str | Job] | None = None,
        timeout: float | None = None,
        result_ttl: float | None = None,
        job_id: str | None = None,
        **kwargs: Any,
    ) -> Job:
        """Build the :class:`Job` that :meth:`enqueue` would publish, without publishing."""
        options: dict[str, Any] = {}
        if job_id is not None:
            options["job_id"] = check_job_id(job_id)
            options["dedupe"] = True
        job = Job(
            function=task_name(func),
            args=args,
            kwargs=kwargs,
            queue_name=self.name,
            max_retries=max_retries,
            retry_delay=retry_delay,
            retry_strategy=RetryStrategy(retry_strategy),
            retry_jitter=retry_jitter,
            retry_on=exc_names(retry_on),
            ignore_on=exc_names(ignore_on),
            depends_on=dep_ids(depends_on),
            timeout=timeout,
            result_ttl=result_ttl,
            **options,
        )  # its validators refuse what a worker could not run (docs/security.md, Limits)
        check_retries(job, self.config.max_deliver)
        return job

    # --- enqueue ------------------------------------------------------------------------

    async def enqueue(self, func: Callable[..., Any] | str, *args: Any, **options: Any) -> Job:
        """Publish one job and wait for JetStream to store it. Returns the :class:`Job`.

        Options: ``max_retries``, ``retry_delay`` (seconds, or a list per attempt),
        ``retry_strategy`` (``linear``/``fixed``/``exponential``), ``retry_jitter``,
        ``retry_on``/``ignore_on`` (exception classes), ``depends_on`` (ids or jobs),
        ``timeout``, ``result_ttl``, ``job_id`` (idempotent: a second enqueue with the same
        id on this queue within two minutes stores nothing and returns the job with
        ``duplicate=True``). Other keyword arguments go to the function.
        """
        job = self.prepare(func, *args, **options)
        return await self.enqueue_job(job)

    async def enqueue_job(self, job: Job) -> Job:
        """Publish a job built with :meth:`prepare`."""
        return await enqueue_one(await self.connection(), self.name, job)

    async def enqueue_many(
        self,
        calls: Iterable[Job | tuple[Callable[..., Any] | str, Sequence[Any]] | tuple[Any, ...]],
        **options: Any,
    ) -> list[Job]:
        """Publish many jobs pipelined (one flush, acks awaited together).

        Each item is a :class:`Job` from :meth:`prepare`, or ``(func, args)``, or
        ``(func, args, kwargs)``; ``options`` apply to the tuple items. The jobs come back
        in order; one whose chosen ``job_id`` this queue already held has ``duplicate=True``.
        """
        conn = await self.connection()
        jobs: list[Job] = []
        for item in calls:
            if isinstance(item, Job):
                jobs.append(item)
            else:
                func, args, *rest = item
                kwargs = rest[0] if rest else {}
                jobs.append(self.prepare(func, *args, **options, **kwargs))
        return await enqueue_many(conn, self.name, jobs)

    # --- inspecting -----------------------------------------------------------------------

    async def job_record(self, job_id: str | Job) -> JobRecord:
        """Everything known about a job (see :func:`naq_core.job_lookup.job_record`: a Job or
        ``<queue>.<job id>`` is exact, a bare id two queues hold raises
        :class:`~naq_core.errors.AmbiguousJobError`); :class:`JobNotFoundError` if nothing is."""
        queue = job_id.queue_name if isinstance(job_id, Job) else None
        key = job_id.job_id if isinstance(job_id, Job) else job_id
        return await job_lookup.job_record(await self.connection(), key, queue=queue)

    async def job_status(self, job_id: str | Job) -> JobStatus:
        return (await self.job_record(job_id)).status

    async def fetch_job_result(self, job_id: str | Job, timeout: float | None = None) -> Any:
        """The job's return value, waiting up to ``timeout`` seconds (``None``: for ever).

        Raises :class:`~naq_core.errors.JobFailedError` carrying the remote traceback if the
        job failed, :class:`~naq_core.errors.NaqTimeoutError` if it did not finish in time, and
        :class:`~naq_core.errors.JobNotFoundError` at once if naq knows nothing of the id (no
        record, not queued, not waiting on dependencies, not scheduled). Waiting costs one
        core subscription while it lasts, no JetStream consumer.
        """
        timeout = check_timeout(timeout)
        queue = job_id.queue_name if isinstance(job_id, Job) else None  # a Job is exact
        key = job_id.job_id if isinstance(job_id, Job) else job_id
        conn = await self.connection()
        record = await wait_for_record(conn, key, timeout, queue=queue)
        record.raise_for_status()
        return record.result

    # --- maintenance ------------------------------------------------------------------

    async def count(self) -> int:
        """Jobs waiting in this queue (not yet acknowledged)."""
        conn = await self.connection()
        info = await conn.js.stream_info(JOBS_STREAM, subjects_filter=queue_filter(self.name))
        return sum((info.state.subjects or {}).values())

    async def purge(self) -> int:
        """Delete every job waiting in this queue. Returns how many were removed."""
        conn = await self.connection()
        return await purge_subject(conn, queue_filter(self.name))

    # --- job control (naq_core.job_control) -------------------------------------------

    async def cancel_job(self, job_id: str) -> JobStatus:
        """Cancel a job wherever it is: scheduled, waiting for dependencies, queued or running.

        A running async job is cancelled in its worker; a running sync job cannot be
        interrupted (threads cannot be killed) and raises :class:`NaqError`. A finished job
        raises :class:`NaqError`; an unknown id :class:`JobNotFoundError`. Returns
        ``JobStatus.CANCELLED``.
        """
        return await job_control.cancel_job(await self.connection(), job_id)

    async def requeue_job(self, job_id: str) -> Job:
        """Put a failed, dependency-failed or cancelled job back on its queue (same id)."""
        return await job_control.requeue_job(await self.connection(), self.name, job_id)

    async def pause(self, until: dt.datetime | None = None) -> None:
        """Stop every worker of this queue from receiving jobs (until ``until``, or resume)."""
        await job_control.pause(await self.connection(), self.name, until)

    async def resume(self) -> None:
        await job_control.resume(await self.connection(), self.name)

    async def is_paused(self) -> bool:
        return await job_control.is_paused(await self.connection(), self.name)

    # --- scheduled jobs (naq_core.schedules), run by the NATS server itself -------------

    def _scheduled_job(
        self, func: Callable[..., Any] | str, args: tuple[Any, ...], options: dict[str, Any]
    ) -> Job:
        if options.get("depends_on") is not None:
            raise ValueError(
                "depends_on cannot be combined with a schedule; enqueue the dependent when it fires"
            )
        return self.prepare(func, *args, **options)

    async def enqueue_at(
        self,
        when: dt.datetime | None = None,
        func: Callable[..., Any] | str | None = None,
        *args: Any,
        **options: Any,
    ) -> Job:
        """Run ``func`` once at ``when`` (naive datetimes are UTC; a past time runs at once).

        Takes every option :meth:`enqueue` takes. The returned job's id is also the
        schedule's id (cancel it with :meth:`cancel_scheduled_job`); a caller-given
        ``job_id`` registered twice replaces the first. ``dt=`` (the original naq's name
        for ``when``) still works until naq 1.0, with a warning.
        """
        from naq_core.compat import first_argument  # accepts dt= (not imported at the top: a cycle)

        moment, run = first_argument(when, func, options, where="enqueue_at", new="when", old="dt")
        job = self._scheduled_job(run, args, options)
        conn = await self.connection()
        encode(conn, job)  # refuses a job too large for the server before anything is stored
        return await schedule_store.one_off(conn, job, moment)

    async def enqueue_in(
        self,
        delay: float | dt.timedelta | None = None,
        func: Callable[..., Any] | str | None = None,
        *args: Any,
        **options: Any,
    ) -> Job:
        """Run ``func`` once after ``delay`` (seconds or a ``timedelta``).

        ``delta=`` (the original naq's name for ``delay``) still works until naq 1.0, with a
        warning.
        """
        from naq_core.compat import first_argument  # accepts delta= (not imported at the top: a cycle)

        after, run = first_argument(delay, func, options, where="enqueue_in", new="delay", old="delta")
        when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds(after))
        return await self.enqueue_at(when, run, *args, **options)

    async def schedule(
        self,
        func: Callable[..., Any] | str,
        *args: Any,
        cron: str | None = None,
        interval: float | dt.timedelta | None = None,
        repeat: int | None = None,
        tz: str | None = None,
        name: str | None = None,
        **options: Any,
    ) -> Schedule:
        """Run ``func`` on a cron expression or every ``interval``; each firing is a job.

        ``cron`` takes 5 fields (minute first) or 6 (second first), or ``@hourly`` & co;
        ``tz`` (an IANA name) applies to cron only. ``interval`` is at least one second.
        ``repeat`` stops after that many firings. A ``name`` is the schedule's id:
        registering the same name again (from any process) replaces the schedule.
        """
        spec = recurring_schedule(self.name, cron=cron, interval=interval, repeat=repeat, tz=tz, name=name)
        job = self._scheduled_job(func, args, options)
        conn = await self.connection()
        encode(conn, job)  # refuses a job too large for the server before anything is stored
        return await schedule_store.register(conn, job, spec)

    async def list_schedules(self, *, all_queues: bool = False) -> list[Schedule]:
        """This queue's schedules (every queue's with ``all_queues=True``), soonest first."""
        return await schedule_store.list_schedules(await self.connection(), None if all_queues else self.name)

    async def get_schedule(self, schedule_id: str) -> Schedule:
        """One schedule by id; raises ``JobNotFoundError`` (``no schedule 'x'``) if unknown."""
        return await schedule_store.get(await self.connection(), schedule_id)

    async def cancel_scheduled_job(self, schedule_id: str) -> Schedule:
        """Stop a schedule for good; firings still waiting in the queue are skipped.

        A one-off that has not fired is recorded ``cancelled``.
        """
        return await schedule_store.cancel(await self.connection(), schedule_id)

    async def pause_scheduled_job(self, schedule_id: str) -> Schedule:
        """Stop firing until :meth:`resume_scheduled_job` (firings already queued still run)."""
        return await schedule_store.pause(await self.connection(), schedule_id)

    async def resume_scheduled_job(self, schedule_id: str) -> Schedule:
        """Fire again from the next due time (runs missed while paused are skipped)."""
        return await schedule_store.resume(await self.connection(), schedule_id)

    async def modify_scheduled_job(
        self,
        schedule_id: str,
        *,
        cron: str | None = None,
        interval: float | dt.timedelta | None = None,
        next_run: dt.datetime | None = None,
        repeat: int | None = None,
        tz: str | None = None,
    ) -> Schedule:
        """Give a schedule a new cron, interval or (one-off) next run, or a new ``repeat``."""
        changes = modify_changes(cron=cron, interval=interval, next_run=next_run, repeat=repeat, tz=tz)
        return await schedule_store.modify(await self.connection(), schedule_id, **changes)

    async def run_scheduled_job_now(self, schedule_id: str) -> Job:
        """Enqueue one run now, as a job of its own; the schedule itself is unchanged."""
        return await schedule_store.run_now(await self.connection(), schedule_id)
