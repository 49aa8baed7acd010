"""Job dependencies without polling.

A job is its queue and its id, here as everywhere (see :mod:`naq_core.results`). A job with
``depends_on`` is not published to its queue at once. Its message waits in the ``naq_deps``
bucket under ``wait.<queue>.<job>``, with a marker ``on.<dep queue>.<dep>.<queue>.<job>``
per dependency. Every worker watches the ``on.>`` markers, so it knows which jobs have
dependents; when it finishes such a job it resolves them: release (publish, deduplicated by
``<queue>/<job>``) once every dependency completed, or mark ``dependency_failed`` (and
cascade) as soon as one failed. Finishing job ``X`` of queue ``A`` resolves only the
dependents of ``(A, X)``: a namesake on another queue touches nothing. Jobs without
dependents cost one set lookup. Races are closed from both sides: the producer checks the
dependencies' status after writing the markers, and a worker that sees a new marker for a
job it finished recently resolves it too.

A dependency given as a :class:`~naq_core.job.Job` (or ``<queue>.<job id>``) is that job; a
bare id is the job of that id on the dependent's own queue if naq knows one there, else the
one queue that knows it (:class:`~naq_core.errors.AmbiguousJobError` if several do). Holds
and markers an older naq wrote (``wait.<job>``, ``on.<dep>.<job>``) are not resolved.
"""

from __future__ import annotations

import asyncio
import collections
import json
from typing import TYPE_CHECKING, Any

import nats.errors
import nats.js.errors
from attrs import evolve

from naq_core._jetstream.kvscan import bucket_is_empty, release, scan
from naq_core._jetstream.names import (
    DEPS_BUCKET,
    JOBS_STREAM,
    job_filter,
    job_subject,
    kv_subject,
    queue_of_subject,
    result_key,
)
from naq_core._log import get_logger
from naq_core._teardown import cancel_and_wait
from naq_core.errors import JobNotFoundError
from naq_core.job import Job, JobStatus
from naq_core.results import ResultStore, ambiguous, job_ref

if TYPE_CHECKING:
    from nats.js.kv import KeyValue

    from naq_core._jetstream.connection import Connection

__all__ = [
    "DependencyTracker",
    "cancel",
    "hold",
    "is_waiting",
    "marker_key",
    "queues_knowing",
    "resolve",
    "wait_key",
    "waiting_on",
    "waiting_queues",
]

_MISSING = (nats.js.errors.KeyNotFoundError, nats.js.errors.KeyDeletedError)


def wait_key(queue: str, job_id: str) -> str:
    """``wait.<queue>.<job>``: the held message of a job waiting for its dependencies."""
    return f"wait.{queue}.{job_id}"


def marker_key(dep: str, queue: str, job_id: str) -> str:
    """``on.<dep queue>.<dep>.<queue>.<job>``: job ``(queue, job_id)`` waits on ``dep``
    (a ``<queue>.<job id>`` reference)."""
    return f"on.{dep}.{result_key(queue, job_id)}"


async def _known_on(conn: Connection, queue: str, job_id: str) -> bool:
    """Whether naq knows job ``job_id`` of ``queue``: a record, a hold, or a queued message."""
    if await ResultStore(conn).get(job_id, queue) is not None or await is_waiting(conn, job_id, queue):
        return True
    info = await conn.js.stream_info(JOBS_STREAM, subjects_filter=job_subject(queue, job_id))
    return bool(info.state.subjects)


async def queues_knowing(conn: Connection, job_id: str) -> list[str]:
    """Every queue that knows a job ``job_id``: a record, a hold, or a queued message."""
    store = ResultStore(conn)
    queues = set(await waiting_queues(conn, job_id))
    info = await conn.js.stream_info(JOBS_STREAM, subjects_filter=job_filter(job_id))
    queues.update(q for q in map(queue_of_subject, info.state.subjects or {}) if q is not None)
    for queue in await store.queues_of(job_id):
        if queue not in queues and await store.get(job_id, queue) is not None:
            queues.add(queue)
    return sorted(queues)


