"""How :class:`~naq_core.queue.Queue` turns calls into messages: options, encoding, headers, publish."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import nats.js.errors
from attrs import evolve

from naq_core import _deps
from naq_core._jetstream.connection import Connection
from naq_core._jetstream.names import JOBS_STREAM, job_subject
from naq_core._jetstream.publish import Message
from naq_core._log import get_logger
from naq_core.errors import PayloadTooLargeError, SerializationError
from naq_core.job import Job
from naq_core.results import ResultStore
from naq_core.serializer import SERIALIZER_HEADER

__all__ = [
    "HEADROOM",
    "ExcSpec",
    "check_retries",
    "dedup_id",
    "dep_ids",
    "encode",
    "enqueue_many",
    "enqueue_one",
    "exc_names",
    "headers_for",
    "payload_limit",
    "publish_job",
    "publish_one",
    "purge_subject",
]

ExcSpec = type[BaseException] | str
#: Bytes of a server's ``max_payload`` left for what goes with a job's body: NATS headers,
#: a schedule's or a dependency hold's metadata.
HEADROOM = 1024


def exc_names(spec: ExcSpec | Sequence[ExcSpec] | None) -> tuple[str, ...]:
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


def dep_ids(depends_on: str | Job | Sequence[str | Job] | None) -> tuple[str, ...]:
    if depends_on is None:
        return ()
    items = [depends_on] if isinstance(depends_on, str | Job) else list(depends_on)
    # a Job is exact, as <queue>.<job id>; a string is resolved when the job is held (_deps)
    return tuple(f"{item.queue_name}.{item.job_id}" if isinstance(item, Job) else str(item) for item in items)


def check_retries(job: Job, max_deliver: int) -> None:
    """Refuse a job whose retries the stream's delivery limit (``max_deliver``) cannot give."""
    if job.max_retries >= max_deliver:
        raise ValueError(
            f"max_retries={job.max_retries} needs max_deliver > {job.max_retries} "
            f"(configured max_deliver is {max_deliver}; raise it in the config)"
        )


def payload_limit(conn: Connection) -> int:
    """The largest job body this connection's server takes (its ``max_payload`` less headroom)."""
    return max(0, conn.nc.max_payload - HEADROOM)


def encode(conn: Connection, job: Job) -> bytes:
    """The job's message body; :class:`PayloadTooLargeError` before anything is sent if the
    server would refuse it."""
    try:
        data = conn.serializer.dumps(job.to_envelope())
    except SerializationError as exc:
        raise SerializationError(f"cannot enqueue {job.function}: {exc}") from None
    limit = payload_limit(conn)
    if len(data) > limit:
        raise PayloadTooLargeError(job.job_id, job.function, len(data), limit)
    return data


def dedup_id(queue: str, job_id: str) -> str:
    """``<queue>/<job id>``: a caller-chosen id deduplicates only within its own queue."""
    return f"{queue}/{job_id}"


def headers_for(conn: Connection, job: Job) -> dict[str, str]:
    # Every job carries its dedup id, a chosen one or a generated one: a publish sent again
    # after a lost ack (or re-sent after a reconnect) is stored once (the server's duplicate
    # window is two minutes). The header costs no round trip; a worker parses it.
    headers = {"Nats-Msg-Id": dedup_id(job.queue_name, job.job_id)}
    if job.dedupe or conn.serializer.name != "json":  # a json worker names the mismatch
        headers[SERIALIZER_HEADER] = conn.serializer.name
    if conn.hooks.headers_active():  # naq_job_headers: a plugin's own (naq's win a clash)
        headers = {**conn.hooks.job_headers(job=job), **headers}
    return headers


async def publish_one(
    conn: Connection, subject: str, data: bytes, headers: dict[str, str] | None
) -> tuple[dict[str, Any], bool]:
    """One awaited JetStream publish, sent again after a reconnect (see _jetstream.publish).

    Returns the server's ack (``seq``, ``duplicate``) and whether the message was sent more
    than once (then a ``duplicate`` ack may answer our own first send).
    """
    reply, resent = await conn.pipeline.request(subject, data, headers)
    return json.loads(reply), resent


