"""Job records in the results bucket: status, result or error, written once per change.

A job is its queue and its id: its record's key is ``<queue>.<job id>``, the queue being
the one whose subject the job's message arrived on (a worker's intake has checked that the
envelope names the same), so a job of one queue never writes a record of another queue's
job with the same id. A lookup that knows the queue reads that key (one get); one by bare
id asks the server which queues hold a record of that id (one stream-info request with the
subject filter ``$KV.naq_results.*.<job id>``) and refuses an id two queues hold with
:class:`~naq_core.errors.AmbiguousJobError`; records of an older naq, keyed by the bare id,
are read when no queue holds one.

Workers write with a plain (fire-and-forget) publish on the bucket's subject, so the hot
path never waits for a JetStream ack; every write carries the job's TTL (``Nats-TTL``).
Readers wait for a terminal record with a core subscription on the record's subject
(see :mod:`naq_core._resultwait`): no JetStream consumer, never a polling loop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import attrs
import cattrs
import nats.errors
import nats.js.errors
from attrs import field, frozen
from cattrs.gen import make_dict_unstructure_fn, override

from naq_core import records
from naq_core._jetstream.names import (
    RESULTS_BUCKET,
    RESULTS_SUBJECT_PREFIX,
    result_filter,
    result_key,
    result_subject,
    split_job_ref,
)
from naq_core._log import get_logger
from naq_core.errors import AmbiguousJobError, DependencyFailedError, JobFailedError, SerializationError
from naq_core.job import TERMINAL_STATUSES, JobStatus

if TYPE_CHECKING:
    from naq_core._jetstream.connection import Connection
    from naq_core.job import Job
    from naq_core.serializer import Serializer

__all__ = ["RESULTS_SUBJECT_PREFIX", "JobRecord", "ResultStore", "ambiguous", "job_ref", "ttl_header"]

_BAD_CHARS = frozenset(" \t\r\n.*>")
#: Bytes of the server's ``max_payload`` left for a record's headers (``Nats-TTL``).
_HEADROOM = 1024
#: What is kept of an error message or a traceback too long for a record.
_TEXT_KEPT = 8192


def job_ref(job_id: str, queue: str | None = None) -> tuple[str | None, str] | None:
    """``(queue, job id)`` of a lookup: ``queue`` if given, else the one a ``<queue>.<job
    id>`` reference names (``None``: any queue). ``None`` when it cannot name a job (empty,
    or a character no subject token has): such an id is known nowhere."""
    ref_queue, bare = split_job_ref(job_id) if queue is None else (queue, job_id)
    if not bare or _BAD_CHARS.intersection(bare):
        return None
    if ref_queue is not None and (not ref_queue or _BAD_CHARS.intersection(ref_queue)):
        return None
    return ref_queue, bare


def ttl_header(seconds: float) -> str:
    """A ``Nats-TTL`` value; whole seconds when possible, else milliseconds (>= 1 s)."""
    if seconds == int(seconds):
        return f"{int(seconds)}s"
    return f"{max(1000, int(seconds * 1000))}ms"


@frozen(kw_only=True)
class JobRecord:
    """What naq knows about a job, as stored in the results bucket."""

    job_id: str
    status: JobStatus
    queue: str | None = None
    function: str | None = None
    result: Any = None
    error_type: str | None = None
    error: str | None = None
    traceback: str | None = None
    attempt: int = 0
    enqueued_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    worker_id: str | None = None
    #: The original message body of a job that failed or was cancelled (what requeue
    #: publishes again); not kept for completed jobs.
    payload: bytes | None = field(default=None, repr=False)
    #: Why ``payload`` was not kept although the job failed (the record would have been
    #: larger than the server's max payload), e.g. ``too large (1068000 bytes > 1047552)``.
    payload_dropped: str | None = None

    @classmethod
    def from_dict(cls, job_id: str, data: Any) -> JobRecord:
        """Rebuild a record from its decoded form; unknown keys (newer writers) are ignored."""
        if not isinstance(data, dict) or "status" not in data:
            raise SerializationError(f"record of job {job_id} is not a job record")
        try:
            return records.from_dict(cls, {"job_id": job_id, **data})
        except (cattrs.BaseValidationError, TypeError, ValueError) as exc:
            raise SerializationError(f"record of job {job_id} is not a job record: {exc}") from None

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able values; the payload is reduced to whether one is kept."""
        return records.to_dict(self)

    def raise_for_status(self) -> None:
        """Raise :class:`JobFailedError` (or :class:`DependencyFailedError`) if it failed."""
        if self.status is JobStatus.DEPENDENCY_FAILED:
            raise DependencyFailedError(
                self.job_id, self.error_type or "DependencyFailed", self.error or "", None, self.status.value
            )
        if self.status in (JobStatus.FAILED, JobStatus.CANCELLED):
            raise JobFailedError(
                self.job_id, self.error_type or "Error", self.error or "", self.traceback, self.status.value
            )