async def _dependency(conn: Connection, own_queue: str, dep: str) -> str | None:
    """The ``<queue>.<job id>`` a dependency names (see the module doc), or ``None`` if naq
    knows no such job.

    A job that just ended can be gone from its queue a moment before its record is
    visible, so an id that looks unknown is looked up again briefly before it is refused.
    """
    ref = job_ref(dep)
    if ref is None:
        return None
    queue, job_id = ref
    for pause in (0.0, 0.05, 0.25, 1.0):
        await asyncio.sleep(pause)
        if await _known_on(conn, queue or own_queue, job_id):
            return result_key(queue or own_queue, job_id)
        if queue is None:
            queues = await queues_knowing(conn, job_id)
            if len(queues) > 1:
                raise ambiguous(job_id, queues)
            if queues:
                return result_key(queues[0], job_id)
    return None


async def hold(conn: Connection, job: Job, data: bytes, headers: dict[str, str] | None) -> None:
    """Park ``job`` until its dependencies complete (producer side).

    A dependency naq has never heard of (a typo, or a record that expired) would keep the
    job waiting for ever, so it is refused here with :class:`JobNotFoundError`.
    """
    found = await asyncio.gather(*(_dependency(conn, job.queue_name, dep) for dep in job.depends_on))
    unknown = [dep for dep, ref in zip(job.depends_on, found, strict=True) if ref is None]
    if unknown:
        raise JobNotFoundError(
            f"job {job.function} depends on unknown job id(s) {', '.join(unknown)}: "
            "never enqueued, or their records expired"
        )
    deps = list(dict.fromkeys(ref for ref in found if ref is not None))
    kv = await conn.bucket(DEPS_BUCKET)
    # release is idempotent, per queue (as _enqueue.dedup_id)
    headers = {**(headers or {}), "Nats-Msg-Id": f"{job.queue_name}/{job.job_id}"}
    held = {"queue": job.queue_name, "deps": deps, "headers": headers}
    await kv.put(wait_key(job.queue_name, job.job_id), json.dumps(held).encode() + b"\n" + data)
    await asyncio.gather(*(kv.put(marker_key(dep, job.queue_name, job.job_id), b"") for dep in deps))
    await ResultStore(conn).write(job, JobStatus.WAITING, confirm=True)
    await resolve(conn, job.job_id, job.queue_name)


async def waiting_queues(conn: Connection, job_id: str) -> list[str]:
    """The queues holding a job ``job_id`` for its dependencies."""
    kv = await conn.bucket(DEPS_BUCKET)
    where = kv_subject(DEPS_BUCKET, wait_key("*", job_id))
    info = await conn.js.stream_info(f"KV_{DEPS_BUCKET}", subjects_filter=where)
    queues = [subject.split(".")[-2] for subject in info.state.subjects or {}]
    held = await asyncio.gather(*(_load(kv, queue, job_id) for queue in queues))  # not a tombstone
    return sorted(queue for queue, loaded in zip(queues, held, strict=True) if loaded is not None)


async def is_waiting(conn: Connection, job_id: str, queue: str | None = None) -> bool:
    """Whether job ``job_id`` of ``queue`` (of any queue when ``None``) is held."""
    if queue is None:
        return bool(await waiting_queues(conn, job_id))
    return await _load(await conn.bucket(DEPS_BUCKET), queue, job_id) is not None


async def _load(kv: KeyValue, queue: str, job_id: str) -> tuple[dict[str, Any], bytes] | None:
    try:
        entry = await kv.get(wait_key(queue, job_id))
    except _MISSING:
        return None
    if not entry.value:
        return None
    meta, _, data = entry.value.partition(b"\n")
    return json.loads(meta), data


def _held_job(conn: Connection, data: bytes, queue: str, job_id: str) -> Job:
    """The held job, under the queue and id it is held as."""
    try:
        job = Job.from_envelope(conn.serializer.loads(data))
    except Exception:  # a held message naq wrote itself; never expected to fail
        return Job(function="?", job_id=job_id, queue_name=queue)
    return evolve(job, job_id=job_id, queue_name=queue)


