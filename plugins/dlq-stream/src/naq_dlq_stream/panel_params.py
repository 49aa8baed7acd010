"""Bounded request parameters of the dead-letter panel: filters, cursors, ids.

Every value a request brings (query string, form or JSON) goes through here, so none is
unbounded; a bad one raises :class:`~naq_core.errors.ConfigurationError` with one line
saying what is allowed (the dashboard answers 400).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from naq_core.config import QUEUE_NAME_RE
from naq_core.errors import ConfigurationError
from naq_dlq_stream._codec import is_token
from naq_dlq_stream.filters import LetterFilter, parse_reason, parse_when

__all__ = ["FILTER_KEYS", "MAX_IDS", "MAX_TEXT", "filter_from", "filter_values", "ids_from", "int_value"]

FILTER_KEYS = ("queue", "reason", "function", "since", "until")
#: The longest text a filter value may hold.
MAX_TEXT = 200
#: The most letters one request may name.
MAX_IDS = 500


def _text(values: Mapping[str, Any], name: str) -> str | None:
    raw = values.get(name)
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise ConfigurationError(f"{name} must be text")
    if len(raw) > MAX_TEXT:
        raise ConfigurationError(f"{name} must be at most {MAX_TEXT} characters")
    return raw.strip() or None


def filter_values(values: Mapping[str, Any]) -> dict[str, str]:
    """The filter fields given (stripped, bounded), to put back in forms and links."""
    found = {name: _text(values, name) for name in FILTER_KEYS}
    return {name: value for name, value in found.items() if value is not None}


def filter_from(values: Mapping[str, Any]) -> LetterFilter:
    """A :class:`LetterFilter` from ``queue``, ``reason``, ``function``, ``since``, ``until``."""
    given = filter_values(values)
    queue = given.get("queue")
    if queue is not None and not QUEUE_NAME_RE.match(queue):
        raise ConfigurationError(f"queue must be a queue name (letters, digits, '-', '_'), not {queue!r}")
    reason, since, until = given.get("reason"), given.get("since"), given.get("until")
    return LetterFilter(
        queue=queue,
        reason=parse_reason(reason) if reason else None,
        function=given.get("function"),
        since=parse_when(since) if since else None,
        until=parse_when(until) if until else None,
    )


def int_value(values: Mapping[str, Any], name: str, default: int | None, low: int, high: int) -> int | None:
    """``values[name]`` as a whole number in ``[low, high]`` (``default`` when absent or empty)."""
    raw = values.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{name} must be a whole number from {low} to {high}") from None
    if not low <= value <= high:
        raise ConfigurationError(f"{name} must be a whole number from {low} to {high}")
    return value


def ids_from(raw: Iterable[Any]) -> list[str]:
    """Letter ids (each a subject token), at most :data:`MAX_IDS`, duplicates dropped."""
    ids = list(dict.fromkeys(raw))
    if len(ids) > MAX_IDS:
        raise ConfigurationError(f"at most {MAX_IDS} letters at once; use 'all that match' for more")
    for ident in ids:
        if not isinstance(ident, str) or not is_token(ident, limit=MAX_TEXT):
            raise ConfigurationError(f"not a dead-letter id: {str(ident)[:40]!r}")
    return ids
