"""Pages of jobs read by stream sequence: recent records newest first, waiting jobs oldest first.

Built for screens that must stay fast with a million jobs (the dashboard's jobs list): a
page never lists every key or every subject. It costs one stream-info request and a few
batch direct gets (``$JS.API.DIRECT.GET.<stream>`` with ``{"seq": n, "batch": k}``), a
fixed number whatever the number of jobs, and no consumer is ever made (the work-queue
jobs stream rejects overlapping consumers; a KV watch would be a consumer per page).

- :func:`recent_records`: the results bucket's stream (``KV_naq_results``) read backwards
  by sequence from a cursor. Filters (queue, status, function) are applied to a bounded
  window of sequences; the page says when the window ended before it was full
  (:attr:`RecordPage.window_cut`), and its cursor goes on below the window.
- :func:`waiting_jobs`: a queue's messages in the jobs stream, oldest (next to run) first,
  one batch direct get filtered by the queue's subjects.
- :func:`queued_job`: the message of one waiting job (its arguments, before any record).

Direct gets need ``allow_direct`` on the stream: a stream made without it (the results
bucket of nats-py's defaults, the jobs stream of naq up to now) is updated to allow them
the first time (one stream update; reads only, no data changes).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import nats.errors
import nats.js.errors
from attrs import evolve, frozen

from naq_core._jetstream.names import (
    JOBS_STREAM,
    RESULTS_BUCKET,
    RESULTS_SUBJECT_PREFIX,
    job_filter,
    job_subject,
    queue_filter,
    queue_of_subject,
    split_job_ref,
)
from naq_core.errors import NaqConnectionError, NaqError
from naq_core.job import Job
from naq_core.results import JobRecord

if TYPE_CHECKING:
    from nats.js.api import StreamInfo

    from naq_core._jetstream.connection import Connection

__all__ = [
    "RESULTS_STREAM",
    "ListedRecord",
    "RecordPage",
    "StoredMessage",
    "WaitingJob",
    "WaitingPage",
    "direct_batch",
    "queued_job",
    "recent_records",
    "waiting_jobs",
]

#: The stream behind the results bucket.
RESULTS_STREAM = f"KV_{RESULTS_BUCKET}"
#: Sequences read by one batch request of :func:`recent_records`.
CHUNK = 250
#: Bytes one batch answer may carry (the server stops the batch there; the rest is asked again).
MAX_BYTES = 4 * 1024 * 1024
#: Batch requests one page may make at most (besides its one stream-info request).
MAX_REQUESTS = 12
_TIMEOUT = 5.0


@frozen(kw_only=True)
class StoredMessage:
    """One message of a direct get: its stream sequence, subject, headers and body."""

    seq: int
    subject: str
    data: bytes
    headers: dict[str, str]


@frozen(kw_only=True)
class ListedRecord:
    """A job record and the stream sequence it was written at (the cursor of its page)."""

    seq: int
    record: JobRecord


@frozen(kw_only=True)
class RecordPage:
    """A page of :func:`recent_records`, newest first.

    ``next_before``: the cursor of the next (older) page, ``None`` when nothing older is
    stored. ``examined``: stream sequences looked at (the window). ``window_cut``: the
    window ended before ``limit`` matches were found while older records remain, so the
    page shows only the matches among the newest ``examined`` sequences below the cursor.
    """

    records: tuple[ListedRecord, ...]
    next_before: int | None
    examined: int
    window_cut: bool
    requests: int


@frozen(kw_only=True)
class WaitingJob:
    """A message waiting in a queue: its sequence, subject and job (``None`` if undecodable)."""

    seq: int
    job_id: str
    queue: str
    job: Job | None


@frozen(kw_only=True)
class WaitingPage:
    """A page of :func:`waiting_jobs`, oldest first; ``remaining``: messages of the queue
    after this page (exact, from the server); ``next_after``: the next page's cursor."""

    jobs: tuple[WaitingJob, ...]
    next_after: int | None
    remaining: int