async def resolve(conn: Connection, job_id: str, queue: str) -> list[tuple[str, str]]:
    """Release or fail the waiting job ``job_id`` of ``queue`` if its dependencies allow.

    Returns the ``(queue, job id)`` of jobs that became terminal (failed) here, whose own
    dependents must be resolved in turn. Safe to call many times and from many processes.
    """
    kv = await conn.bucket(DEPS_BUCKET)
    loaded = await _load(kv, queue, job_id)
    if loaded is None:
        return []
    meta, data = loaded
    deps: list[str] = meta["deps"]
    store = ResultStore(conn)
    records = await asyncio.gather(*(store.get(dep) for dep in deps))  # each <queue>.<id>: exact
    failed = [
        (dep, rec)
        for dep, rec in zip(deps, records, strict=True)
        if rec is not None and rec.finished and rec.status is not JobStatus.COMPLETED
    ]
    log = get_logger(__name__)
    if failed:
        dep, rec = failed[0]
        await store.write(
            _held_job(conn, data, queue, job_id),
            JobStatus.DEPENDENCY_FAILED,
            error_type="DependencyFailed",
            error=f"dependency {dep} ended {rec.status.value}",
            confirm=True,
            payload=data,
        )
        await _forget(kv, queue, job_id, deps)
        log.info("job_dependency_failed", job_id=job_id, dependency=dep, queue=queue)
        return [(queue, job_id)]
    if all(rec is not None and rec.status is JobStatus.COMPLETED for rec in records):
        await conn.js.publish(job_subject(queue, job_id), data, headers=meta["headers"])
        await _forget(kv, queue, job_id, deps)
        log.debug("job_released", job_id=job_id, queue=queue)
    return []


async def cancel(conn: Connection, job_id: str, queue: str) -> bool:
    """Cancel a held job (False if it is not held); its dependents then fail in turn."""
    kv = await conn.bucket(DEPS_BUCKET)
    loaded = await _load(kv, queue, job_id)
    if loaded is None:
        return False
    meta, data = loaded
    await ResultStore(conn).write(
        _held_job(conn, data, queue, job_id),
        JobStatus.CANCELLED,
        error_type="Cancelled",
        error="cancelled while waiting",
        confirm=True,
        payload=data,
    )
    await _forget(kv, queue, job_id, meta["deps"])
    todo = [(queue, job_id)]
    while todo:  # dependents of a cancelled job never run
        current = todo.pop()
        for key in await _keys(kv, f"on.{result_key(*current)}.*.*"):
            _, _, _, dependent_queue, dependent = key.split(".")
            todo.extend(await resolve(conn, dependent, dependent_queue))
    return True


async def waiting_on(conn: Connection, queue: str, job_id: str, limit: int = 1000) -> list[str]:
    """``<queue>.<job id>`` of the jobs held until job ``(queue, job_id)`` ends (at most ``limit``).

    Reads only this job's markers (``on.<queue>.<job>.*.*``, one short-lived consumer,
    deleted after). A dependent that was released or failed already is not listed: its
    marker is gone; its own record names its dependencies.
    """
    try:
        kv = await conn.js.key_value(DEPS_BUCKET)
    except (nats.js.errors.BucketNotFoundError, nats.js.errors.NotFoundError):
        return []
    keys = await _keys(kv, f"on.{result_key(queue, job_id)}.*.*")
    return sorted(".".join(key.split(".")[3:]) for key in keys)[:limit]


async def _keys(kv: KeyValue, pattern: str) -> list[str]:
    """Keys matching a subject pattern (nats-py's ``keys(filters=)`` matches substrings)."""
    return [entry.key for entry in await scan(kv, pattern, timeout=10)]


async def _forget(kv: KeyValue, queue: str, job_id: str, deps: list[str]) -> None:
    await asyncio.gather(
        kv.purge(wait_key(queue, job_id)), *(kv.purge(marker_key(dep, queue, job_id)) for dep in deps)
    )


