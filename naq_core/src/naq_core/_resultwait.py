"""Waiting for a job's terminal record without a JetStream consumer.

Workers write records with a plain publish on ``$KV.naq_results.<queue>.<job id>``, so a
waiter needs no consumer: a core NATS subscription on that exact subject sees every later
write. A waiter that knows the job's queue (a :class:`~naq_core.job.Job`, a ``<queue>.<job
id>`` reference) subscribes to that subject; one given a bare id subscribes to
``$KV.naq_results.*.<job id>`` and takes only the writes of the one queue it finds the job
on (its record, its message, its hold or its schedule), so a namesake on another queue
never wakes it; an id that several queues know raises
:class:`~naq_core.errors.AmbiguousJobError`.
The order: subscribe first, then read the record (one KV get), then wait for messages. The
subscription is removed when the call returns, however it returns (result, timeout,
cancellation), so waiting leaves nothing behind on the server.

Subscribing first does not close every race. nats-server routes a publish to core
subscribers at once but stores it in the stream later, from the stream's own ingest queue,
which the KV get (an API or direct-get request) does not wait for. A write that reached the
server just before our subscription is therefore not delivered to us, and the get can still
return the record before it ("running"). So after a first read that is not terminal, the
record is read again a bounded number of times at growing intervals (:data:`RECHECKS`,
about two seconds in all, far longer than that ingest lag) while the subscription waits;
after that only the subscription (and a reconnect) wakes the waiter. A write that arrives
after the subscription is delivered whatever its storage lag, so a job that ends later is
seen at once. Each wait costs at most ``len(RECHECKS)`` extra gets, no consumer, no
unbounded polling. (A barrier through the ingest queue itself, such as a JetStream publish
to the stream that is sure to be refused, would be exact, but it rests on the order inside
the server rather than on anything documented, and it would reach every other waiter's
subscription as well.)

While the connection is down a write can be missed; after a reconnect every waiter reads
the record again. An id that is nowhere (no record, not queued, not held for its
dependencies, not scheduled) raises :class:`JobNotFoundError` at once; the checks run
after the subscription exists and the record is read once more after them, so a job
enqueued a moment ago, or one that ends while we look, is never reported missing (the
record is read again for a short while, as below, since its write may not be stored yet).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import math
import numbers
from typing import TYPE_CHECKING

import nats.errors

from naq_core import _deps
from naq_core._jetstream.names import JOBS_STREAM, result_filter, result_subject
from naq_core.errors import JobNotFoundError, NaqTimeoutError
from naq_core.results import JobRecord, ResultStore, ambiguous, job_ref
from naq_core.schedules import _store as _schedules

if TYPE_CHECKING:
    from nats.aio.msg import Msg

    from naq_core._jetstream.connection import Connection

__all__ = ["RECHECKS", "bare_id_queue", "check_timeout", "job_exists", "job_queues", "wait_for_record"]

#: Seconds between the extra reads of a record that was not terminal when first read (see
#: the module docstring): they catch a write stored after our read but routed before our
#: subscription existed.
RECHECKS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
_NOT_FOUND_RECHECKS = 4  # an id found nowhere is read again for about 85 ms, then reported

_RECONNECTED = None  # the sentinel a reconnect puts in every waiter's inbox


class _Wake(enum.Enum):
    RECHECK = "recheck"  # what _next_message returns when it is time to read the record again


Inbox = asyncio.Queue["Msg | None"]


def check_timeout(timeout: object) -> float | None:
    """``timeout`` as seconds, or a :class:`TypeError`/:class:`ValueError` that says why not.

    The original naq took the server URL as the second positional argument, where
    ``timeout`` is now: that mistake gets a message naming it.
    """
    if timeout is None:
        return None
    if isinstance(timeout, str):
        hint = "; pass nats_url=... by keyword" if "://" in timeout or "," in timeout else ""
        raise TypeError(f"timeout must be a number of seconds, got the string {timeout!r}{hint}")
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real):
        raise TypeError(
            f"timeout must be a number of seconds or None, got {type(timeout).__name__} {timeout!r}"
        )
    seconds = float(timeout)
    if math.isnan(seconds) or seconds < 0:
        raise ValueError(f"timeout must be zero or more seconds, got {timeout!r}")
    return seconds


async def job_queues(conn: Connection, job_id: str) -> set[str]:
    """The queues on which ``job_id`` is queued, scheduled (a schedule message or record),
    or held for its dependencies. Records are not looked at here."""
    info = await conn.js.stream_info(JOBS_STREAM, subjects_filter=f"naq.*.*.{job_id}")
    # naq.queue.<queue>.<id> or naq.sched.<queue>.<id>
    queues = {subject.split(".")[2] for subject in info.state.subjects or {}}
    queues.update(await _deps.waiting_queues(conn, job_id))
    try:
        queues.add((await _schedules.get(conn, job_id)).queue)
    except JobNotFoundError:
        pass
    return queues


async def bare_id_queue(conn: Connection, job_id: str, record: JobRecord | None) -> str | None:
    """The one queue that knows the bare id ``job_id``: where it is queued, scheduled or held,
    or ``record``'s queue (its record, if one was found); ``None`` when no queue knows it.

    Raises :class:`~naq_core.errors.AmbiguousJobError` when several queues do.
    """
    queues = await job_queues(conn, job_id)
    if record is not None and record.queue is not None:
        queues.add(record.queue)
    if len(queues) > 1:
        raise ambiguous(job_id, sorted(queues))
    return next(iter(queues), None)


async def job_exists(conn: Connection, job_id: str, queue: str | None = None) -> bool:
    """Whether ``job_id`` (of ``queue``, or of any queue) is queued, scheduled or held;
    for a queue, the first place found answers (a queued job costs one request)."""
    if queue is None:
        return bool(await job_queues(conn, job_id))
    info = await conn.js.stream_info(JOBS_STREAM, subjects_filter=f"naq.*.{queue}.{job_id}")
    if info.state.subjects or await _deps.is_waiting(conn, job_id, queue):
        return True
    try:
        return (await _schedules.get(conn, job_id)).queue == queue
    except JobNotFoundError:
        return False


def _decode(store: ResultStore, job_id: str, msg: Msg, subject: str | None) -> JobRecord | None:
    """The record a message carries; ``None`` for a delete, or a write on another subject
    than ``subject`` (a namesake's, when the waiter knows the job's queue)."""
    if subject is not None and msg.subject != subject:
        return None
    if not msg.data or (msg.headers and "KV-Operation" in msg.headers):
        return None  # a delete or purge of the key: nothing to return
    return store.decode(job_id, msg.data)


async def _next_message(inbox: Inbox, within: float | None) -> Msg | _Wake | None:
    """The next message (or reconnect sentinel) in ``inbox``, or ``_Wake.RECHECK`` when
    ``within`` seconds pass first (``None``: wait as long as it takes)."""
    if within is None:
        return await inbox.get()
    limit = asyncio.timeout(within)
    try:
        async with limit:
            return await inbox.get()
    except TimeoutError:
        if not limit.expired():
            raise
        return _Wake.RECHECK


async def wait_for_record(
    conn: Connection, job_id: str, timeout: float | None = None, *, queue: str | None = None
) -> JobRecord:
    """The terminal record of job ``job_id`` of ``queue`` (``None``: a ``<queue>.<job id>``
    reference, or the one queue that knows the bare id), waiting up to ``timeout`` seconds
    (``None``: for ever).

    Raises :class:`JobNotFoundError` at once if the id is nowhere,
    :class:`~naq_core.errors.AmbiguousJobError` if several queues know a bare id, and
    :class:`naq_core.errors.TimeoutError` if the job did not finish in time.
    """
    timeout = check_timeout(timeout)
    ref = job_ref(job_id, queue)
    if ref is None:
        raise JobNotFoundError(f"no job {job_id!r}: not a valid job id")
    queue, job_id = ref
    store = ResultStore(conn)
    inbox: Inbox = asyncio.Queue()

    async def on_msg(msg: Msg) -> None:
        inbox.put_nowait(msg)

    deadline = None if timeout is None else asyncio.get_running_loop().time() + timeout
    listen = result_filter(job_id) if queue is None else result_subject(queue, job_id)
    sub = await conn.nc.subscribe(listen, cb=on_msg)
    stop_listening = conn.on_reconnect(lambda: inbox.put_nowait(_RECONNECTED))
    waiting = asyncio.timeout_at(deadline)
    try:
        record = await store.get(job_id, queue)  # a finished job answers even with timeout=0
        exists, bare = record is not None, queue is None
        if bare:  # a bare id: the one queue that knows it, whatever it is
            queue = await bare_id_queue(conn, job_id, record)
            exists = queue is not None
        if record is not None and record.finished:
            return record
        async with waiting:
            if not exists and not bare:  # (a bare id's places were all looked at above)
                exists = await job_exists(conn, job_id, queue)
            if not exists:
                record = await _found_late(store, job_id, queue, inbox)
                queue = queue or (record.queue if record is not None else None)
            subject = None if queue is None else result_subject(queue, job_id)
            rechecks = iter(RECHECKS)
            while record is None or not record.finished:
                msg = await _next_message(inbox, next(rechecks, None))
                if isinstance(msg, _Wake):
                    record = await store.get(job_id, queue) or record
                elif msg is _RECONNECTED:
                    record = await store.get(job_id, queue)  # a write may have been missed meanwhile
                    rechecks = iter(RECHECKS)  # and one routed before we resubscribed
                else:
                    record = _decode(store, job_id, msg, subject) or record
                    if subject is None and record is not None:
                        subject = msg.subject  # the first queue heard of: only its writes
            return record
    except TimeoutError:
        if not waiting.expired():
            raise  # a request to the server timed out, not our wait
        raise NaqTimeoutError(f"job {job_id} did not finish within {timeout} s") from None
    finally:
        stop_listening()
        with contextlib.suppress(nats.errors.Error, TimeoutError):
            await sub.unsubscribe()


async def _found_late(store: ResultStore, job_id: str, queue: str | None, inbox: Inbox) -> JobRecord | None:
    """The record of a job found nowhere else: it may have ended while we looked (gone from
    its queue a moment before its record is stored), so it is read again over the first
    few RECHECKS, and anything the subscription received meanwhile counts. Raises
    :class:`JobNotFoundError` when nothing turns up."""
    record = None
    for delay in RECHECKS[:_NOT_FOUND_RECHECKS]:
        record = await store.get(job_id, queue)
        if record is not None or not inbox.empty():
            return record
        await asyncio.sleep(delay)
    record = await store.get(job_id, queue)
    if record is None and inbox.empty():
        raise JobNotFoundError(f"no job {job_id!r}: unknown id, or its record expired")
    return record