async def _direct_stream(conn: Connection, stream: str) -> StreamInfo | None:
    """The stream's info (``None`` if it does not exist), ``allow_direct`` turned on."""
    try:
        info = await conn.js.stream_info(stream)
    except nats.js.errors.NotFoundError:
        return None
    if not info.config.allow_direct:
        config = info.config
        config.allow_direct = True
        try:
            info = await conn.js.update_stream(config)
        except nats.js.errors.Error as exc:
            raise NaqError(
                f"stream {stream} does not allow direct gets and could not be updated: {exc}"
            ) from None
    return info


async def direct_batch(
    conn: Connection,
    stream: str,
    *,
    seq: int,
    batch: int,
    subject: str | None = None,
    max_bytes: int = MAX_BYTES,
    timeout: float = _TIMEOUT,
) -> list[StoredMessage]:
    """Up to ``batch`` messages of ``stream`` from sequence ``seq`` on (those on subjects
    matching ``subject`` only, when given), in one request; fewer when the server reached
    ``max_bytes`` or the end. The stream must allow direct gets. The reply subscription
    is removed when this returns, however it returns."""
    request: dict[str, Any] = {"seq": max(1, seq), "batch": max(1, batch), "max_bytes": max_bytes}
    if subject is not None:
        request["next_by_subj"] = subject
    inbox = conn.nc.new_inbox()
    sub = await conn.nc.subscribe(inbox)
    found: list[StoredMessage] = []
    try:
        await conn.nc.publish(f"$JS.API.DIRECT.GET.{stream}", json.dumps(request).encode(), reply=inbox)
        while True:
            try:
                msg = await sub.next_msg(timeout=timeout)
            except nats.errors.TimeoutError:
                raise NaqConnectionError(
                    f"NATS did not answer a direct get on {stream} within {timeout} s"
                ) from None
            headers = {str(k): str(v) for k, v in (msg.headers or {}).items()}
            status = headers.get("Status")
            if status in ("204", "404"):  # end of the batch; nothing (more) stored
                return found
            if status:
                raise NaqError(
                    f"direct get on {stream} failed: {status} {headers.get('Description', '')}".strip()
                )
            found.append(
                StoredMessage(
                    seq=int(headers.get("Nats-Sequence", "0")),
                    subject=headers.get("Nats-Subject", ""),
                    data=bytes(msg.data or b""),
                    headers=headers,
                )
            )
    finally:
        try:
            await sub.unsubscribe()
        except nats.errors.Error:  # the connection is closing: the subscription goes with it
            pass


def _listed(conn: Connection, message: StoredMessage) -> ListedRecord | None:
    """The record a results message holds; ``None`` for a delete marker or undecodable bytes."""
    if message.headers.get("KV-Operation") or not message.subject.startswith(RESULTS_SUBJECT_PREFIX):
        return None
    queue, job_id = split_job_ref(message.subject[len(RESULTS_SUBJECT_PREFIX) :])
    try:
        record = JobRecord.from_dict(job_id, conn.serializer.loads(message.data))
    except Exception:  # a record of another serializer or version: not listed
        return None
    if record.queue is None and queue is not None:
        record = evolve(record, queue=queue)
    return ListedRecord(seq=message.seq, record=record)


def _matches(record: JobRecord, queue: str | None, status: str | None, function: str | None) -> bool:
    if queue is not None and record.queue != queue:
        return False
    if status is not None and record.status.value != status:
        return False
    return function is None or function in (record.function or "")


