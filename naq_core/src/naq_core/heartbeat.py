"""Worker heartbeats in the ``naq_workers`` bucket: one write per worker per interval."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import cattrs
import nats.errors
import nats.js.errors
from attrs import field, frozen

from naq_core import records
from naq_core._jetstream.kvscan import scan
from naq_core._jetstream.names import WORKERS_BUCKET, kv_subject
from naq_core._log import get_logger
from naq_core.results import ttl_header

if TYPE_CHECKING:
    from naq_core._jetstream.connection import Connection

__all__ = [
    "HISTORY_MINUTES",
    "WORKER_STATES",
    "Heartbeat",
    "MinuteCounts",
    "MinuteTotal",
    "WorkerInfo",
    "list_workers",
    "minute_totals",
]

#: Minutes of per-queue completed/failed counts a worker keeps and publishes in its beat.
HISTORY_MINUTES = 60


#: What a worker is doing, as :attr:`WorkerInfo.state` says: no job running, some jobs
#: running, or draining its running jobs after SIGTERM.
WORKER_STATES = ("idle", "busy", "stopping")


@frozen(kw_only=True)
class WorkerInfo:
    """What ``naq workers`` shows about one live worker.

    ``status`` is the worker's lifecycle (``running``, ``stopping``); ``state`` what it is
    doing: ``idle``, ``busy`` (``active_jobs`` running) or ``stopping``. Both are as of the
    last heartbeat, or of the last change of state (written within about 0.1 s).
    """

    worker_id: str
    hostname: str
    pid: int
    queues: tuple[str, ...]
    status: str
    concurrency: int
    current_jobs: tuple[str, ...]
    processed: int
    failed: int
    started_at: float
    last_heartbeat: float
    state: str = "idle"
    active_jobs: int = 0
    #: Jobs this worker finished per queue and minute, the last :data:`HISTORY_MINUTES`
    #: minutes: ``{queue: ((minute, completed, failed), ...)}``, oldest first, ``minute``
    #: being Unix time // 60; minutes without jobs are left out. Empty from older workers.
    history: dict[str, tuple[tuple[int, int, int], ...]] = field(factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WorkerInfo:
        """Rebuild from a heartbeat; unknown keys (newer workers) are ignored, and a beat of a
        worker older than ``state`` / ``active_jobs`` gets them from ``current_jobs``."""
        if "state" not in data:
            jobs = data.get("current_jobs") or ()
            busy = "busy" if jobs else "idle"
            state = "stopping" if data.get("status") == "stopping" else busy
            data = {**data, "active_jobs": len(jobs), "state": state}
        return records.from_dict(cls, data)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able values (lists for the tuples), as written in a heartbeat."""
        return records.to_dict(self)


