"""Job dependencies without polling.

A job with ``depends_on`` is not published to its queue at once. Its message waits in the
``naq_deps`` bucket under ``wait.<job>``, with a marker ``on.<dep>.<job>`` per dependency.
Every worker watches the ``on.>`` markers, so it knows which job ids have dependents; when
it finishes such a job it resolves them: release (publish, deduplicated by job id) once every
dependency completed, or mark ``dependency_failed`` (and cascade) as soon as one failed.
Jobs without dependents cost one set lookup. Races are closed from both sides: the producer
checks the dependencies' status after writing the markers, and a worker that sees a new
marker for a job it finished recently resolves it too.
"""

from __future__ import annotations

import asyncio
import collections
import json
from typing import TYPE_CHECKING, Any

import nats.errors
import nats.js.errors

from naq_core._jetstream.kvscan import bucket_is_empty, release, scan
from naq_core._jetstream.names import DEPS_BUCKET, JOBS_STREAM, job_filter, job_subject
from naq_core._log import get_logger
from naq_core._teardown import cancel_and_wait
from naq_core.errors import JobNotFoundError
from naq_core.job import Job, JobStatus
from naq_core.results import ResultStore

if TYPE_CHECKING:
    from nats.js.kv import KeyValue

    from naq_core._jetstream.connection import Connection

__all__ = ["DependencyTracker", "cancel", "hold", "is_waiting", "resolve"]

_MISSING = (nats.js.errors.KeyNotFoundError, nats.js.errors.KeyDeletedError)


async def _known(conn: Connection, job_id: str) -> bool:
    """Whether naq knows ``job_id``: a record, a held job, or a message in a queue.

    A job that just ended can be gone from its queue a moment before its record is
    visible, so an id that looks unknown is looked up again briefly before it is refused.
    """
    for pause in (0.0, 0.05, 0.25, 1.0):
        await asyncio.sleep(pause)
        if await ResultStore(conn).get(job_id) is not None or await is_waiting(conn, job_id):
            return True
        info = await conn.js.stream_info(JOBS_STREAM, subjects_filter=job_filter(job_id))
        if info.state.subjects:
            return True
    return False


async def hold(conn: Connection, job: Job, data: bytes, headers: dict[str, str] | None) -> None:
    """Park ``job`` until its dependencies complete (producer side).

    A dependency naq has never heard of (a typo, or a record that expired) would keep the
    job waiting for ever, so it is refused here with :class:`JobNotFoundError`.
    """
    known = await asyncio.gather(*(_known(conn, dep) for dep in job.depends_on))
    unknown = [dep for dep, ok in zip(job.depends_on, known, strict=True) if not ok]
    if unknown:
        raise JobNotFoundError(
            f"job {job.function} depends on unknown job id(s) {', '.join(unknown)}: "
            "never enqueued, or their records expired"
        )
    kv = await conn.bucket(DEPS_BUCKET)
    headers = {**(headers or {}), "Nats-Msg-Id": job.job_id}  # release is idempotent
    held = {"queue": job.queue_name, "deps": list(job.depends_on), "headers": headers}
    await kv.put(f"wait.{job.job_id}", json.dumps(held).encode() + b"\n" + data)
    await asyncio.gather(*(kv.put(f"on.{dep}.{job.job_id}", b"") for dep in job.depends_on))
    await ResultStore(conn).write(job, JobStatus.WAITING, confirm=True)
    await resolve(conn, job.job_id)


async def is_waiting(conn: Connection, job_id: str) -> bool:
    kv = await conn.bucket(DEPS_BUCKET)
    try:
        entry = await kv.get(f"wait.{job_id}")
    except _MISSING:
        return False
    return entry.value is not None


async def _load(kv: KeyValue, job_id: str) -> tuple[dict[str, Any], bytes] | None:
    try:
        entry = await kv.get(f"wait.{job_id}")
    except _MISSING:
        return None
    if not entry.value:
        return None
    meta, _, data = entry.value.partition(b"\n")
    return json.loads(meta), data