async def publish_job(
    conn: Connection, job: Job, subject: str, data: bytes, headers: dict[str, str] | None
) -> Job:
    """Publish ``job``; ``job`` with ``duplicate=True`` when this queue already held its id.

    The server answers a repeated ``Nats-Msg-Id`` with the sequence of the first message.
    For a generated id that first message can only be our own (sent again after a lost
    ack). For a chosen id it is a real duplicate only when that message is this job's (same
    subject), or is gone and this job's record names this queue. Otherwise someone else
    published the id first (a header is free text, any queue): the job is stored anyway,
    without the dedup id. When our publish had to be sent again, a stored message equal to
    ours (or, once taken by a worker, a record with our ``enqueued_at``) is our own first
    send whose ack was lost: not a duplicate.
    """
    ack, resent = await publish_one(conn, subject, data, headers)
    if not ack.get("duplicate") or not job.dedupe:
        return job
    seq = int(ack.get("seq", 0))
    if resent and await _ours(conn, seq, subject, data, job):
        return job
    if await _holds(conn, seq, subject, job):
        return evolve(job, duplicate=True)
    get_logger(__name__).warning("job_dedup_id_taken", job_id=job.job_id, queue=job.queue_name)
    kept = {k: v for k, v in (headers or {}).items() if k != "Nats-Msg-Id"}
    await publish_one(conn, subject, data, kept or None)
    return job


async def enqueue_one(conn: Connection, queue: str, job: Job) -> Job:
    """Publish ``job`` on ``queue`` (or hold it until its dependencies finish), then call
    ``naq_job_enqueued``; a duplicate of a job already queued stores nothing and calls no hook."""
    data = encode(conn, job)
    headers = headers_for(conn, job)
    if job.depends_on:
        await _deps.hold(conn, job, data, headers)
    else:
        job = await publish_job(conn, job, job_subject(queue, job.job_id), data, headers)
        if job.duplicate:  # already queued: nothing new was stored
            return job
    await conn.hooks.job_enqueued(job=job)
    return job


async def enqueue_many(conn: Connection, queue: str, jobs: list[Job]) -> list[Job]:
    """Publish ``jobs`` on ``queue`` pipelined (one flush, acks awaited together); every
    size is checked before any publish. ``jobs`` come back in order, each chosen id already
    held with ``duplicate=True``; ``naq_job_enqueued`` is called for each new one."""
    encoded = [(job, encode(conn, job)) for job in jobs]  # every size checked before any publish
    batch: list[Message] = []
    for index, (job, data) in enumerate(encoded):
        headers = headers_for(conn, job)
        subject = job_subject(queue, job.job_id)
        if job.depends_on:
            await _deps.hold(conn, job, data, headers)
        elif job.dedupe:  # a chosen id: its own ack says whether it was a duplicate
            jobs[index] = await publish_job(conn, job, subject, data, headers)
        else:
            batch.append((subject, data, headers))
    await conn.pipeline.publish(batch)  # re-sends after a reconnect what was not acknowledged
    if conn.hooks.lifecycle_active()[0]:
        for job in jobs:
            if not job.duplicate:
                await conn.hooks.job_enqueued(job=job)
    return jobs


async def _ours(conn: Connection, seq: int, subject: str, data: bytes, job: Job) -> bool:
    """Whether the message at ``seq`` is our own earlier send of ``job`` (its ack was lost)."""
    try:
        first = await conn.js.get_msg(JOBS_STREAM, seq)
    except nats.js.errors.NotFoundError:  # taken by a worker already: its record tells
        record = await ResultStore(conn).get(job.job_id, job.queue_name)
        # no record yet: a worker has just taken it; within seconds of our send, ours
        return record is None or (record.queue == job.queue_name and record.enqueued_at == job.enqueued_at)
    return first.subject == subject and first.data == data


async def _holds(conn: Connection, seq: int, subject: str, job: Job) -> bool:
    try:
        first = await conn.js.get_msg(JOBS_STREAM, seq)
    except nats.js.errors.NotFoundError:  # taken by a worker already: its record tells
        record = await ResultStore(conn).get(job.job_id, job.queue_name)
        return record is not None and record.queue == job.queue_name
    return first.subject == subject


async def purge_subject(conn: Connection, subject: str) -> int:
    """Purge ``subject`` from the jobs stream; the count comes from the server's reply."""
    reply = await conn.nc.request(
        f"$JS.API.STREAM.PURGE.{JOBS_STREAM}", json.dumps({"filter": subject}).encode(), timeout=10
    )
    data = json.loads(reply.data)
    if "error" in data:
        raise nats.js.errors.APIError.from_error(data["error"])
    return int(data.get("purged", 0))