class MinuteCounts:
    """Completed and failed jobs per queue and minute, the last ``minutes`` minutes, in memory.

    The worker calls :meth:`add` as a job ends (a dictionary lookup and an increment: nothing
    is sent); its heartbeat carries :meth:`to_dict`. Bounded: at most ``minutes`` entries per
    queue the worker serves. It lives and dies with the worker.
    """

    def __init__(self, minutes: int = HISTORY_MINUTES, clock: Callable[[], float] = time.time) -> None:
        self._minutes = minutes
        self._clock = clock
        self._counts: dict[str, dict[int, list[int]]] = {}

    def add(self, queue: str, *, failed: bool = False) -> None:
        """Count one job of ``queue`` that completed (or ``failed`` for good) now."""
        minute = int(self._clock() // 60)
        per_queue = self._counts.setdefault(queue, {})
        slot = per_queue.get(minute)
        if slot is None:  # a new minute: forget the ones that left the window
            self._forget_before(minute - self._minutes + 1)
            slot = per_queue[minute] = [0, 0]
        slot[1 if failed else 0] += 1

    def _forget_before(self, first: int) -> None:
        for per_queue in self._counts.values():
            for minute in [m for m in per_queue if m < first]:
                del per_queue[minute]

    def to_dict(self) -> dict[str, list[list[int]]]:
        """``{queue: [[minute, completed, failed], ...]}``, oldest first (what a beat carries)."""
        first = int(self._clock() // 60) - self._minutes + 1
        history = {}
        for queue, per_queue in self._counts.items():
            rows = [[m, c[0], c[1]] for m, c in sorted(per_queue.items()) if m >= first]
            if rows:
                history[queue] = rows
        return history


@frozen(kw_only=True)
class MinuteTotal:
    """Jobs completed and failed in one minute (``minute``: Unix time // 60)."""

    minute: int
    completed: int = 0
    failed: int = 0


def minute_totals(
    workers: Iterable[WorkerInfo],
    *,
    queues: Iterable[str] | None = None,
    minutes: int = HISTORY_MINUTES,
    now: float | None = None,
) -> list[MinuteTotal]:
    """The last ``minutes`` minutes (the current one last) of jobs completed and failed,
    summed over ``workers`` (their heartbeats' :attr:`WorkerInfo.history`) for ``queues``
    (default: all). Only live workers count: a stopped worker's history leaves with it."""
    last = int((time.time() if now is None else now) // 60)
    first = last - minutes + 1
    wanted = None if queues is None else set(queues)
    sums = {m: [0, 0] for m in range(first, last + 1)}
    for worker in workers:
        for queue, rows in worker.history.items():
            if wanted is not None and queue not in wanted:
                continue
            for minute, completed, failed in rows:
                if minute in sums:
                    sums[minute][0] += completed
                    sums[minute][1] += failed
    return [MinuteTotal(minute=m, completed=c, failed=f) for m, (c, f) in sums.items()]


class Heartbeat:
    """Writes ``snapshot()`` every ``interval`` seconds with a TTL of three intervals.

    ``state()`` (optional) is what the worker is doing (``idle``, ``busy``, ``stopping``):
    :meth:`state_changed` writes an extra beat when it differs from the last one written,
    at most once per ``min_gap`` seconds, so a change shows at once without a write per job.
    """

    def __init__(
        self,
        conn: Connection,
        worker_id: str,
        interval: float,
        snapshot: Callable[[], dict[str, Any]],
        state: Callable[[], str] | None = None,
        min_gap: float = 1.0,
    ) -> None:
        self._conn = conn
        self._key = worker_id
        self._interval = interval
        self._snapshot = snapshot
        self._state = state
        self._min_gap = min(min_gap, interval)
        self._written: str | None = None  # state in the last beat
        self._written_at = 0.0  # monotonic time of the last beat
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._conn.bucket(WORKERS_BUCKET)
        await self.beat()
        self._task = asyncio.create_task(self._loop(), name="naq-heartbeat")

    async def beat(self) -> None:
        async with self._lock:  # one write at a time, so the newest snapshot lands last
            snapshot = self._snapshot()
            data = json.dumps({**snapshot, "last_heartbeat": time.time()}).encode()
            headers = {"Nats-TTL": ttl_header(max(3.0, round(self._interval * 3)))}
            await self._conn.js.publish(kv_subject(WORKERS_BUCKET, self._key), data, headers=headers)
            self._written = snapshot.get("state")
            self._written_at = time.monotonic()

    async def state_changed(self, *, force: bool = False) -> None:
        """Beat now if the state differs from the last one written (``force``: whatever the
        gap since the last beat). A failed write is logged; the periodic beat retries."""
        if self._state is None or self._state() == self._written:
            return
        if not force and time.monotonic() - self._written_at < self._min_gap:
            return
        try:
            await self.beat()
        except (TimeoutError, nats.errors.Error) as exc:
            get_logger(__name__).warning("heartbeat_failed", worker_id=self._key, error=str(exc))

    async def _loop(self) -> None:
        log = get_logger(__name__)
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.beat()
            except (TimeoutError, nats.errors.Error) as exc:
                log.warning("heartbeat_failed", worker_id=self._key, error=str(exc))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        try:
            kv = await self._conn.bucket(WORKERS_BUCKET)
            await kv.purge(self._key)
        except (TimeoutError, nats.errors.Error):
            pass


async def list_workers(conn: Connection) -> list[WorkerInfo]:
    """Every worker that beat within its TTL, sorted by id."""
    kv = await conn.bucket(WORKERS_BUCKET)
    workers = []
    for entry in sorted(await scan(kv), key=lambda e: e.key):
        try:
            workers.append(WorkerInfo.from_dict(json.loads(entry.value or b"{}")))
        except (ValueError, cattrs.BaseValidationError) as exc:  # not a heartbeat naq wrote
            get_logger(__name__).warning("heartbeat_unreadable", worker_id=entry.key, error=str(exc))
    return workers
