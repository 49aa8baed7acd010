"""Jobs as NATS knows them: one job's record, recent jobs, ids, dependents.

What ``naq job`` (show, the picker), shell completion and the dashboard's job page read.
Nothing here creates a stream or a bucket; a listing's KV scan deletes its consumer.

* :func:`job_record` finds one job: its record, else its hold or its queued message.
* :func:`recent_jobs` reads the results bucket (``naq_results``, keys ``<queue>.<job id>``)
  in one pass and adds jobs still waiting in the stream, which have no record until a worker
  picks them up.
* :func:`job_ids` completes job ids; :func:`dependents` lists the jobs held for one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

import nats.js.errors

from naq_core import _deps
from naq_core._jetstream.kvscan import scan
from naq_core._jetstream.names import (
    JOBS_STREAM,
    RESULTS_BUCKET,
    job_filter,
    job_subject,
    queue_of_subject,
    split_job_subject,
)
from naq_core._resultwait import job_queues
from naq_core.errors import JobNotFoundError, NaqError
from naq_core.job import Job, JobStatus
from naq_core.overview import stored_subjects
from naq_core.results import JobRecord, ResultStore, ambiguous, job_ref

if TYPE_CHECKING:
    from naq_core._jetstream.connection import Connection

__all__ = ["dependents", "job_ids", "job_record", "recent_jobs"]


def _id_of_key(key: str) -> str:
    """The job id of a results key ``<queue>.<job id>`` (an older naq's key is the bare id)."""
    return key.rpartition(".")[2]


def _record(conn: Connection, key: str, raw: bytes) -> JobRecord | None:
    """A record from the bucket, or ``None`` if it cannot be read (listing goes on)."""
    try:
        return JobRecord.from_dict(_id_of_key(key), conn.serializer.loads(raw))
    except Exception:  # a foreign or damaged value must not hide the others
        return None


async def _records(conn: Connection, timeout: float) -> list[JobRecord]:
    """Every record in the results bucket, read in one pass (a KV watch of the last values)."""
    try:
        kv = await conn.js.key_value(RESULTS_BUCKET)
    except (nats.js.errors.BucketNotFoundError, nats.js.errors.NotFoundError):
        return []
    records: list[JobRecord] = []
    try:
        entries = await scan(kv, timeout=timeout)
    except TimeoutError:
        raise NaqError(f"reading {RESULTS_BUCKET} took more than {timeout:g} s") from None
    for entry in entries:
        record = _record(conn, entry.key, entry.value or b"")
        if record is not None:
            records.append(record)
    return records


async def _pending(conn: Connection, subjects: Iterable[str]) -> list[JobRecord]:
    """Records for jobs that are only in the stream (function and time read from the message)."""
    found = []
    for subject in subjects:
        queue, job_id = split_job_subject(subject)
        function, enqueued_at = None, None
        try:
            msg = await conn.js.get_last_msg(JOBS_STREAM, subject)
            job = Job.from_envelope(conn.serializer.loads(bytes(msg.data or b"")))
            function, enqueued_at = job.function, job.enqueued_at
        except nats.js.errors.NotFoundError:
            continue  # picked up and acknowledged meanwhile
        except Exception:  # noqa: S110 - undecodable (another serializer, a poison pill): list it anyway
            pass
        found.append(
            JobRecord(
                job_id=job_id,
                status=JobStatus.PENDING,
                queue=queue,
                function=function,
                enqueued_at=enqueued_at,
            )
        )
    return found


def _when(record: JobRecord) -> float:
    return record.finished_at or record.started_at or record.enqueued_at or 0.0


def _matches(
    record: JobRecord, queue: str | None, statuses: frozenset[JobStatus] | None, function: str | None
) -> bool:
    if queue and record.queue != queue:
        return False
    if statuses is not None and record.status not in statuses:
        return False
    return not function or function.lower() in (record.function or "").lower()


async def recent_jobs(
    conn: Connection,
    *,
    queue: str | None = None,
    status: JobStatus | Iterable[JobStatus] | None = None,
    function: str | None = None,
    limit: int | None = 20,
    scan_pending: int = 200,
    timeout: float = 30.0,
) -> list[JobRecord]:
    """The ``limit`` most recent jobs matching the filters, newest first (``None``: all).

    ``status`` is one status or several; ``function`` matches a part of the task name,
    case-insensitively. Jobs come from the results bucket (every job a worker has touched,
    until its record expires) and from the jobs stream (jobs no worker has received yet: at
    most ``scan_pending`` of them are read, since each costs one request). Jobs held for
    their dependencies or scheduled for later are not listed.
    """
    started = time.monotonic()
    statuses = None if status is None else frozenset([status] if isinstance(status, JobStatus) else status)
    everything = await _records(conn, timeout)
    records = [r for r in everything if _matches(r, queue, statuses, function)]
    if statuses is None or JobStatus.PENDING in statuses:
        known = {(r.queue, r.job_id) for r in everything}
        subjects = [s for s in await stored_subjects(conn, queue) if split_job_subject(s) not in known]
        remaining = max(1.0, timeout - (time.monotonic() - started))
        try:
            async with asyncio.timeout(remaining):
                pending = await _pending(conn, subjects[:scan_pending])
        except TimeoutError:
            raise NaqError(f"reading the queued jobs took more than {timeout:g} s") from None
        records += [r for r in pending if _matches(r, queue, statuses, function)]
    records.sort(key=_when, reverse=True)
    return records if limit is None else records[:limit]


async def job_ids(conn: Connection, prefix: str = "", limit: int = 200) -> list[str]:
    """Job ids starting with ``prefix`` (records and queued jobs), for shell completion."""
    ids = {s.rsplit(".", 1)[1] for s in await stored_subjects(conn)}
    try:
        kv = await conn.js.key_value(RESULTS_BUCKET)
        ids.update(_id_of_key(entry.key) for entry in await scan(kv, timeout=5))
    except (nats.js.errors.BucketNotFoundError, nats.js.errors.NotFoundError, TimeoutError):
        pass
    return sorted(i for i in ids if i.startswith(prefix))[:limit]


async def job_record(conn: Connection, job_id: str, *, queue: str | None = None) -> JobRecord:
    """Everything known about job ``job_id`` of ``queue``: its record, else ``waiting`` (held
    for its dependencies) or ``pending`` (queued, not received by a worker yet).

    Without ``queue``, ``job_id`` may be ``<queue>.<job id>``; a bare id is looked up on
    every queue and raises :class:`~naq_core.errors.AmbiguousJobError` if several hold it.
    Raises :class:`~naq_core.errors.JobNotFoundError` if nothing is known.
    """
    ref = job_ref(job_id, queue)
    if ref is None:
        raise JobNotFoundError(f"no job {job_id!r}: not a valid job id")
    queue, job_id = ref
    store = ResultStore(conn)
    record = await store.get(job_id, queue)
    if record is not None and queue is None and record.queue is not None:
        # a bare id: no other queue may hold the id in a queue, a hold or a schedule
        others = await job_queues(conn, job_id) - {record.queue}
        if others:
            raise ambiguous(job_id, [record.queue, *others])
    if record is not None:
        return record
    if await _deps.is_waiting(conn, job_id, queue):
        held = [queue] if queue is not None else await _deps.waiting_queues(conn, job_id)
        if len(held) > 1:
            raise ambiguous(job_id, held)
        return JobRecord(job_id=job_id, status=JobStatus.WAITING, queue=held[0] if held else None)
    where = job_filter(job_id) if queue is None else job_subject(queue, job_id)
    info = await conn.js.stream_info(JOBS_STREAM, subjects_filter=where)
    queues = sorted({q for q in map(queue_of_subject, info.state.subjects or {}) if q is not None})
    if len(queues) > 1:
        raise ambiguous(job_id, queues)
    if queues:
        return JobRecord(job_id=job_id, status=JobStatus.PENDING, queue=queues[0])
    # A job leaves the stream only after its record is written: one that finished (or
    # was dead-lettered) since the first look has a record now.
    record = await store.get(job_id, queue)
    if record is not None:
        return record
    raise JobNotFoundError(f"no job {job_id!r}: unknown id, or its record expired")


async def dependents(
    conn: Connection, job_id: str, *, queue: str | None = None, limit: int = 1000
) -> list[str]:
    """The jobs still held until this one ends, as ``<queue>.<job id>`` (at most ``limit``).

    ``job_id`` and ``queue`` as for :func:`job_record` (a bare id is looked up first). A
    dependent already released or failed is not listed; its own record names what it
    depended on.
    """
    ref = job_ref(job_id, queue)
    if ref is None:
        raise JobNotFoundError(f"no job {job_id!r}: not a valid job id")
    found_queue, bare = ref
    if found_queue is None:
        found_queue = (await job_record(conn, bare)).queue
        if found_queue is None:
            return []
    return await _deps.waiting_on(conn, found_queue, bare, limit)