async def recent_records(
    conn: Connection,
    *,
    before: int | None = None,
    queue: str | None = None,
    status: str | None = None,
    function: str | None = None,
    limit: int = 20,
    window: int = 1000,
) -> RecordPage:
    """Job records written before stream sequence ``before`` (all when ``None``), newest
    first: at most ``limit`` of them matching ``queue`` (exactly), ``status`` (a
    :class:`~naq_core.job.JobStatus` value) and ``function`` (a part of its name), among at
    most ``window`` sequences. One stream-info request and at most :data:`MAX_REQUESTS`
    batch direct gets, whatever the number of records."""
    await conn.bucket(RESULTS_BUCKET)
    info = await _direct_stream(conn, RESULTS_STREAM)
    if info is None or not info.state.messages:
        return RecordPage(records=(), next_before=None, examined=0, window_cut=False, requests=1)
    first, last = int(info.state.first_seq), int(info.state.last_seq)
    top = last if before is None else min(last, before - 1)
    floor = max(first, top - max(1, window) + 1)
    found: list[ListedRecord] = []
    requests = 1
    low = top + 1  # [low, top] is examined
    while low > floor and len(found) < limit:
        chunk_low = max(floor, low - CHUNK)
        chunk, used, complete = await _read_range(conn, chunk_low, low, MAX_REQUESTS + 1 - requests)
        requests += used
        if not complete:  # out of requests: the next page goes on from ``low``
            break
        for message in sorted(chunk, key=lambda m: m.seq, reverse=True):
            listed = _listed(conn, message)
            if listed is not None and _matches(listed.record, queue, status, function):
                found.append(listed)
                if len(found) == limit:
                    break
        low = chunk_low if len(found) < limit else found[-1].seq
    next_before = low if low > first else None
    window_cut = next_before is not None and len(found) < limit
    return RecordPage(
        records=tuple(found),
        next_before=next_before,
        examined=max(0, top - low + 1),
        window_cut=window_cut,
        requests=requests,
    )


async def _read_range(
    conn: Connection, low: int, high: int, budget: int
) -> tuple[list[StoredMessage], int, bool]:
    """The messages stored at sequences ``[low, high)``: ``(messages, requests made, whether
    the whole range was read)``, with at most ``budget`` batch requests."""
    found: list[StoredMessage] = []
    start, used = low, 0
    while start < high:
        if used >= budget:
            return found, used, False
        messages = await direct_batch(conn, RESULTS_STREAM, seq=start, batch=high - start)
        used += 1
        inside = [m for m in messages if m.seq < high]
        found.extend(inside)
        if not messages or len(inside) < len(messages):  # the end of the stream, or past ``high``
            break
        start = messages[-1].seq + 1  # cut short by max_bytes: ask for the rest
    return found, used, True


def _waiting(conn: Connection, message: StoredMessage) -> WaitingJob:
    queue = queue_of_subject(message.subject) or ""
    job_id = message.subject.rpartition(".")[2]
    try:
        job: Job | None = Job.from_envelope(conn.serializer.loads(message.data))
    except Exception:  # a poison message waits too: shown without its contents
        job = None
    return WaitingJob(seq=message.seq, job_id=job_id, queue=queue, job=job)


async def waiting_jobs(conn: Connection, queue: str, *, after: int = 0, limit: int = 20) -> WaitingPage:
    """Jobs of ``queue`` waiting in the jobs stream after sequence ``after``, oldest (next
    to run) first; running ones are still in the stream and are listed too. Two requests
    (stream info, one batch direct get), whatever the number of waiting jobs."""
    info = await _direct_stream(conn, JOBS_STREAM)
    if info is None or not info.state.messages:
        return WaitingPage(jobs=(), next_after=None, remaining=0)
    start = max(after + 1, int(info.state.first_seq))
    messages = await direct_batch(conn, JOBS_STREAM, seq=start, batch=limit, subject=queue_filter(queue))
    jobs = tuple(_waiting(conn, m) for m in messages)
    remaining = int(messages[-1].headers.get("Nats-Num-Pending", "0") or 0) if messages else 0
    next_after = messages[-1].seq if messages and remaining else None
    return WaitingPage(jobs=jobs, next_after=next_after, remaining=remaining)


async def queued_job(conn: Connection, job_id: str, queue: str | None = None) -> Job | None:
    """The job whose message waits in the jobs stream (``None`` if none does; two requests)."""
    where = job_filter(job_id) if queue is None else job_subject(queue, job_id)
    try:
        info = await conn.js.stream_info(JOBS_STREAM, subjects_filter=where)
    except nats.js.errors.NotFoundError:
        return None
    for subject in sorted(info.state.subjects or {}):
        try:
            msg = await conn.js.get_last_msg(JOBS_STREAM, subject)
        except nats.js.errors.NotFoundError:
            continue
        try:
            return Job.from_envelope(conn.serializer.loads(bytes(msg.data or b"")))
        except Exception:
            return None
    return None
