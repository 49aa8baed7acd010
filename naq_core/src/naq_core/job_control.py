"""Job control behind :class:`~naq_core.queue.Queue`: cancel and requeue jobs, pause a queue.

A job is its queue and its id: ``queue=`` (or a ``<queue>.<job id>`` reference) names one
exactly; a bare id is the job of the one queue that knows it, and an id several queues
know raises :class:`~naq_core.errors.AmbiguousJobError` rather than act on either.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import TYPE_CHECKING

import nats.errors
import nats.js.errors
from attrs import evolve

from naq_core import _deps
from naq_core._jetstream.names import (
    CANCEL_SUBJECT,
    JOBS_STREAM,
    cancel_subject,
    consumer_name,
    job_filter,
    job_subject,
    queue_of_subject,
)
from naq_core._log import get_logger
from naq_core._resultwait import bare_id_queue
from naq_core.errors import JobNotFoundError, NaqError
from naq_core.job import Job, JobStatus
from naq_core.results import JobRecord, ResultStore, job_ref
from naq_core.schedules import _store as schedule_store
from naq_core.schedules.spec import rfc3339

if TYPE_CHECKING:
    from naq_core._jetstream.connection import Connection

__all__ = ["CANCEL_SUBJECT", "cancel_job", "is_paused", "pause", "requeue_job", "resume"]

_REQUEUEABLE = (JobStatus.FAILED, JobStatus.DEPENDENCY_FAILED, JobStatus.CANCELLED)


async def _find(conn: Connection, job_id: str, queue: str | None) -> tuple[str | None, str, JobRecord | None]:
    """``(queue, job id, record)`` of the job a lookup names; the queue is ``None`` when
    nothing names one (a job running without a record yet is then asked for by id)."""
    ref = job_ref(job_id, queue)
    if ref is None:
        raise JobNotFoundError(f"no job {job_id!r}: not a valid job id")
    queue, job_id = ref
    record = await ResultStore(conn).get(job_id, queue)
    if queue is None:  # a bare id: the one queue that knows it (a record, queued, held)
        queue = await bare_id_queue(conn, job_id, record)
    return queue, job_id, record


async def cancel_job(conn: Connection, job_id: str, *, queue: str | None = None) -> JobStatus:
    """Cancel a job wherever it is: scheduled, waiting for dependencies, queued or running.

    A running async job is cancelled in its worker; a running sync job cannot be
    interrupted (threads cannot be killed) and raises :class:`NaqError`. A finished job
    raises :class:`NaqError`; an unknown id :class:`JobNotFoundError`. Returns
    ``JobStatus.CANCELLED``. ``queue`` (or ``<queue>.<job id>``) names the job's queue.
    """
    queue, job_id, record = await _find(conn, job_id, queue)
    if record is not None and record.finished:
        raise NaqError(f"job {job_id} already ended: {record.status.value}")
    if record is not None and record.status is JobStatus.SCHEDULED:
        await schedule_store.cancel(conn, job_id)
        return JobStatus.CANCELLED
    if queue is not None and await _deps.cancel(conn, job_id, queue):
        return JobStatus.CANCELLED
    answer = await _ask_workers(conn, job_id, queue)
    if answer == "cancelled":
        return JobStatus.CANCELLED
    if answer == "sync":
        raise NaqError(
            f"job {job_id} is running a sync function, which cannot be interrupted; "
            "it will finish (or time out) on its own"
        )
    message = await _take_from_queue(conn, job_id, queue)
    if message is None:
        raise JobNotFoundError(f"no job {job_id!r} to cancel (unknown id, or its record expired)")
    queue, payload = message
    job = _job_from(conn, payload, job_id, queue)
    await ResultStore(conn).write(
        job,
        JobStatus.CANCELLED,
        error_type="Cancelled",
        error="cancelled before it ran",
        payload=payload,
        confirm=True,
    )
    get_logger(__name__).info("job_cancelled", job_id=job_id, queue=queue)
    return JobStatus.CANCELLED


async def requeue_job(conn: Connection, queue_name: str, job_id: str, *, queue: str | None = None) -> Job:
    """Put a failed, dependency-failed or cancelled job back on its queue.

    Same job id, attempts start again at 1. Raises :class:`NaqError` for jobs in
    another state, :class:`JobNotFoundError` when nothing is known about the id.
    ``queue`` (or ``<queue>.<job id>``) names the job's queue; else the one queue holding a
    record of the id (``queue_name`` when the record names none).
    """
    ref = job_ref(job_id, queue)
    record = None if ref is None else await ResultStore(conn).get(ref[1], ref[0])
    if ref is not None:
        queue, job_id = ref
    if record is None:
        raise JobNotFoundError(f"no job {job_id!r} (unknown id, or its record expired)")
    if record.status not in _REQUEUEABLE or record.payload is None:
        raise NaqError(
            f"job {job_id} is {record.status.value}; only failed, dependency_failed and cancelled "
            "jobs can be requeued"
        )
    queue = queue or record.queue or queue_name
    job = evolve(_job_from(conn, record.payload, job_id, queue), enqueued_at=time.time())
    # The record first: a worker may finish the job before a later write would land.
    await ResultStore(conn).write(job, JobStatus.PENDING, confirm=True)
    await conn.js.publish(job_subject(queue, job_id), conn.serializer.dumps(job.to_envelope()))
    get_logger(__name__).info("job_requeued", job_id=job_id, queue=queue)
    return job


async def pause(conn: Connection, queue_name: str, until: dt.datetime | None = None) -> None:
    """Stop every worker of this queue from receiving jobs (until ``until``, or resume)."""
    durable = await conn.ensure_consumer(queue_name)
    when = until or dt.datetime.now(dt.UTC) + dt.timedelta(days=365 * 100)
    await conn.js.pause_consumer(JOBS_STREAM, durable, rfc3339(when))


async def resume(conn: Connection, queue_name: str) -> None:
    await conn.js.resume_consumer(JOBS_STREAM, await conn.ensure_consumer(queue_name))


async def is_paused(conn: Connection, queue_name: str) -> bool:
    try:
        info = await conn.js.consumer_info(JOBS_STREAM, consumer_name(queue_name))
    except nats.js.errors.NotFoundError:
        return False
    return bool(info.paused)


def _job_from(conn: Connection, payload: bytes, job_id: str, queue: str) -> Job:
    """The job a stored message carries, as job ``job_id`` of ``queue`` (where it was)."""
    try:
        job = Job.from_envelope(conn.serializer.loads(payload))
    except Exception as exc:
        raise NaqError(f"job {job_id}: its stored message cannot be decoded ({exc})") from None
    return evolve(job, job_id=job_id, queue_name=queue, schedule_id=None)


async def _ask_workers(conn: Connection, job_id: str, queue: str | None) -> str | None:
    """The answer of the worker running ``job_id`` of ``queue`` (any queue when ``None``),
    or None when none is."""
    try:
        reply = await conn.nc.request(cancel_subject(job_id), (queue or "").encode(), timeout=1.0)
    except (nats.errors.NoRespondersError, nats.errors.TimeoutError):
        return None
    return reply.data.decode()


async def _take_from_queue(conn: Connection, job_id: str, queue: str | None) -> tuple[str, bytes] | None:
    """Remove a queued (or retry-waiting) job's message; its queue and payload."""
    where = job_filter(job_id) if queue is None else job_subject(queue, job_id)
    info = await conn.js.stream_info(JOBS_STREAM, subjects_filter=where)
    for subject in info.state.subjects or {}:
        try:
            msg = await conn.js.get_last_msg(JOBS_STREAM, subject)
        except nats.js.errors.NotFoundError:
            continue
        await conn.js.purge_stream(JOBS_STREAM, subject=subject)
        return queue_of_subject(subject) or "", bytes(msg.data or b"")
    return None
