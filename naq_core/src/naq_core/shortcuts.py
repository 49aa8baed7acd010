"""Module-level shortcuts with the original naq's names: ``await enqueue(...)``, ``enqueue_sync(...)``.

Each async shortcut is a thin delegate to a :class:`~naq_core.queue.Queue` method, taking
``queue_name=`` and ``nats_url=`` besides the method's own arguments. They keep one
connection per (running event loop, ``nats_url``): the first call in a loop connects, later
calls reuse it. It is closed when the loop is shut down by :func:`asyncio.run` (or
``asyncio.Runner``), or earlier with ``await close_connections()``. Configuration (files,
``NAQ_*``) is read once per loop and URL.

Each ``*_sync`` twin takes the same arguments as its async shortcut and runs it on a
:class:`~naq_core.client.NaqClient`: the process's default client when ``nats_url`` is not
given, else one cached client per URL (``close_sync_connections()`` closes them). They work
the same on the thousandth call as on the first, from any thread. ``NaqClient``'s methods
are the same shortcuts run on that client.

Schedule ids are unique across queues, so the shortcuts that take one find the schedule
whatever its queue; they accept ``queue_name=`` only so that calls written for the original
naq keep working. ``naq_core`` and ``naq_core.helpers`` export every name of ``__all__``.
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, ParamSpec

from naq_core._client_cache import Url, close_clients, close_connections, pool, queue, sync
from naq_core._resultwait import check_timeout
from naq_core.heartbeat import WorkerInfo
from naq_core.heartbeat import list_workers as _list_workers
from naq_core.job import Job, JobStatus
from naq_core.schedules.record import Schedule

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

Delay = float | dt.timedelta
P = ParamSpec("P")


def close_sync_connections() -> None:
    """Close the clients the ``*_sync`` shortcuts use, the default one too (the next call
    opens new ones)."""
    close_clients()


# --- jobs ----------------------------------------------------------------------------------------


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
    return await (await queue(None, nats_url)).job_status(job_id)  # a Job: exact


async def purge_queue(queue_name: str | None = None, nats_url: Url = None) -> int:
    """Delete every job waiting in the queue; returns how many were removed."""
    return await (await queue(queue_name, nats_url)).purge()


async def list_workers(nats_url: Url = None) -> list[WorkerInfo]:
    """Every live worker (from the heartbeat bucket)."""
    return await _list_workers(await (await pool(nats_url)).connection())


# --- scheduled jobs ------------------------------------------------------------------------------

#: For each one-off shortcut: its first parameter, and the original naq's keyword for it.
_FIRST_NAMES = {"enqueue_at": ("when", "dt"), "enqueue_in": ("delay", "delta")}


def first_arguments(
    where: str, first: Any, func: Callable[..., Any] | str | None, options: dict[str, Any]
) -> tuple[Any, Callable[..., Any] | str]:
    """``(when or delay, func)`` of ``where``, taking the original naq's keyword (with a warning).

    Called in the caller's thread by the blocking twins, so that the warning names the caller.
    """
    if first is not None and func is not None:
        return first, func
    from naq_core.compat import first_argument  # compat uses NaqClient: not at the top

    new, old = _FIRST_NAMES[where]
    return first_argument(first, func, options, where=where, new=new, old=old)


async def enqueue_at(
    when: dt.datetime | None = None,
    func: Callable[..., Any] | str | None = None,
    *args: Any,
    queue_name: str | None = None,
    nats_url: Url = None,
    **options: Any,
) -> Job:
    """Run ``func`` once at ``when`` (naive datetimes are UTC); options as for ``enqueue``.

    The job's id is also its schedule's id. ``dt=`` (the original naq's name for ``when``)
    works until naq 1.0, with a warning.
    """
    when, func = first_arguments("enqueue_at", when, func, options)
    return await (await queue(queue_name, nats_url)).enqueue_at(when, func, *args, **options)


async def enqueue_in(
    delay: Delay | None = None,
    func: Callable[..., Any] | str | None = None,
    *args: Any,
    queue_name: str | None = None,
    nats_url: Url = None,
    **options: Any,
) -> Job:
    """Run ``func`` once after ``delay`` (seconds or a ``timedelta``).

    ``delta=`` (the original naq's name for ``delay``) works until naq 1.0, with a warning.
    """
    delay, func = first_arguments("enqueue_in", delay, func, options)
    return await (await queue(queue_name, nats_url)).enqueue_in(delay, func, *args, **options)


async def schedule(
    func: Callable[..., Any] | str,
    *args: Any,
    cron: str | None = None,
    interval: Delay | None = None,
    repeat: int | None = None,
    tz: str | None = None,
    name: str | None = None,
    queue_name: str | None = None,
    nats_url: Url = None,
    **options: Any,
) -> Schedule:
    """A recurring job on ``cron`` (5 or 6 fields, ``tz``) or every ``interval`` seconds.

    See :meth:`Queue.schedule <naq_core.queue.Queue.schedule>`: ``repeat`` stops after that
    many firings, ``name`` is the schedule's id (registering it again replaces it).
    """
    spec: dict[str, Any] = {"cron": cron, "interval": interval, "repeat": repeat, "tz": tz, "name": name}
    return await (await queue(queue_name, nats_url)).schedule(func, *args, **spec, **options)


async def list_schedules(queue_name: str | None = None, nats_url: Url = None) -> list[Schedule]:
    """Every schedule of every queue (or of ``queue_name``), soonest next run first."""
    return await (await queue(queue_name, nats_url)).list_schedules(all_queues=queue_name is None)


async def get_schedule(schedule_id: str, nats_url: Url = None) -> Schedule:
    """One schedule by id; raises ``JobNotFoundError`` if there is none."""
    return await (await queue(None, nats_url)).get_schedule(schedule_id)


async def cancel_scheduled_job(
    schedule_id: str, queue_name: str | None = None, nats_url: Url = None
) -> Schedule:
    """Stop a schedule for good; firings still waiting in the queue are skipped.

    A one-off that has not fired is recorded ``cancelled``.
    """
    return await (await queue(queue_name, nats_url)).cancel_scheduled_job(schedule_id)


async def pause_scheduled_job(
    schedule_id: str, queue_name: str | None = None, nats_url: Url = None
) -> Schedule:
    """Nothing fires until it is resumed (firings already queued still run)."""
    return await (await queue(queue_name, nats_url)).pause_scheduled_job(schedule_id)


async def resume_scheduled_job(
    schedule_id: str, queue_name: str | None = None, nats_url: Url = None
) -> Schedule:
    """Fire again from the next due time; runs missed while paused are skipped."""
    return await (await queue(queue_name, nats_url)).resume_scheduled_job(schedule_id)


async def modify_scheduled_job(
    schedule_id: str,
    queue_name: str | None = None,
    nats_url: Url = None,
    *,
    cron: str | None = None,
    interval: Delay | None = None,
    next_run: dt.datetime | None = None,
    repeat: int | None = None,
    tz: str | None = None,
    scheduled_timestamp_utc: float | None = None,
) -> Schedule:
    """A new cron (and ``tz``), interval or one-off ``next_run``, and/or a new ``repeat``.

    ``scheduled_timestamp_utc`` (a unix time) is the original naq's name for ``next_run``.
    """
    if scheduled_timestamp_utc is not None:
        if next_run is not None:
            raise ValueError("give next_run= or scheduled_timestamp_utc=, not both")
        next_run = dt.datetime.fromtimestamp(scheduled_timestamp_utc, dt.UTC)
    return await (await queue(queue_name, nats_url)).modify_scheduled_job(
        schedule_id, cron=cron, interval=interval, next_run=next_run, repeat=repeat, tz=tz
    )


async def run_scheduled_job_now(schedule_id: str, nats_url: Url = None) -> Job:
    """Enqueue one run now, as a job of its own; the schedule itself is unchanged."""
    return await (await queue(None, nats_url)).run_scheduled_job_now(schedule_id)


# --- the blocking twins --------------------------------------------------------------------------


def _one_off_sync(func: Callable[P, Awaitable[Job]]) -> Callable[P, Job]:
    """The ``*_sync`` twin of ``enqueue_at`` / ``enqueue_in``: the original naq's keyword
    (``dt=``, ``delta=``) is taken in the caller's thread, so that its warning names the caller."""
    twin = sync(func)
    signature = inspect.signature(func)
    first, second = list(signature.parameters)[:2]

    @functools.wraps(twin)
    def one_off(*args: P.args, **kwargs: P.kwargs) -> Job:
        bound = signature.bind(*args, **kwargs)
        given = bound.arguments
        options = given.setdefault("options", {})
        given[first], given[second] = first_arguments(
            func.__name__, given.get(first), given.get(second), options
        )
        return twin(*bound.args, **bound.kwargs)

    return one_off


enqueue_sync = sync(enqueue)
enqueue_many_sync = sync(enqueue_many)
fetch_job_result_sync = sync(fetch_job_result)
job_status_sync = sync(job_status)
purge_queue_sync = sync(purge_queue)
list_workers_sync = sync(list_workers)
enqueue_at_sync = _one_off_sync(enqueue_at)
enqueue_in_sync = _one_off_sync(enqueue_in)
schedule_sync = sync(schedule)
list_schedules_sync = sync(list_schedules)
get_schedule_sync = sync(get_schedule)
cancel_scheduled_job_sync = sync(cancel_scheduled_job)
pause_scheduled_job_sync = sync(pause_scheduled_job)
resume_scheduled_job_sync = sync(resume_scheduled_job)
modify_scheduled_job_sync = sync(modify_scheduled_job)
run_scheduled_job_now_sync = sync(run_scheduled_job_now)
