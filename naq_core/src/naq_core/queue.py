"""``Queue``: enqueue jobs, look them up, wait for results, purge. The producer's API."""

from __future__ import annotations

import asyncio
import json
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import nats.js.errors

from naq_core import _deps
from naq_core._jetstream.connection import Connection, connect
from naq_core._jetstream.names import (
    JOBS_STREAM,
    RESULTS_BUCKET,
    job_filter,
    job_subject,
    queue_filter,
    queue_of_subject,
)
from naq_core._log import get_logger
from naq_core._resultwait import check_timeout, wait_for_record
from naq_core.config import Config, load_config, validate_queue_name
from naq_core.errors import JobNotFoundError, NaqConnectionError, SerializationError
from naq_core.job import Job, JobStatus, RetryStrategy
from naq_core.job_control import JobControlMixin
from naq_core.plugins import get_hooks
from naq_core.registry import task_name
from naq_core.results import JobRecord, ResultStore
from naq_core.scheduling import SchedulingMixin
from naq_core.serializer import SERIALIZER_HEADER

__all__ = ["Queue", "UnsafeSerializerWarning"]

ExcSpec = type[BaseException] | str
_warned_unsafe: set[str] = set()


class UnsafeSerializerWarning(UserWarning):
    """The configured serializer can run code on decode (pickle)."""


def _exc_names(spec: ExcSpec | Sequence[ExcSpec] | None) -> tuple[str, ...]:
    if spec is None:
        return ()
    items = [spec] if isinstance(spec, str | type) else list(spec)
    names = []
    for item in items:
        if isinstance(item, str):
            names.append(item if ":" in item else f"builtins:{item}")
        elif isinstance(item, type) and issubclass(item, BaseException):
            names.append(f"{item.__module__}:{item.__qualname__}")
        else:
            raise TypeError(f"retry_on/ignore_on take exception classes or names, got {item!r}")
    return tuple(names)


def _dep_ids(depends_on: str | Job | Sequence[str | Job] | None) -> tuple[str, ...]:
    if depends_on is None:
        return ()
    items = [depends_on] if isinstance(depends_on, str | Job) else list(depends_on)
    return tuple(item.job_id if isinstance(item, Job) else str(item) for item in items)


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