class DependencyTracker:
    """Worker side: knows which jobs have dependents and resolves them when they end.

    Jobs are ``<queue>.<job id>`` references here (the markers' halves)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._dependents: dict[str, set[str]] = collections.defaultdict(set)
        self._recent: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._task: asyncio.Task[None] | None = None
        self._watch_of: tuple[KeyValue, Any] | None = None  # (bucket, watcher) to release
        self._pending: set[asyncio.Task[None]] = set()
        self._ready = asyncio.Event()

    async def start(self) -> None:
        kv = await self._conn.bucket(DEPS_BUCKET)
        if await bucket_is_empty(kv, "on.>"):
            self._ready.set()  # nothing to replay (nats-py's own marker is not trusted)
        watcher = await kv.watch("on.>")
        self._watch_of = (kv, watcher)
        self._task = asyncio.create_task(self._watch(watcher), name="naq-deps-watch")
        try:
            await asyncio.wait_for(self._ready.wait(), timeout=10)
        except TimeoutError:
            get_logger(__name__).warning("deps_watch_slow")
        # Jobs that finished while no worker watched: resolve their dependents now.
        for dep in list(self._dependents):  # <queue>.<job id>: one exact get each
            record = await ResultStore(self._conn).get(dep)
            if record is not None and record.finished:
                self._spawn(dep)

    async def stop(self) -> None:
        """Stop watching (the watch's server-side consumer is deleted) and give the
        resolutions under way up to 2 s (then they are cancelled). Safe on a tracker whose
        start failed midway."""
        task, self._task = self._task, None
        if task is not None:
            await cancel_and_wait(task)
        watch_of, self._watch_of = self._watch_of, None
        if watch_of is not None:  # the watch's consumer goes with the worker
            await release(*watch_of)
        if self._pending:
            await asyncio.wait(set(self._pending), timeout=2)
        for late in list(self._pending):  # not done in time: cancelled, not left running
            await cancel_and_wait(late)

    async def _watch(self, watcher: Any) -> None:
        async for entry in watcher:
            if entry is None:
                continue  # see _kvscan: the end of the replay is delta == 0
            parts = entry.key.split(".")
            if len(parts) != 5:  # an older naq's on.<dep>.<job>: not resolved (module doc)
                if entry.delta == 0:
                    self._ready.set()
                continue
            dep, job_id = f"{parts[1]}.{parts[2]}", f"{parts[3]}.{parts[4]}"
            if entry.operation is None:
                self._dependents[dep].add(job_id)
                if dep in self._recent:
                    self._spawn(dep)
            else:
                self._dependents[dep].discard(job_id)
                if not self._dependents[dep]:
                    del self._dependents[dep]
            if entry.delta == 0:
                self._ready.set()

    def has_dependents(self, queue: str, job_id: str) -> bool:
        """Whether a job's terminal status must be confirmed before dependents are resolved."""
        return result_key(queue, job_id) in self._dependents

    def finished(self, queue: str, job_id: str) -> None:
        """Called by the worker after writing the terminal status of job ``job_id`` of
        ``queue`` (the queue its message arrived on; hot path: O(1))."""
        ref = result_key(queue, job_id)
        self._recent[ref] = None
        if len(self._recent) > 10_000:
            self._recent.popitem(last=False)
        if ref in self._dependents:
            self._spawn(ref)

    def _spawn(self, ref: str) -> None:
        task = asyncio.create_task(self._resolve_dependents(ref))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _resolve_dependents(self, ref: str) -> None:
        log = get_logger(__name__)
        for dependent in sorted(self._dependents.get(ref, ())):
            queue, _, job_id = dependent.partition(".")
            try:
                failed = await resolve(self._conn, job_id, queue)
            except (nats.errors.Error, TimeoutError) as exc:
                log.warning("dependency_resolve_failed", job_id=job_id, queue=queue, error=str(exc))
                continue
            for failed_queue, failed_id in failed:
                # It is terminal now: its own dependents (some may not have reached our
                # watch yet) are resolved like those of any finished job.
                self.finished(failed_queue, failed_id)