async def resolve(conn: Connection, job_id: str) -> list[str]:
    """Release or fail the waiting job ``job_id`` if its dependencies allow.

    Returns the ids of jobs that became terminal (failed) here, whose own dependents must be
    resolved in turn. Safe to call many times and from many processes.
    """
    kv = await conn.bucket(DEPS_BUCKET)
    loaded = await _load(kv, job_id)
    if loaded is None:
        return []
    meta, data = loaded
    store = ResultStore(conn)
    records = await asyncio.gather(*(store.get(dep) for dep in meta["deps"]))
    failed = [
        (dep, rec)
        for dep, rec in zip(meta["deps"], records, strict=True)
        if rec is not None and rec.finished and rec.status is not JobStatus.COMPLETED
    ]
    log = get_logger(__name__)
    if failed:
        dep, rec = failed[0]
        try:
            job = Job.from_envelope(conn.serializer.loads(data))
        except Exception:  # a held message naq wrote itself; never expected to fail
            job = Job(function="?", job_id=job_id, queue_name=meta["queue"])
        await store.write(
            job,
            JobStatus.DEPENDENCY_FAILED,
            error_type="DependencyFailed",
            error=f"dependency {dep} ended {rec.status.value}" if rec else f"dependency {dep} failed",
            confirm=True,
            payload=data,
        )
        await _forget(kv, job_id, meta["deps"])
        log.info("job_dependency_failed", job_id=job_id, dependency=dep, queue=meta["queue"])
        return [job_id]
    if all(rec is not None and rec.status is JobStatus.COMPLETED for rec in records):
        await conn.js.publish(job_subject(meta["queue"], job_id), data, headers=meta["headers"])
        await _forget(kv, job_id, meta["deps"])
        log.debug("job_released", job_id=job_id, queue=meta["queue"])
    return []


async def cancel(conn: Connection, job_id: str) -> bool:
    """Cancel a held job (False if it is not held); its dependents then fail in turn."""
    kv = await conn.bucket(DEPS_BUCKET)
    loaded = await _load(kv, job_id)
    if loaded is None:
        return False
    meta, data = loaded
    try:
        job = Job.from_envelope(conn.serializer.loads(data))
    except Exception:  # a held message naq wrote itself; never expected to fail
        job = Job(function="?", job_id=job_id, queue_name=meta["queue"])
    await ResultStore(conn).write(
        job,
        JobStatus.CANCELLED,
        error_type="Cancelled",
        error="cancelled while waiting",
        confirm=True,
        payload=data,
    )
    await _forget(kv, job_id, meta["deps"])
    todo = [job_id]
    while todo:  # dependents of a cancelled job never run
        current = todo.pop()
        for key in await _keys(kv, f"on.{current}.*"):
            todo.extend(await resolve(conn, key.split(".", 2)[2]))
    return True


async def _keys(kv: KeyValue, pattern: str) -> list[str]:
    """Keys matching a subject pattern (nats-py's ``keys(filters=)`` matches substrings)."""
    return [entry.key for entry in await scan(kv, pattern, timeout=10)]


async def _forget(kv: KeyValue, job_id: str, deps: list[str]) -> None:
    await asyncio.gather(kv.purge(f"wait.{job_id}"), *(kv.purge(f"on.{dep}.{job_id}") for dep in deps))


class DependencyTracker:
    """Worker side: knows which job ids have dependents and resolves them when they end."""

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
        for dep in list(self._dependents):
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
            _, dep, job_id = entry.key.split(".", 2)
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

    def has_dependents(self, job_id: str) -> bool:
        """Whether a job's terminal status must be confirmed before dependents are resolved."""
        return job_id in self._dependents

    def finished(self, job_id: str) -> None:
        """Called by the worker after writing a terminal status (hot path: O(1))."""
        self._recent[job_id] = None
        if len(self._recent) > 10_000:
            self._recent.popitem(last=False)
        if job_id in self._dependents:
            self._spawn(job_id)

    def _spawn(self, job_id: str) -> None:
        task = asyncio.create_task(self._resolve_dependents(job_id))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _resolve_dependents(self, job_id: str) -> None:
        log = get_logger(__name__)
        for dependent in sorted(self._dependents.get(job_id, ())):
            try:
                failed = await resolve(self._conn, dependent)
            except (nats.errors.Error, TimeoutError) as exc:
                log.warning("dependency_resolve_failed", job_id=dependent, error=str(exc))
                continue
            for failed_id in failed:
                # It is terminal now: its own dependents (some may not have reached our
                # watch yet) are resolved like those of any finished job.
                self.finished(failed_id)
