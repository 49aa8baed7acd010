"""The scheduling half of :class:`~naq_core.queue.Queue`: delays, times, intervals, cron."""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from naq_core import _schedules
from naq_core.job import Job
from naq_core.schedules import (
    Schedule,
    ScheduleKind,
    as_utc,
    cron_spec,
    interval_spec,
    schedule_id_for,
)

if TYPE_CHECKING:
    from naq_core._jetstream.connection import Connection

__all__ = ["SchedulingMixin"]


def _seconds(value: float | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


class SchedulingMixin:
    """Scheduled jobs run by the NATS server itself: no scheduler process, no polling."""

    # Provided by Queue.
    name: str
    connection: Callable[[], Awaitable[Connection]]
    prepare: Callable[..., Job]

    def _scheduled_job(
        self, func: Callable[..., Any] | str, args: tuple[Any, ...], options: dict[str, Any]
    ) -> Job:
        if options.get("depends_on") is not None:
            raise ValueError(
                "depends_on cannot be combined with a schedule; enqueue the dependent when it fires"
            )
        return self.prepare(func, *args, **options)

    async def enqueue_at(
        self,
        when: dt.datetime | None = None,
        func: Callable[..., Any] | str | None = None,
        *args: Any,
        **options: Any,
    ) -> Job:
        """Run ``func`` once at ``when`` (naive datetimes are UTC; a past time runs at once).

        Takes every option :meth:`enqueue` takes. The returned job's id is also the
        schedule's id (cancel it with :meth:`cancel_scheduled_job`); a caller-given
        ``job_id`` registered twice replaces the first. ``dt=`` (the original naq's name
        for ``when``) still works until naq 1.0, with a warning.
        """
        from naq_core.compat import first_argument  # accepts dt= (not imported at the top: a cycle)

        moment, run = first_argument(when, func, options, where="enqueue_at", new="when", old="dt")
        job = self._scheduled_job(run, args, options)
        at = as_utc(moment).timestamp()
        schedule = Schedule(
            schedule_id=job.job_id, queue=self.name, function=job.function, kind=ScheduleKind.AT, at=at
        )
        await _schedules.register(await self.connection(), job, schedule)
        return job

    async def enqueue_in(
        self,
        delay: float | dt.timedelta | None = None,
        func: Callable[..., Any] | str | None = None,
        *args: Any,
        **options: Any,
    ) -> Job:
        """Run ``func`` once after ``delay`` (seconds or a ``timedelta``).

        ``delta=`` (the original naq's name for ``delay``) still works until naq 1.0, with a
        warning.
        """
        from naq_core.compat import first_argument  # accepts delta= (not imported at the top: a cycle)

        after, run = first_argument(delay, func, options, where="enqueue_in", new="delay", old="delta")
        when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=_seconds(after))
        return await self.enqueue_at(when, run, *args, **options)

    async def schedule(
        self,
        func: Callable[..., Any] | str,
        *args: Any,
        cron: str | None = None,
        interval: float | dt.timedelta | None = None,
        repeat: int | None = None,
        tz: str | None = None,
        name: str | None = None,
        **options: Any,
    ) -> Schedule:
        """Run ``func`` on a cron expression or every ``interval``; each firing is a job.

        ``cron`` takes 5 fields (minute first) or 6 (second first), or ``@hourly`` & co;
        ``tz`` (an IANA name) applies to cron only. ``interval`` is at least one second.
        ``repeat`` stops after that many firings. A ``name`` is the schedule's id:
        registering the same name again (from any process) replaces the schedule.
        """
        if (cron is None) == (interval is None):
            raise ValueError("schedule() takes exactly one of cron= or interval=")
        if tz is not None and cron is None:
            raise ValueError("tz applies to cron schedules only")
        if repeat is not None and repeat < 1:
            raise ValueError(f"repeat must be at least 1, got {repeat}")
        if cron is not None:
            spec_fields: dict[str, Any] = {"kind": ScheduleKind.CRON, "cron": cron_spec(cron, tz), "tz": tz}
        else:
            assert interval is not None
            seconds = _seconds(interval)
            interval_spec(seconds)  # validates: at least one second
            spec_fields = {"kind": ScheduleKind.EVERY, "interval": seconds}
        schedule_id = schedule_id_for(name) if name else f"s{secrets.token_hex(8)}"
        job = self._scheduled_job(func, args, options)
        schedule = Schedule(
            schedule_id=schedule_id,
            queue=self.name,
            function=job.function,
            name=name,
            repeat=repeat,
            created_at=time.time(),
            **spec_fields,
        )
        return await _schedules.register(await self.connection(), job, schedule)

    # --- managing schedules ---------------------------------------------------------

    async def list_schedules(self, *, all_queues: bool = False) -> list[Schedule]:
        """This queue's schedules (every queue's with ``all_queues=True``)."""
        return await _schedules.list_schedules(await self.connection(), None if all_queues else self.name)

    async def get_schedule(self, schedule_id: str) -> Schedule:
        """One schedule by id; raises ``JobNotFoundError`` (``no schedule 'x'``) if unknown."""
        return await _schedules.get(await self.connection(), schedule_id)

    async def cancel_scheduled_job(self, schedule_id: str) -> Schedule:
        """Stop a schedule for good; firings still waiting in the queue are skipped.

        A one-off that has not fired is recorded ``cancelled``.
        """
        return await _schedules.cancel(await self.connection(), schedule_id)

    async def pause_scheduled_job(self, schedule_id: str) -> Schedule:
        """Stop firing until :meth:`resume_scheduled_job` (firings already queued still run)."""
        return await _schedules.pause(await self.connection(), schedule_id)

    async def resume_scheduled_job(self, schedule_id: str) -> Schedule:
        """Fire again from the next due time (runs missed while paused are skipped)."""
        return await _schedules.resume(await self.connection(), schedule_id)

    async def modify_scheduled_job(
        self,
        schedule_id: str,
        *,
        cron: str | None = None,
        interval: float | dt.timedelta | None = None,
        next_run: dt.datetime | None = None,
        repeat: int | None = None,
        tz: str | None = None,
    ) -> Schedule:
        """Give a schedule a new cron, interval or (one-off) next run, or a new ``repeat``."""
        changes: dict[str, Any] = {}
        if sum(x is not None for x in (cron, interval, next_run)) > 1:
            raise ValueError("modify takes one of cron=, interval= or next_run=")
        if cron is not None:
            changes.update(cron=cron_spec(cron, tz), tz=tz)
        elif interval is not None:
            seconds = _seconds(interval)
            interval_spec(seconds)
            changes["interval"] = seconds
        elif next_run is not None:
            changes["at"] = as_utc(next_run).timestamp()
        if repeat is not None:
            changes["repeat"] = repeat
        if not changes:
            raise ValueError("nothing to modify: give cron=, interval=, next_run= or repeat=")
        return await _schedules.modify(await self.connection(), schedule_id, **changes)

    async def run_scheduled_job_now(self, schedule_id: str) -> Job:
        """Enqueue one run now, as a job of its own; the schedule itself is unchanged."""
        return await _schedules.run_now(await self.connection(), schedule_id)
