"""Which dead letters an operation applies to: queue, reason, function, time window."""

from __future__ import annotations

import datetime as dt
import re
import time

from attrs import frozen

from naq_core.deadletter import DeadLetter, DeadLetterReason
from naq_core.errors import ConfigurationError

__all__ = ["LetterFilter", "parse_reason", "parse_when"]

_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_when(text: str, *, now: float | None = None) -> float:
    """A unix time from ISO 8601 (``2024-05-01``, ``2024-05-01T12:00+02:00``) or a time
    ago (``90s``, ``15m``, ``1h``, ``2d``, ``1w``). Naive ISO times are local time."""
    found = _RELATIVE.match(text)
    if found:
        return (time.time() if now is None else now) - float(found.group(1)) * _UNITS[found.group(2)]
    try:
        return dt.datetime.fromisoformat(text.strip()).timestamp()
    except ValueError:
        raise ConfigurationError(
            f"invalid time {text!r}: use ISO 8601 (2024-05-01T12:00) or a time ago (30m, 1h, 2d)"
        ) from None


def parse_reason(text: str) -> DeadLetterReason:
    """A reason by value (``"unknown task"``) or name (``unknown_task``, ``UNKNOWN-TASK``)."""
    wanted = text.strip().lower().replace("_", " ").replace("-", " ")
    for reason in DeadLetterReason:
        if reason.value == wanted:
            return reason
    known = ", ".join(repr(r.value) for r in DeadLetterReason)
    raise ConfigurationError(f"unknown reason {text!r} (known: {known})")


@frozen(kw_only=True)
class LetterFilter:
    """Letters matching every given criterion (``None`` = any). Times are unix seconds and
    apply to when the letter was dead-lettered (``last_seen``); ``until`` is exclusive."""

    queue: str | None = None
    reason: DeadLetterReason | None = None
    function: str | None = None
    since: float | None = None
    until: float | None = None

    @property
    def empty(self) -> bool:
        return all(v is None for v in (self.queue, self.reason, self.function, self.since, self.until))

    def matches(self, letter: DeadLetter) -> bool:
        return (
            (self.queue is None or letter.queue_name == self.queue)
            and (self.reason is None or letter.reason is self.reason)
            and (self.function is None or letter.function == self.function)
            and (self.since is None or letter.last_seen >= self.since)
            and (self.until is None or letter.last_seen < self.until)
        )

    def describe(self) -> str:
        """Human words for the filter (``queue=emails, reason=poison``; ``all dead letters``)."""
        parts = []
        if self.queue is not None:
            parts.append(f"queue={self.queue}")
        if self.reason is not None:
            parts.append(f"reason={self.reason.value}")
        if self.function is not None:
            parts.append(f"function={self.function}")
        for name, value in (("since", self.since), ("until", self.until)):
            if value is not None:
                parts.append(f"{name}={dt.datetime.fromtimestamp(value).isoformat(timespec='seconds')}")
        return ", ".join(parts) if parts else "all dead letters"
