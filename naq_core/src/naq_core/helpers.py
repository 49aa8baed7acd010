"""Module-level helpers with the original naq's names: ``await enqueue(...)``, ``enqueue_sync(...)``.

Async helpers keep one connection per (running event loop, ``nats_url``): the first call in
a loop connects, later calls reuse it. The connection is closed when the loop is shut down
by :func:`asyncio.run` (or ``asyncio.Runner``), or earlier with
``await close_connections()``. Configuration (files, ``NAQ_*``) is read once per loop and
URL.

Sync helpers (``*_sync``) go through a :class:`~naq_core.client.NaqClient`: the process's
default client when ``nats_url`` is not given, else one cached client per URL. They work
the same on the thousandth call as on the first, from any thread.

The scheduling helpers (``enqueue_at``, ``schedule``, ``cancel_scheduled_job``, ... and
their ``*_sync`` twins) live in :mod:`naq_core.schedule_helpers` and are re-exported here.
"""

from __future__ import annotations

import asyncio
import atexit
import threading
import weakref
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from typing import Any

import structlog

from naq_core._conn import Connection, connect
from naq_core.client import NaqClient, close_default_client, get_default_client
from naq_core.config import Config, load_config, validate_queue_name
from naq_core.heartbeat import WorkerInfo
from naq_core.heartbeat import list_workers as _list_workers
from naq_core.job import Job, JobStatus
from naq_core.queue import Queue
from naq_core.schedule_helpers import (
    cancel_scheduled_job,
    cancel_scheduled_job_sync,
    enqueue_at,
    enqueue_at_sync,
    enqueue_in,
    enqueue_in_sync,
    get_schedule,
    get_schedule_sync,
    list_schedules,
    list_schedules_sync,
    modify_scheduled_job,
    modify_scheduled_job_sync,
    pause_scheduled_job,
    pause_scheduled_job_sync,
    resume_scheduled_job,
    resume_scheduled_job_sync,
    run_scheduled_job_now,
    run_scheduled_job_now_sync,
    schedule,
    schedule_sync,
)

__all__ = [
    "cancel_scheduled_job",
    "cancel_scheduled_job_sync",
    "close_connections",
    "close_sync_connections",
    "enqueue",
    "enqueue_at",
    "enqueue_at_sync",
    "enqueue_in",
    "enqueue_in_sync",
    "enqueue_many",
    "enqueue_many_sync",
    "enqueue_sync",
    "fetch_job_result",
    "fetch_job_result_sync",
    "get_schedule",
    "get_schedule_sync",
    "job_status",
    "job_status_sync",
    "list_schedules",
    "list_schedules_sync",
    "list_workers",
    "list_workers_sync",
    "modify_scheduled_job",
    "modify_scheduled_job_sync",
    "pause_scheduled_job",
    "pause_scheduled_job_sync",
    "purge_queue",
    "purge_queue_sync",
    "resume_scheduled_job",
    "resume_scheduled_job_sync",
    "run_scheduled_job_now",
    "run_scheduled_job_now_sync",
    "schedule",
    "schedule_sync",
]

Url = str | Sequence[str] | None
_Key = tuple[str, ...] | None
CLOSE_TIMEOUT = 5.0


def _key(nats_url: Url) -> _Key:
    """``"a,b"``, ``["a", "b"]`` and ``("a", "b")`` name the same servers."""
    if nats_url is None:
        return None
    urls = nats_url.split(",") if isinstance(nats_url, str) else nats_url
    return tuple(u.strip() for u in urls if u.strip())


# --- async: one connection per (event loop, URL) ---------------------------------------------


