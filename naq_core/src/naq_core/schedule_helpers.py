"""Module-level helpers for scheduled jobs, with the original naq's names.

``await enqueue_at(when, func, ...)``, ``enqueue_in``, ``schedule``, ``list_schedules``,
``get_schedule``, ``cancel_scheduled_job``, ``pause_scheduled_job``,
``resume_scheduled_job``, ``modify_scheduled_job``, ``run_scheduled_job_now``, and a
``*_sync`` twin of each taking the same arguments. They share the connections of
:mod:`naq_core.helpers` (one per event loop and URL for the async ones, a
:class:`~naq_core.client.NaqClient` per URL for the sync ones), which also re-exports them.

Schedule ids are unique across queues, so the helpers that take an id find the schedule
whatever its queue; they accept ``queue_name=`` only so that calls written for the original
naq keep working.
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, ParamSpec

from naq_core._shared import Url, queue, sync

if TYPE_CHECKING:
    from naq_core.job import Job
    from naq_core.schedules import Schedule

__all__ = [
    "cancel_scheduled_job",
    "cancel_scheduled_job_sync",
    "enqueue_at",
    "enqueue_at_sync",
    "enqueue_in",
    "enqueue_in_sync",
    "get_schedule",
    "get_schedule_sync",
    "list_schedules",
    "list_schedules_sync",
    "modify_scheduled_job",
    "modify_scheduled_job_sync",
    "pause_scheduled_job",
    "pause_scheduled_job_sync",
    "resume_scheduled_job",
    "resume_scheduled_job_sync",
    "run_scheduled_job_now",
    "run_scheduled_job_now_sync",
    "schedule",
    "schedule_sync",
]

Delay = float | dt.timedelta
P = ParamSpec("P")


def _changes(
    cron: str | None,
    interval: Delay | None,
    next_run: dt.datetime | None,
    repeat: int | None,
    tz: str | None,
    scheduled_timestamp_utc: float | None,
) -> dict[str, Any]:
    if scheduled_timestamp_utc is not None:  # the original naq's name for the next run
        if next_run is not None:
            raise ValueError("give next_run= or scheduled_timestamp_utc=, not both")
        next_run = dt.datetime.fromtimestamp(scheduled_timestamp_utc, dt.UTC)
    return {"cron": cron, "interval": interval, "next_run": next_run, "repeat": repeat, "tz": tz}


# --- async ---------------------------------------------------------------------------------------


async def enqueue_at(
    when: dt.datetime | None = None,
    func: Callable[..., Any] | str | None = None,
    *args: Any,
    queue_name: str | None = None,
    nats_url: Url = None,
    **options: Any,
) -> Job:
    """Run ``func`` once at ``when`` (naive datetimes are UTC); options as for ``enqueue``.

    ``dt=`` (the original naq's name for ``when``) works until naq 1.0, with a warning.
    """
    when, func = _first_arguments("enqueue_at", when, func, options)
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
    delay, func = _first_arguments("enqueue_in", delay, func, options)
    return await (await queue(queue_name, nats_url)).enqueue_in(delay, func, *args, **options)


#: For each one-off helper: its first parameter, and the original naq's keyword for it.
_FIRST_NAMES = {"enqueue_at": ("when", "dt"), "enqueue_in": ("delay", "delta")}


def _first_arguments(
    where: str, first: Any, func: Callable[..., Any] | str | None, options: dict[str, Any]
) -> tuple[Any, Callable[..., Any] | str]:
    """``(when or delay, func)`` of ``where``, taking the original naq's keyword (with a warning)."""
    if first is not None and func is not None:
        return first, func
    from naq_core.compat import first_argument

    new, old = _FIRST_NAMES[where]
    return first_argument(first, func, options, where=where, new=new, old=old)


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
    """A recurring job on ``cron`` or every ``interval``; see ``Queue.schedule``."""
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
    """Stop a schedule for good; firings still waiting in the queue are skipped."""
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
    changes = _changes(cron, interval, next_run, repeat, tz, scheduled_timestamp_utc)
    return await (await queue(queue_name, nats_url)).modify_scheduled_job(schedule_id, **changes)


async def run_scheduled_job_now(schedule_id: str, nats_url: Url = None) -> Job:
    """Enqueue one run now, as a job of its own; the schedule itself is unchanged."""
    return await (await queue(None, nats_url)).run_scheduled_job_now(schedule_id)


# --- sync: the same arguments, through a NaqClient ----------------------------------------------


def _one_off_sync(func: Callable[P, Awaitable[Job]]) -> Callable[P, Job]:
    """The ``*_sync`` twin of ``enqueue_at`` / ``enqueue_in``.

    The original naq's keyword (``dt=``, ``delta=``) is taken here, in the caller's thread, so
    that its warning names the caller; the twin of :func:`sync` runs ``func`` on another.
    """
    twin = sync(func)
    signature = inspect.signature(func)
    first, second = list(signature.parameters)[:2]

    @functools.wraps(twin)
    def one_off(*args: P.args, **kwargs: P.kwargs) -> Job:
        bound = signature.bind(*args, **kwargs)
        given = bound.arguments
        options = given.setdefault("options", {})
        given[first], given[second] = _first_arguments(
            func.__name__, given.get(first), given.get(second), options
        )
        return twin(*bound.args, **bound.kwargs)

    return one_off


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
