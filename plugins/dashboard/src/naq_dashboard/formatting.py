"""Jinja filters every page uses: times, durations, sizes, counts, plain-word cron."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import jinja2

__all__ = ["ago", "count", "duration", "install", "size", "timestamp"]


def timestamp(value: float | None) -> str:
    """A unix time as ``2026-11-30 10:02:03 UTC`` (``—`` for none)."""
    if not value:
        return "—"
    return dt.datetime.fromtimestamp(float(value), dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def duration(seconds: float | None) -> str:
    """``0.25 s``, ``12 s``, ``3 min 4 s``, ``2 h 5 min``, ``3 d 4 h`` (``—`` for none)."""
    if seconds is None:
        return "—"
    s = float(seconds)
    if s < 0:
        s = 0.0
    if s < 10:
        return f"{s:.2f} s"
    if s < 60:
        return f"{s:.0f} s"
    if s < 3600:
        return f"{int(s // 60)} min {int(s % 60)} s"
    if s < 86400:
        return f"{int(s // 3600)} h {int(s % 3600 // 60)} min"
    return f"{int(s // 86400)} d {int(s % 86400 // 3600)} h"


def ago(value: float | None, now: float | None = None) -> str:
    """How long ago a unix time was (``12 s ago``; ``in 3 min`` for the future)."""
    if not value:
        return "—"
    delta = (time.time() if now is None else now) - float(value)
    return f"{duration(delta)} ago" if delta >= 0 else f"in {duration(-delta)}"


def size(n: int | None) -> str:
    """A byte count: ``512 B``, ``1.5 KiB``, ``3.2 MiB``."""
    if n is None:
        return "—"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def count(n: Any) -> str:
    """A count with thousands separators (``12,345``)."""
    try:
        return f"{int(n):,}"
    except (TypeError, ValueError):
        return str(n)


def install(env: jinja2.Environment) -> None:
    """Add the filters to ``env``."""
    env.filters.update(timestamp=timestamp, duration=duration, ago=ago, size=size, count=count)
