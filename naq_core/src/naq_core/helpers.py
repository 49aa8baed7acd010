"""Module-level helpers with the original naq's names: ``await enqueue(...)``, ``enqueue_sync(...)``.

Async helpers keep one connection per (running event loop, ``nats_url``): the first call in
a loop connects, later calls reuse it. The connection is closed when the loop is shut down
by :func:`asyncio.run` (or ``asyncio.Runner``), or earlier with
``await close_connections()``. Configuration (files, ``NAQ_*``) is read once per loop and
URL.

Sync helpers (``*_sync``) take the same arguments as their async twins and run them on a
:class:`~naq_core.client.NaqClient`: the process's default client when ``nats_url`` is not
given, else one cached client per URL. They work the same on the thousandth call as on the
first, from any thread.

The scheduling helpers (``enqueue_at``, ``schedule``, ``cancel_scheduled_job``, ... and
their ``*_sync`` twins) live in :mod:`naq_core.schedule_helpers` and are re-exported here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from naq_core._resultwait import check_timeout
from naq_core._shared import Url, close_connections, close_sync_connections, pool, queue, sync
from naq_core.heartbeat import WorkerInfo
from naq_core.heartbeat import list_workers as _list_workers
from naq_core.job import Job, JobStatus
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


async def enqueue(
    func: Callable[..., Any] | str,
    *args: Any,
    queue_name: str | None = None,
    nats_url: Url = None,
    **options: Any,
) -> Job:
    """Enqueue ``func(*args, **kwargs)``; options as for :meth:`Queue.enqueue`."""
    return await (await queue(queue_name, nats_url)).enqueue(func, *args, **options)


async def enqueue_many(
    calls: Iterable[Job | tuple[Any, ...]],
    queue_name: str | None = None,
    nats_url: Url = None,
    **options: Any,
) -> list[Job]:
    """Enqueue many ``(func, args)`` / ``(func, args, kwargs)`` items pipelined."""
    return await (await queue(queue_name, nats_url)).enqueue_many(calls, **options)


async def fetch_job_result(job_id: str | Job, timeout: float | None = None, nats_url: Url = None) -> Any:
    """The job's return value, waiting up to ``timeout`` seconds; raises ``JobFailedError``,
    or ``JobNotFoundError`` at once if the id is unknown (or its record expired)."""
    seconds = check_timeout(timeout)  # before connecting: the original took the URL here
    return await (await queue(None, nats_url)).fetch_job_result(job_id, seconds)


async def job_status(job_id: str | Job, nats_url: Url = None) -> JobStatus:
    key = job_id.job_id if isinstance(job_id, Job) else job_id
    return await (await queue(None, nats_url)).job_status(key)


async def purge_queue(queue_name: str | None = None, nats_url: Url = None) -> int:
    """Delete every job waiting in the queue; returns how many were removed."""
    return await (await queue(queue_name, nats_url)).purge()


async def list_workers(nats_url: Url = None) -> list[WorkerInfo]:
    return await _list_workers(await (await pool(nats_url)).connection())


enqueue_sync = sync(enqueue)
enqueue_many_sync = sync(enqueue_many)
fetch_job_result_sync = sync(fetch_job_result)
job_status_sync = sync(job_status)
purge_queue_sync = sync(purge_queue)
list_workers_sync = sync(list_workers)