attrs.resolve_types(JobRecord)
_unstructure_fields = make_dict_unstructure_fn(JobRecord, records.converter, payload=override(omit=True))


def _unstructure(record: JobRecord) -> dict[str, Any]:
    data = _unstructure_fields(record)
    if data.get("payload_dropped") is None:
        data.pop("payload_dropped", None)
    return {**data, "requeueable": record.payload is not None}


records.converter.register_unstructure_hook(JobRecord, _unstructure)


class ResultStore:
    """Reads and writes job records through one :class:`Connection`."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def _encode(self, data: dict[str, Any], serializer: Serializer | None = None) -> bytes:
        serializer = serializer or self._conn.serializer
        try:
            return serializer.dumps(data)
        except SerializationError as exc:
            data = {**data, "result": None, "status": JobStatus.FAILED.value}
            data["error_type"] = "SerializationError"
            data["error"] = f"the job's return value could not be stored: {exc}"
            return serializer.dumps(data)

    def _fit(self, data: dict[str, Any], serializer: Serializer | None = None) -> bytes:
        """The encoded record, never over the server's max payload: the embedded payload is
        dropped first (``payload_dropped`` says so), then a too large result (the record
        says ``failed``), then long error texts are cut."""
        limit = max(0, self._conn.nc.max_payload - _HEADROOM)
        encoded = self._encode(data, serializer)
        if len(encoded) <= limit:
            return encoded
        if data.get("payload") is not None:
            data = {**data, "payload": None, "payload_dropped": f"too large ({len(encoded)} bytes > {limit})"}
            encoded = self._encode(data, serializer)
        if len(encoded) > limit and data.get("result") is not None:
            data = {
                **data,
                "result": None,
                "status": JobStatus.FAILED.value,
                "error_type": "PayloadTooLargeError",
            }
            data["error"] = f"the job's return value is too large to store ({len(encoded)} bytes > {limit})"
            encoded = self._encode(data, serializer)
        if len(encoded) > limit:
            for key in ("error", "traceback"):
                text = data.get(key)
                if isinstance(text, str) and len(text) > _TEXT_KEPT:
                    data = {**data, key: text[:_TEXT_KEPT] + f"... ({len(text) - _TEXT_KEPT} characters cut)"}
            encoded = self._encode(data, serializer)
        return encoded

    def decode(self, job_id: str, raw: bytes) -> JobRecord:
        """A record from its stored bytes."""
        return JobRecord.from_dict(job_id, self._conn.serializer.loads(raw))

    async def write(
        self,
        job: Job,
        status: JobStatus,
        *,
        result: Any = None,
        error_type: str | None = None,
        error: str | None = None,
        traceback: str | None = None,
        started_at: float | None = None,
        worker_id: str | None = None,
        confirm: bool = False,
        then: Callable[[], Awaitable[None]] | None = None,
        keepalive: Callable[[], Awaitable[None]] | None = None,
        payload: bytes | None = None,
        ttl: float | None = None,
        serializer: Serializer | None = None,
    ) -> None:
        """Publish the job's record; without ``confirm`` the ack is not awaited (hot path).

        ``then`` (the job message's ack) runs once the record is stored: awaited after a
        ``confirm`` write, else when the server's reply arrives (pipelined, see
        :mod:`naq_core._jetstream.confirm`), so a job leaves its queue only with its record.

        ``keepalive`` (the job message's in_progress) is called while a pipelined record
        waits for its store reply (see :meth:`RecordConfirmer.keep_alive`).

        ``serializer`` encodes it instead of the connection's (a record for a producer that
        wrote the job with another serializer)."""
        record: dict[str, Any] = {
            "job_id": job.job_id,
            "status": status.value,
            "queue": job.queue_name,
            "function": job.function,
            "attempt": job.attempt,
            "enqueued_at": job.enqueued_at,
            "worker_id": worker_id,
        }
        if started_at is not None:
            record["started_at"] = started_at
        if status in TERMINAL_STATUSES or status is JobStatus.RETRYING:
            record["finished_at"] = time.time()
            record["result"] = result
            record["error_type"], record["error"], record["traceback"] = error_type, error, traceback
            if payload is not None:
                record["payload"] = payload
        ttl = ttl or job.result_ttl or self._conn.config.result_ttl
        headers = {"Nats-TTL": ttl_header(ttl)}
        data = self._fit(record, serializer)
        subject = result_subject(job.queue_name, job.job_id)  # the job is (queue, id)
        try:
            if then is not None and not confirm:
                # Pipelined: ``then`` (the job's ack) runs once the server stored the record.
                await self._conn.confirmer.publish(subject, data, headers, then, keepalive)
                return
            if confirm:
                await self._conn.js.publish(subject, data, headers=headers)
            else:
                await self._conn.nc.publish(subject, data, headers=headers)
        except nats.errors.MaxPayloadError:  # even cut down: the job still ends, unrecorded
            get_logger(__name__).error(
                "record_not_written", job_id=job.job_id, status=status.value, size=len(data)
            )
        if then is not None:
            await then()

    async def get(self, job_id: str, queue: str | None = None) -> JobRecord | None:
        """The record of job ``job_id`` of ``queue``; without a queue, ``job_id`` may be a
        ``<queue>.<job id>`` reference, else the one queue holding a record of that id is
        found (:class:`AmbiguousJobError` if several do). ``None`` if there is none."""
        ref = job_ref(job_id, queue)
        if ref is None:
            return None
        queue, job_id = ref
        if queue is not None:
            return await self._read(result_key(queue, job_id), job_id)
        queues = await self.queues_of(job_id)
        if not queues:  # none keyed by queue: a record an older naq wrote, if any
            return await self._read(job_id, job_id)
        found = await asyncio.gather(*(self._read(result_key(q, job_id), job_id) for q in queues))
        live = [(q, record) for q, record in zip(queues, found, strict=True) if record is not None]
        if len(live) > 1:
            raise ambiguous(job_id, [q for q, _ in live])
        return live[0][1] if live else None

    async def queues_of(self, job_id: str) -> list[str]:
        """The queues whose results hold a key for ``job_id`` (one request, no values read;
        a key deleted or purged a moment ago may still be listed)."""
        await self._conn.bucket(RESULTS_BUCKET)
        info = await self._conn.js.stream_info(f"KV_{RESULTS_BUCKET}", subjects_filter=result_filter(job_id))
        start = len(RESULTS_SUBJECT_PREFIX)
        return sorted(subject[start:].partition(".")[0] for subject in info.state.subjects or {})

    async def _read(self, key: str, job_id: str) -> JobRecord | None:
        kv = await self._conn.bucket(RESULTS_BUCKET)
        try:
            entry = await kv.get(key)
        except (nats.js.errors.KeyNotFoundError, nats.js.errors.KeyDeletedError):
            return None
        if entry.value is None:
            return None
        return self.decode(job_id, entry.value)

    async def wait(self, job_id: str, timeout: float | None = None, queue: str | None = None) -> JobRecord:
        """The job's record once it is terminal (see :func:`naq_core._resultwait.wait_for_record`).

        No JetStream consumer is made; raises :class:`JobNotFoundError` at once for an id
        that is nowhere.
        """
        from naq_core._resultwait import wait_for_record  # it builds on this module

        return await wait_for_record(self._conn, job_id, timeout, queue=queue)

    async def delete(self, job_id: str, queue: str | None = None) -> None:
        """Purge the record of ``job_id`` (of ``queue``, or the one queue holding it)."""
        ref = job_ref(job_id, queue)
        if ref is None:
            return
        queue, job_id = ref
        if queue is None:
            queues = await self.queues_of(job_id)
            if len(queues) > 1:
                raise ambiguous(job_id, queues)
            queue = queues[0] if queues else None
        kv = await self._conn.bucket(RESULTS_BUCKET)
        await kv.purge(job_id if queue is None else result_key(queue, job_id))


def ambiguous(job_id: str, queues: list[str]) -> AmbiguousJobError:
    """The error for a bare ``job_id`` that jobs of several ``queues`` carry."""
    named = ", ".join(sorted(queues))
    return AmbiguousJobError(
        f"job id {job_id!r} is a job of several queues ({named}): name one as <queue>.{job_id} "
        "(or pass the Job, or queue=)"
    )
