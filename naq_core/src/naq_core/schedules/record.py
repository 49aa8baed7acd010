"""The ``Schedule`` value: what ``list_schedules()`` returns and ``naq schedule list`` shows."""

from __future__ import annotations

import datetime as dt
import enum
import math
import secrets
import time
from typing import Any

from attrs import frozen

from naq_core import records
from naq_core.schedules.spec import interval_spec, next_cron_run, recurring_fields, rfc3339, schedule_id_for

__all__ = ["Schedule", "ScheduleKind", "ScheduleStatus", "recurring_schedule", "upcoming_run"]


class ScheduleKind(enum.StrEnum):
    AT = "at"  # one-off: enqueue_at / enqueue_in
    EVERY = "every"  # fixed interval
    CRON = "cron"


class ScheduleStatus(enum.StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    DONE = "done"  # a one-off fired, or a recurring schedule reached its ``repeat``


@frozen(kw_only=True)
class Schedule:
    """A registered schedule, as ``list_schedules()`` and ``naq schedule list`` show it."""

    schedule_id: str
    queue: str
    function: str
    kind: ScheduleKind
    status: ScheduleStatus = ScheduleStatus.ACTIVE
    name: str | None = None
    at: float | None = None  # unix time of a one-off
    interval: float | None = None  # seconds
    cron: str | None = None  # 6 fields, seconds first
    tz: str | None = None
    repeat: int | None = None  # stop after this many firings
    firings: int = 0
    created_at: float = 0.0
    next_run: float | None = None
    last_run: float | None = None
    last_job_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain values (enums as their values), through the records' one converter."""
        return records.to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Schedule:
        """The schedule stored as ``data``; unknown keys are ignored."""
        return records.from_dict(cls, data)

    @property
    def spec(self) -> str:
        """What NATS is told: ``@at ...``, ``@every ...`` or the cron expression."""
        if self.kind is ScheduleKind.AT:
            assert self.at is not None
            return f"@at {rfc3339(dt.datetime.fromtimestamp(self.at, dt.UTC))}"
        if self.kind is ScheduleKind.EVERY:
            assert self.interval is not None
            return interval_spec(self.interval)
        assert self.cron is not None
        return self.cron

    @property
    def recurring(self) -> bool:
        return self.kind is not ScheduleKind.AT

    def describe(self) -> str:
        """``every 30s``, ``cron 0 0 9 * * MON-FRI (Europe/Paris)`` or ``at 2026-...``."""
        if self.kind is ScheduleKind.AT:
            return self.spec.removeprefix("@")
        if self.kind is ScheduleKind.EVERY:
            return self.spec.removeprefix("@")
        return f"cron {self.cron}" + (f" ({self.tz})" if self.tz else "")

    def first_run(self, now: float) -> float | None:
        """When it fires next if (re)started at ``now``: the one-off time, or computed."""
        if self.kind is ScheduleKind.AT:
            return self.at
        if self.kind is ScheduleKind.EVERY:
            assert self.interval is not None
            return now + self.interval
        assert self.cron is not None
        return next_cron_run(self.cron, self.tz, now)


def upcoming_run(schedule: Schedule, now: float) -> float | None:
    """When the server fires ``schedule`` next, seen at ``now`` (``None`` when paused or done).

    The stored ``next_run`` moves on only when a worker takes a firing; with no worker
    running it stays behind. So a recurring schedule whose stored next run is past is
    projected forward: an interval by whole intervals from it, a cron from ``now``. A
    one-off keeps its time even when past (it is overdue, not moved). This is the next run
    ``naq schedule list`` and the dashboard show.
    """
    if schedule.status is not ScheduleStatus.ACTIVE or schedule.next_run is None:
        return None
    nxt = schedule.next_run
    if nxt >= now or schedule.kind is ScheduleKind.AT:
        return nxt
    if schedule.kind is ScheduleKind.EVERY and schedule.interval:
        return nxt + math.ceil((now - nxt) / schedule.interval) * schedule.interval
    if schedule.cron:
        return next_cron_run(schedule.cron, schedule.tz, now)
    return nxt


def recurring_schedule(
    queue: str,
    *,
    cron: str | None,
    interval: float | dt.timedelta | None,
    repeat: int | None,
    tz: str | None,
    name: str | None,
) -> Schedule:
    """The checked ``Schedule`` of ``schedule(cron=... | interval=..., ...)`` on ``queue``.

    A ``name`` is its id; without one the id is random. The function is filled in when the
    schedule is registered with its job.
    """
    fields = recurring_fields(cron, interval, repeat, tz)
    kind = ScheduleKind(fields.pop("kind"))
    schedule_id = schedule_id_for(name) if name else f"s{secrets.token_hex(8)}"
    return Schedule(
        schedule_id=schedule_id,
        queue=queue,
        function="",
        kind=kind,
        name=name,
        created_at=time.time(),
        **fields,
    )
