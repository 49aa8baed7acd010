"""Read-only views of what is in NATS: queue statistics and recent jobs.

What ``naq queues``, ``naq job`` (the picker) and shell completion show. Nothing here
creates a stream, a consumer or a bucket: looking never changes the server.

* :func:`queue_stats` reads the jobs stream's subjects (``naq.queue.<queue>.<job id>``, one
  message per job) and each queue's durable consumer (``naq-worker-<queue>``).
* :func:`recent_jobs` reads the results bucket (``naq_results``, keys ``<queue>.<job id>``)
  in one pass and adds jobs still waiting in the stream, which have no record until a worker
  picks them up.
* :func:`job_record` finds one job: its record, else its hold or its queued message.
* :func:`queue_consumers` lists every queue's consumer info through :class:`Requests`
  (counted JetStream API requests), which the dashboard's queue pages use too.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import nats.errors
import nats.js.errors
from attrs import frozen

from naq_core import _deps, records
from naq_core._jetstream.kvscan import scan
from naq_core._jetstream.names import (
    JOBS_STREAM,
    JOBS_SUBJECTS,
    RESULTS_BUCKET,
    WORKER_CONSUMER_PREFIX,
    job_filter,
    job_subject,
    queue_filter,
    queue_of_subject,
)
from naq_core._resultwait import job_queues
from naq_core.errors import JobNotFoundError, NaqConnectionError, NaqError
from naq_core.heartbeat import list_workers
from naq_core.job import Job, JobStatus
from naq_core.results import JobRecord, ResultStore, ambiguous, job_ref

if TYPE_CHECKING:
    from naq_core._jetstream.connection import Connection

__all__ = [
    "QueueStats",
    "Requests",
    "dependents",
    "job_ids",
    "job_record",
    "queue_consumers",
    "queue_names",
    "queue_stats",
    "recent_jobs",
]

_CONSUMER_PREFIX = WORKER_CONSUMER_PREFIX
_STREAM_NOT_FOUND = 10059
_NO_JETSTREAM = "NATS has no JetStream; start it with -js (or use `naq server`)"


@frozen(kw_only=True)
class QueueStats:
    """One queue as JetStream sees it."""

    queue: str
    #: Jobs stored for the queue: not delivered yet, running, or waiting for a retry.
    jobs: int
    #: Jobs no worker has received yet (the consumer's ``num_pending``).
    pending: int
    #: Jobs delivered to a worker and not acknowledged (``num_ack_pending``): running,
    #: prefetched, or waiting out a retry delay.
    in_flight: int
    #: Jobs delivered more than once (``num_redelivered``).
    redelivered: int
    #: Pull requests of workers waiting for jobs (``num_waiting``).
    waiting_pulls: int
    #: Live workers (by heartbeat) that serve the queue.
    workers: int
    paused: bool
    #: When a pause ends (RFC 3339, as the server reports it), if paused.
    paused_until: str | None = None
    #: Whether a worker ever created the queue's consumer.
    has_consumer: bool = False

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> QueueStats:
        """Rebuild from :meth:`to_dict`'s form; unknown keys are ignored."""
        return records.from_dict(cls, data)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able values (what ``naq queues --json`` prints)."""
        return records.to_dict(self)


class Requests:
    """JetStream API requests over one connection, counted.

    A view that must not grow with the number of jobs (the dashboard's overview) passes
    one to each read and checks :attr:`count` in its tests.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        #: Requests sent so far.
        self.count = 0

    async def api(self, subject: str, request: dict[str, Any] | None = None) -> dict[str, Any]:
        """The JSON answer to ``$JS.API.<subject>`` (an error answer is returned, not raised).

        Raises :class:`~naq_core.errors.NaqConnectionError` when NATS has no JetStream or
        does not answer within 10 s.
        """
        self.count += 1
        payload = json.dumps(request).encode() if request else b""
        try:
            reply = await self.conn.nc.request(f"$JS.API.{subject}", payload, timeout=10)
        except nats.errors.NoRespondersError:
            raise NaqConnectionError(
                "NATS has no JetStream; start it with -js (or use `naq server`)"
            ) from None
        except nats.errors.TimeoutError:
            raise NaqConnectionError(f"NATS did not answer {subject} within 10 s") from None
        data: dict[str, Any] = json.loads(reply.data)
        return data


def _stream_error(data: dict[str, Any]) -> bool:
    """``True`` when the jobs stream does not exist; raises on any other error answer."""
    if "error" not in data:
        return False
    if data["error"].get("err_code") == _STREAM_NOT_FOUND:
        return True
    raise NaqError(f"stream {JOBS_STREAM}: {data['error'].get('description', data['error'])}")


async def _subjects(conn: Connection, subject_filter: str) -> dict[str, int]:
    """Every stored subject matching ``subject_filter`` with its message count (paged)."""
    req = Requests(conn)
    subjects: dict[str, int] = {}
    offset = 0
    while True:
        data = await req.api(
            f"STREAM.INFO.{JOBS_STREAM}", {"subjects_filter": subject_filter, "offset": offset}
        )
        if _stream_error(data):
            return {}
        page = (data.get("state") or {}).get("subjects") or {}
        subjects.update(page)
        offset += len(page)
        if not page or offset >= int(data.get("total", 0)):
            return subjects


async def queue_consumers(req: Requests) -> dict[str, dict[str, Any]]:
    """Consumer info of every queue's durable (``naq-worker-<queue>``), keyed by queue name.

    One ``CONSUMER.LIST`` request a page of 256 consumers (it never grows with the jobs);
    ``{}`` when the jobs stream does not exist yet.
    """
    found: dict[str, dict[str, Any]] = {}
    offset = 0
    while True:
        data = await req.api(f"CONSUMER.LIST.{JOBS_STREAM}", {"offset": offset})
        if _stream_error(data):
            return found
        page = data.get("consumers") or []
        for info in page:
            name = str(info.get("name", ""))
            if name.startswith(_CONSUMER_PREFIX):
                found[name.removeprefix(_CONSUMER_PREFIX)] = info
        offset += len(page)
        if not page or offset >= int(data.get("total", 0)):
            return found


def _split(subject: str) -> tuple[str, str]:
    """``naq.queue.<queue>.<job id>`` -> (queue, job id)."""
    _, _, queue, job_id = subject.split(".", 3)
    return queue, job_id


def _queue_filter(queue: str | None) -> str:
    return queue_filter(queue) if queue else JOBS_SUBJECTS


async def queue_names(conn: Connection) -> list[str]:
    """Every queue that has jobs stored or a consumer (a worker served it once)."""
    stored = {_split(subject)[0] for subject in await _subjects(conn, _queue_filter(None))}
    return sorted(stored | set(await queue_consumers(Requests(conn))))


async def queue_stats(conn: Connection, queues: Sequence[str] | None = None) -> list[QueueStats]:
    """Statistics of ``queues`` (default: every queue with jobs or a consumer), by name."""
    if queues is None:
        subjects = await _subjects(conn, _queue_filter(None))
    else:
        subjects = {}
        for name in dict.fromkeys(queues):
            subjects.update(await _subjects(conn, _queue_filter(name)))
    per_queue: dict[str, int] = {}
    for subject, count in subjects.items():
        queue = _split(subject)[0]
        per_queue[queue] = per_queue.get(queue, 0) + count
    consumers = await queue_consumers(Requests(conn))
    serving: dict[str, int] = {}
    for worker in await list_workers(conn):
        for queue in worker.queues:
            serving[queue] = serving.get(queue, 0) + 1
    names = sorted(set(queues)) if queues is not None else sorted(set(per_queue) | set(consumers))
    stats = []
    for name in names:
        info = consumers.get(name)
        jobs = per_queue.get(name, 0)
        paused = bool(info and info.get("paused"))
        stats.append(
            QueueStats(
                queue=name,
                jobs=jobs,
                pending=int(info.get("num_pending", 0)) if info else jobs,
                in_flight=int(info.get("num_ack_pending", 0)) if info else 0,
                redelivered=int(info.get("num_redelivered", 0)) if info else 0,
                waiting_pulls=int(info.get("num_waiting", 0)) if info else 0,
                workers=serving.get(name, 0),
                paused=paused,
                paused_until=(info or {}).get("config", {}).get("pause_until") if paused else None,
                has_consumer=info is not None,
            )
        )
    return stats


# --- jobs ------------------------------------------------------------------------------


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
        queue, job_id = _split(subject)
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
        subjects = [s for s in await _subjects(conn, _queue_filter(queue)) if _split(s) not in known]
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
    ids = {s.rsplit(".", 1)[1] for s in await _subjects(conn, _queue_filter(None))}
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
