"""Scheduled jobs: the ``Schedule`` record and the rules for times, intervals and cron.

naq keeps no scheduler process. A schedule is a message on ``naq.sched.<queue>.<id>`` in the
jobs stream carrying NATS's ``Nats-Schedule`` header (``@at``, ``@every`` or a 6-field cron,
NATS 2.12+ / 2.14+); the server publishes the job onto the queue when it is due. This module
holds the pure parts: validation, formatting, and the ``Schedule`` value that
``list_schedules`` returns.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import zoneinfo
from typing import Any

import attrs
from attrs import frozen

__all__ = [
    "Schedule",
    "ScheduleKind",
    "ScheduleStatus",
    "as_utc",
    "cron_spec",
    "interval_spec",
    "next_cron_run",
    "rfc3339",
    "schedule_id_for",
]

_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
_MACROS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")


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
        data = attrs.asdict(self)
        data["kind"], data["status"] = self.kind.value, self.status.value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Schedule:
        fields = {f.name for f in attrs.fields(cls)}
        values = {k: v for k, v in data.items() if k in fields}
        values["kind"] = ScheduleKind(values["kind"])
        values["status"] = ScheduleStatus(values.get("status", "active"))
        return cls(**values)

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


def schedule_id_for(name: str) -> str:
    """A name is the id of a named schedule: registering it twice replaces it."""
    if not _NAME_RE.match(name):
        raise ValueError(f"schedule name {name!r}: use 1-100 letters, digits, '_' or '-'")
    return name


def as_utc(when: dt.datetime) -> dt.datetime:
    """Aware datetimes are converted; naive ones are taken as UTC (documented)."""
    if when.tzinfo is None:
        return when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC)


def rfc3339(when: dt.datetime) -> str:
    """``2026-11-28T21:55:15.250Z`` (milliseconds, UTC), as NATS's ``@at`` takes it."""
    utc = as_utc(when)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def interval_spec(seconds: float) -> str:
    """``@every 90s`` / ``@every 1500ms``; under one second is refused (NATS's minimum)."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 1:
        raise ValueError(f"interval must be at least 1 second (NATS's minimum), got {seconds!r}")
    if float(seconds).is_integer():
        return f"@every {int(seconds)}s"
    return f"@every {round(seconds * 1000)}ms"


def cron_spec(expression: str, tz: str | None = None) -> str:
    """Validate ``expression`` and return NATS's 6-field form (seconds first).

    A 5-field cron (minute first) gets ``0`` seconds in front; ``@hourly`` and the other
    macros pass as they are. Raises ``ValueError`` naming what is wrong.
    """
    from croniter import croniter

    text = " ".join(str(expression).split())
    if text in _MACROS:
        spec = text
    else:
        fields = text.split(" ")
        if len(fields) == 5:
            fields.insert(0, "0")
        if len(fields) != 6:
            raise ValueError(
                f"cron {expression!r} has {len(text.split())} fields; use 5 (minute hour day month "
                "weekday) or 6 (second first)"
            )
        spec = " ".join(fields)
        if not croniter.is_valid(spec, second_at_beginning=True):
            raise ValueError(f"cron {expression!r} is not a valid cron expression")
    if tz is not None:
        try:
            zoneinfo.ZoneInfo(tz)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {tz!r} (use an IANA name like 'Europe/Paris')") from None
    return spec


def next_cron_run(spec: str, tz: str | None, after: float) -> float | None:
    """The next firing after ``after`` (unix time), as croniter computes it (for display)."""
    from croniter import croniter

    zone = zoneinfo.ZoneInfo(tz) if tz else dt.UTC
    base = dt.datetime.fromtimestamp(after, zone)
    try:
        nxt = croniter(spec, base, second_at_beginning=True).get_next(dt.datetime)
    except (ValueError, KeyError):
        return None
    return float(nxt.timestamp())