class _Shared:
    """The connection and queues the async helpers use for one URL on one loop."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.conn: Connection | None = None
        self.queues: dict[str, Queue] = {}
        self._lock = asyncio.Lock()

    async def connection(self) -> Connection:
        conn = self.conn
        if conn is not None and not conn.nc.is_closed:
            return conn
        async with self._lock:
            if self.conn is not None and self.conn.nc.is_closed:
                self.conn, self.queues = None, {}
            if self.conn is None:
                self.conn = await connect(self.config, name="naq-helpers")
            return self.conn

    async def queue(self, queue_name: str | None) -> Queue:
        name = validate_queue_name(queue_name or self.config.default_queue)
        conn = await self.connection()
        queue = self.queues.get(name)
        if queue is None:
            queue = self.queues[name] = Queue(name, connection=conn, config=self.config)
        return queue

    async def close(self, *, drain: bool = True) -> None:
        conn, self.conn, self.queues = self.conn, None, {}
        if conn is None or conn.nc.is_closed:
            return
        if drain:
            try:
                await asyncio.wait_for(conn.close(), CLOSE_TIMEOUT)
                return
            except TimeoutError:
                pass
        await asyncio.wait_for(conn.nc.close(), CLOSE_TIMEOUT)


class _LoopState:
    def __init__(self) -> None:
        self.shared: dict[_Key, _Shared] = {}
        self.watcher: AsyncIterator[None] | None = None


_states: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState] = weakref.WeakKeyDictionary()
_states_lock = threading.Lock()


async def _at_loop_shutdown(loop: asyncio.AbstractEventLoop, state: _LoopState) -> AsyncIterator[None]:
    """An async generator the loop closes in ``shutdown_asyncgens()``: our shutdown hook."""
    try:
        yield
    finally:
        with _states_lock:
            if _states.get(loop) is state:
                del _states[loop]
        # asyncio.run has cancelled every task by now, nats-py's reader too: no drain.
        for shared in list(state.shared.values()):
            try:
                await shared.close(drain=False)
            except Exception as exc:  # the loop is going away: note it, never raise from here
                structlog.get_logger(__name__).debug("helper_connection_close_failed", error=str(exc))


async def _shared(nats_url: Url) -> _Shared:
    loop = asyncio.get_running_loop()
    key = _key(nats_url)
    with _states_lock:
        for old in [lp for lp in _states if lp.is_closed()]:
            del _states[old]  # closed without shutdown_asyncgens: forget its connections
        state = _states.get(loop)
        fresh = state is None
        if state is None:
            state = _states[loop] = _LoopState()
        shared = state.shared.get(key)
        if shared is None:
            config = load_config(overrides={"nats_url": nats_url})
            shared = state.shared[key] = _Shared(config)
    if fresh:
        watcher = _at_loop_shutdown(loop, state)
        await watcher.__anext__()  # started, so the loop tracks (and will close) it
        state.watcher = watcher
    return shared


async def close_connections() -> None:
    """Close the connections the async helpers opened in the running loop."""
    loop = asyncio.get_running_loop()
    with _states_lock:
        state = _states.pop(loop, None)
    if state is not None:
        for shared in list(state.shared.values()):
            await shared.close()


async def enqueue(
    func: Callable[..., Any] | str,
    *args: Any,
    queue_name: str | None = None,
    nats_url: Url = None,
    **options: Any,
) -> Job:
    """Enqueue ``func(*args, **kwargs)``; options as for :meth:`Queue.enqueue`."""
    return await (await (await _shared(nats_url)).queue(queue_name)).enqueue(func, *args, **options)


async def enqueue_many(
    calls: Iterable[Job | tuple[Any, ...]],
    queue_name: str | None = None,
    nats_url: Url = None,
    **options: Any,
) -> list[Job]:
    """Enqueue many ``(func, args)`` / ``(func, args, kwargs)`` items pipelined."""
    return await (await (await _shared(nats_url)).queue(queue_name)).enqueue_many(calls, **options)


async def fetch_job_result(job_id: str | Job, timeout: float | None = None, nats_url: Url = None) -> Any:
    """The job's return value, waiting up to ``timeout`` seconds; raises ``JobFailedError``."""
    return await (await (await _shared(nats_url)).queue(None)).fetch_job_result(job_id, timeout)


async def job_status(job_id: str | Job, nats_url: Url = None) -> JobStatus:
    key = job_id.job_id if isinstance(job_id, Job) else job_id
    return await (await (await _shared(nats_url)).queue(None)).job_status(key)


async def purge_queue(queue_name: str | None = None, nats_url: Url = None) -> int:
    """Delete every job waiting in the queue; returns how many were removed."""
    return await (await (await _shared(nats_url)).queue(queue_name)).purge()


async def list_workers(nats_url: Url = None) -> list[WorkerInfo]:
    return await _list_workers(await (await _shared(nats_url)).connection())


# --- sync: a NaqClient per URL -----------------------------------------------------------------

_clients: dict[_Key, NaqClient] = {}
_clients_lock = threading.Lock()


def _client(nats_url: Url) -> NaqClient:
    if nats_url is None:
        return get_default_client()
    key = _key(nats_url)
    with _clients_lock:
        client = _clients.get(key)
        if client is None or client.closed:
            client = _clients[key] = NaqClient(nats_url)
        return client


def close_sync_connections() -> None:
    """Close the clients the ``*_sync`` helpers use (the next call opens new ones)."""
    with _clients_lock:
        clients = list(_clients.values())
        _clients.clear()
    for client in clients:
        client.close()
    close_default_client()


def enqueue_sync(
    func: Callable[..., Any] | str,
    *args: Any,
    queue_name: str | None = None,
    nats_url: Url = None,
    **options: Any,
) -> Job:
    return _client(nats_url).enqueue(func, *args, queue_name=queue_name, **options)


def enqueue_many_sync(
    calls: Iterable[Job | tuple[Any, ...]],
    queue_name: str | None = None,
    nats_url: Url = None,
    **options: Any,
) -> list[Job]:
    return _client(nats_url).enqueue_many(calls, queue_name=queue_name, **options)


def fetch_job_result_sync(job_id: str | Job, timeout: float | None = None, nats_url: Url = None) -> Any:
    return _client(nats_url).fetch_job_result(job_id, timeout)


def job_status_sync(job_id: str | Job, nats_url: Url = None) -> JobStatus:
    return _client(nats_url).job_status(job_id)


def purge_queue_sync(queue_name: str | None = None, nats_url: Url = None) -> int:
    return _client(nats_url).purge(queue_name)


def list_workers_sync(nats_url: Url = None) -> list[WorkerInfo]:
    return _client(nats_url).list_workers()


atexit.register(close_sync_connections)