class Queue(SchedulingMixin, JobControlMixin):
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
        if max_retries >= self.config.max_deliver:
            raise ValueError(
                f"max_retries={max_retries} needs max_deliver > {max_retries} "
                f"(configured max_deliver is {self.config.max_deliver}; raise it in the config)"
            )
        if job_id is not None:
            if not job_id or any(c in job_id for c in " .*>\t\r\n"):
                raise ValueError(f"job_id {job_id!r} must be non-empty, without spaces, dots, '*' or '>'")
            options["job_id"] = job_id
            options["dedupe"] = True
        return Job(
            function=task_name(func),
            args=args,
            kwargs=kwargs,
            queue_name=self.name,
            max_retries=max_retries,
            retry_delay=retry_delay,
            retry_strategy=RetryStrategy(retry_strategy),
            retry_jitter=retry_jitter,
            retry_on=_exc_names(retry_on),
            ignore_on=_exc_names(ignore_on),
            depends_on=_dep_ids(depends_on),
            timeout=timeout,
            result_ttl=result_ttl,
            **options,
        )

    def _encode(self, conn: Connection, job: Job) -> bytes:
        try:
            return conn.serializer.dumps(job.to_envelope())
        except SerializationError as exc:
            raise SerializationError(f"cannot enqueue {job.function}: {exc}") from None

    def _headers(self, conn: Connection, job: Job) -> dict[str, str] | None:
        # Headers cost every worker a parse per message: send them only when they matter.
        # A caller-given id is an idempotency key (Nats-Msg-Id deduplicates for 2 minutes).
        if job.dedupe:
            return {"Nats-Msg-Id": job.job_id, SERIALIZER_HEADER: conn.serializer.name}
        if conn.serializer.name != "json":  # a json worker names the mismatch (json sends none)
            return {SERIALIZER_HEADER: conn.serializer.name}
        return None

    # --- enqueue ------------------------------------------------------------------------

    async def enqueue(self, func: Callable[..., Any] | str, *args: Any, **options: Any) -> Job:
        """Publish one job and wait for JetStream to store it. Returns the :class:`Job`.

        Options: ``max_retries``, ``retry_delay`` (seconds, or a list per attempt),
        ``retry_strategy`` (``linear``/``fixed``/``exponential``), ``retry_jitter``,
        ``retry_on``/``ignore_on`` (exception classes), ``depends_on`` (ids or jobs),
        ``timeout``, ``result_ttl``, ``job_id`` (idempotent: a second enqueue with the same
        id within two minutes is dropped). Other keyword arguments go to the function.
        """
        job = self.prepare(func, *args, **options)
        return await self.enqueue_job(job)

    async def enqueue_job(self, job: Job) -> Job:
        """Publish a job built with :meth:`prepare`."""
        conn = await self.connection()
        data = self._encode(conn, job)
        headers = self._headers(conn, job)
        if job.depends_on:
            await _deps.hold(conn, job, data, headers)
        else:
            await _publish_one(conn, job_subject(self.name, job.job_id), data, headers)
        await conn.hooks.job_enqueued(job=job)
        return job

    async def enqueue_many(
        self,
        calls: Iterable[Job | tuple[Callable[..., Any] | str, Sequence[Any]] | tuple[Any, ...]],
        **options: Any,
    ) -> list[Job]:
        """Publish many jobs pipelined (one flush, acks awaited together).

        Each item is a :class:`Job` from :meth:`prepare`, or ``(func, args)``, or
        ``(func, args, kwargs)``; ``options`` apply to the tuple items.
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
        batch: list[tuple[str, bytes, dict[str, str] | None]] = []
        for job in jobs:
            data = self._encode(conn, job)
            headers = self._headers(conn, job)
            if job.depends_on:
                await _deps.hold(conn, job, data, headers)
            else:
                batch.append((job_subject(self.name, job.job_id), data, headers))
        if batch:
            await conn.pipeline.publish(batch)
        if conn.hooks.lifecycle_active()[0]:
            for job in jobs:
                await conn.hooks.job_enqueued(job=job)
        return jobs

    # --- inspecting -----------------------------------------------------------------------

    async def job_record(self, job_id: str) -> JobRecord:
        """Everything known about a job; raises :class:`JobNotFoundError` if nothing is."""
        conn = await self.connection()
        record = await ResultStore(conn).get(job_id)
        if record is not None:
            return record
        if await _deps.is_waiting(conn, job_id):
            return JobRecord(job_id=job_id, status=JobStatus.WAITING)
        info = await conn.js.stream_info(JOBS_STREAM, subjects_filter=job_filter(job_id))
        if info.state.subjects:
            queue = queue_of_subject(next(iter(info.state.subjects)))
            return JobRecord(job_id=job_id, status=JobStatus.PENDING, queue=queue)
        raise JobNotFoundError(f"no job {job_id!r}: unknown id, or its record expired")

    async def job_status(self, job_id: str) -> JobStatus:
        return (await self.job_record(job_id)).status

    async def fetch_job_result(self, job_id: str | Job, timeout: float | None = None) -> Any:
        """The job's return value, waiting up to ``timeout`` seconds (``None``: for ever).

        Raises :class:`~naq_core.errors.JobFailedError` carrying the remote traceback if the
        job failed, :class:`~naq_core.errors.TimeoutError` if it did not finish in time, and
        :class:`~naq_core.errors.JobNotFoundError` at once if naq knows nothing of the id (no
        record, not queued, not waiting on dependencies, not scheduled). Waiting costs one
        core subscription while it lasts, no JetStream consumer.
        """
        timeout = check_timeout(timeout)
        key = job_id.job_id if isinstance(job_id, Job) else job_id
        conn = await self.connection()
        record = await wait_for_record(conn, key, timeout)
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


async def _publish_one(conn: Connection, subject: str, data: bytes, headers: dict[str, str] | None) -> None:
    """One awaited JetStream publish; the ack is checked, not parsed into a PubAck."""
    try:
        reply = await conn.nc.request(subject, data, timeout=10, headers=headers)
    except nats.errors.NoRespondersError:
        raise NaqConnectionError(f"no JetStream stream stores {subject}; was the stream deleted?") from None
    except nats.errors.TimeoutError:
        raise NaqConnectionError(f"NATS did not confirm {subject} within 10 s") from None
    if b'"error"' in reply.data:
        error = json.loads(reply.data)["error"]
        raise NaqConnectionError(f"NATS refused the job: {error.get('description', error)}")


async def purge_subject(conn: Connection, subject: str) -> int:
    """Purge ``subject`` from the jobs stream; the count comes from the server's reply."""
    reply = await conn.nc.request(
        f"$JS.API.STREAM.PURGE.{JOBS_STREAM}", json.dumps({"filter": subject}).encode(), timeout=10
    )
    data = json.loads(reply.data)
    if "error" in data:
        raise nats.js.errors.APIError.from_error(data["error"])
    return int(data.get("purged", 0))
