"""The pure rules of schedules: times, intervals, cron, names and the arguments that say them.

No I/O: everything here validates or converts, raising ``ValueError`` that names what is
wrong, so a bad schedule is refused when it is asked for rather than when NATS sees it.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import zoneinfo
from typing import Any

from naq_core.job import MAX_SECONDS

__all__ = [
    "as_utc",
    "cron_spec",
    "interval_spec",
    "modify_changes",
    "next_cron_run",
    "parse_next",
    "recurring_fields",
    "rfc3339",
    "schedule_id_for",
    "seconds",
]

_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,100}\Z")  # \Z: "$" would accept a trailing newline
_MACROS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")


def schedule_id_for(name: str) -> str:
    """A name is the id of a named schedule: registering it twice replaces it."""
    if not _NAME_RE.match(name):
        raise ValueError(f"schedule name {name!r}: use 1-100 letters, digits, '_' or '-'")
    return name


def seconds(value: float | dt.timedelta) -> float:
    """Seconds from a number or a ``timedelta``: finite, at most :data:`MAX_SECONDS` either way."""
    if isinstance(value, dt.timedelta):
        number = value.total_seconds()
    elif isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"seconds must be a number or a timedelta, got {value!r}")
    else:
        try:
            number = float(value)
        except OverflowError:
            raise ValueError(f"seconds too large: {str(value)[:40]}") from None
    if not math.isfinite(number) or abs(number) > MAX_SECONDS:
        raise ValueError(f"seconds must be finite and at most {MAX_SECONDS:.0f} (10 years), got {value!r}")
    return number


def _check_repeat(repeat: int | None) -> None:
    if repeat is not None and (isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1):
        raise ValueError(f"repeat must be at least 1 (a whole number), got {repeat!r}")


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
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 1 <= seconds <= MAX_SECONDS:
        raise ValueError(
            f"interval must be at least 1 second (NATS's minimum) and at most {MAX_SECONDS:.0f}, "
            f"got {seconds!r}"
        )
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


def parse_next(header: str) -> float | None:
    """The unix time in NATS's ``Nats-Schedule-Next`` header, or ``None`` if it holds none."""
    try:
        return dt.datetime.fromisoformat(header.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def recurring_fields(
    cron: str | None, interval: float | dt.timedelta | None, repeat: int | None, tz: str | None
) -> dict[str, Any]:
    """The ``Schedule`` fields of ``schedule(cron=... | interval=..., repeat=, tz=)``, checked."""
    if (cron is None) == (interval is None):
        raise ValueError("schedule() takes exactly one of cron= or interval=")
    if tz is not None and cron is None:
        raise ValueError("tz applies to cron schedules only")
    _check_repeat(repeat)
    if cron is not None:
        return {"kind": "cron", "cron": cron_spec(cron, tz), "tz": tz, "repeat": repeat}
    assert interval is not None
    every = seconds(interval)
    interval_spec(every)  # validates: at least one second
    return {"kind": "every", "interval": every, "repeat": repeat}


def modify_changes(
    *,
    cron: str | None = None,
    interval: float | dt.timedelta | None = None,
    next_run: dt.datetime | None = None,
    repeat: int | None = None,
    tz: str | None = None,
) -> dict[str, Any]:
    """The record fields ``modify_scheduled_job`` changes, checked."""
    if sum(x is not None for x in (cron, interval, next_run)) > 1:
        raise ValueError("modify takes one of cron=, interval= or next_run=")
    changes: dict[str, Any] = {}
    if cron is not None:
        changes.update(cron=cron_spec(cron, tz), tz=tz)
    elif interval is not None:
        every = seconds(interval)
        interval_spec(every)
        changes["interval"] = every
    elif next_run is not None:
        changes["at"] = as_utc(next_run).timestamp()
    if repeat is not None:
        _check_repeat(repeat)
        changes["repeat"] = repeat
    if not changes:
        raise ValueError("nothing to modify: give cron=, interval=, next_run= or repeat=")
    return changes
