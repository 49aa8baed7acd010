"""Reading ``naq_dlq`` a page at a time, newest first, without scanning the whole stream.

Used by the dashboard's dead-letter panel (and its API). Letters are read with JetStream
*direct gets* in batches (``$JS.API.DIRECT.GET.naq_dlq`` with ``{"seq": n, "batch": k}``):
no consumer is created, and every function here makes a bounded number of requests
whatever the size of the stream. A queue filter becomes a subject filter on the server;
reason, function and time are checked on the letters read. ``since`` also starts the walk
at the first letter stored at or after it (one request), since a letter is stored after
it died.

Walking newest first goes backwards through windows of stream sequences, each read
forward; a page stops after :data:`PAGE_REQUESTS` requests and says it was cut short, with
a cursor to go on from.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import Counter
from typing import TYPE_CHECKING, Any

import nats.js.errors
from attrs import frozen

from naq_core.config import QUEUE_NAME_RE
from naq_core.logconfig import get_logger
from naq_dlq_stream._codec import DLQ_STREAM, DLQ_SUBJECTS, StoredLetter, decode, subject_for
from naq_dlq_stream.filters import LetterFilter

if TYPE_CHECKING:
    from naq_core.jetstream import Connection

__all__ = [
    "GROUP_WINDOW",
    "PAGE_REQUESTS",
    "Groups",
    "LetterPage",
    "group_letters",
    "read_page",
    "snapshot",
    "stream_state",
]

#: Direct-get requests one page may make before it says it was cut short.
PAGE_REQUESTS = 64
#: How many of the newest matching letters the grouping counts (and how many it examines at most).
GROUP_WINDOW = 1000
_MAX_WINDOW = 1024  # stream sequences one backward step covers at most
_MIN_WINDOW = 32
_MAX_BYTES = 4 * 1024 * 1024  # bytes one direct-get answer may carry
_TIMEOUT = 5.0


@frozen(kw_only=True)
class LetterPage:
    """Letters newest first, and where the next (older) page starts."""

    letters: list[StoredLetter]
    #: Cursor of the next page (``before=`` this stream sequence), ``None`` at the end.
    next_before: int | None
    #: ``True`` when the walk stopped at its request budget before the end of the stream.
    cut_short: bool
    #: How many letters were read to make this page.
    examined: int
    #: Letters in the stream (all of them, whatever the filter).
    total: int


@frozen(kw_only=True)
class Groups:
    """Counts by function and by error type over the newest matching letters."""

    by_function: list[tuple[str, int]]
    by_error: list[tuple[str, int]]
    counted: int
    examined: int
    #: ``True`` when there may be more matching letters than were counted.
    partial: bool


def _subject(where: LetterFilter) -> str:
    if where.queue and QUEUE_NAME_RE.match(where.queue):
        return subject_for(where.queue, "*")
    return DLQ_SUBJECTS


def _stamp(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    head, _, frac = text.rstrip("Z").partition(".")
    try:
        return dt.datetime.fromisoformat(f"{head}.{(frac or '0')[:6]:0<6}+00:00")
    except ValueError:
        return None


async def _batch(conn: Connection, request: dict[str, Any]) -> tuple[list[StoredLetter], int, int]:
    """One batch direct get: ``(letters, sequence of the last message read (0: none), pending after it)``.

    Messages that are not letters are skipped (and counted as read). The reply inbox's
    subscription is removed however the call ends.
    """
    nc = conn.nc
    inbox = nc.new_inbox()
    sub = await nc.subscribe(inbox)
    letters: list[StoredLetter] = []
    last, pending = 0, 0
    try:
        await nc.publish(f"$JS.API.DIRECT.GET.{DLQ_STREAM}", json.dumps(request).encode(), reply=inbox)
        while True:
            msg = await sub.next_msg(timeout=_TIMEOUT)
            headers = msg.headers or {}
            status = headers.get("Status")
            if status == "204":  # end of the batch
                pending = int(headers.get("Nats-Num-Pending", 0) or 0)
                break
            if status is not None:  # 404: nothing at or after seq; anything else: nothing either
                break
            seq = int(headers.get("Nats-Sequence", 0) or 0)
            last = seq
            subject = headers.get("Nats-Subject", "")
            try:
                stamp = _stamp(headers.get("Nats-Time-Stamp"))
                letters.append(decode(subject, seq, headers, msg.data, stamp))
            except (KeyError, ValueError, TypeError):
                get_logger(__name__).warning("dlq_foreign_message", subject=subject, seq=seq)
    finally:
        await sub.unsubscribe()
    return letters, last, pending


async def stream_state(conn: Connection) -> tuple[int, int, int]:
    """``(first sequence, last sequence, letters)`` of the stream; zeros when it does not exist."""
    try:
        info = await conn.js.stream_info(DLQ_STREAM)
    except nats.js.errors.NotFoundError:
        return 0, 0, 0
    state = info.state
    return int(state.first_seq or 0), int(state.last_seq or 0), int(state.messages or 0)


async def _floor(conn: Connection, where: LetterFilter, first: int) -> int:
    """The lowest sequence that can hold a match: the first letter stored at or after ``since``."""
    if where.since is None:
        return first
    start = dt.datetime.fromtimestamp(where.since, dt.UTC).isoformat().replace("+00:00", "Z")
    _, seq, _ = await _batch(conn, {"start_time": start, "batch": 1, "next_by_subj": _subject(where)})
    return max(first, seq) if seq else -1  # -1: nothing stored since then


async def _window(
    conn: Connection, where: LetterFilter, lo: int, hi: int, budget: int
) -> tuple[list[StoredLetter], int, int, bool]:
    """Letters with ``lo <= seq <= hi``, read forward: ``(letters, read, requests, complete)``."""
    found: list[StoredLetter] = []
    seq, read, requests = lo, 0, 0
    while seq <= hi:
        if requests >= budget:
            return found, read, requests, False
        request: dict[str, Any] = {"seq": seq, "batch": hi - seq + 1, "max_bytes": _MAX_BYTES}
        request["next_by_subj"] = _subject(where)
        letters, got, pending = await _batch(conn, request)
        requests += 1
        inside = [s for s in letters if s.seq <= hi]
        read += len(inside)
        found.extend(inside)
        if not got or got >= hi or pending == 0:
            break
        seq = got + 1
    return found, read, requests, True


async def read_page(
    conn: Connection,
    where: LetterFilter,
    *,
    before: int | None = None,
    limit: int = 50,
    requests: int = PAGE_REQUESTS,
) -> LetterPage:
    """The newest ``limit`` letters matching ``where`` with a sequence below ``before``."""
    first, last, total = await stream_state(conn)
    upper = last if before is None else min(last, before - 1)
    floor = await _floor(conn, where, first) if total else -1
    used = 1 if where.since is not None else 0
    matched: list[StoredLetter] = []  # newest first
    examined, covered = 0, upper + 1  # every sequence >= covered was read
    density = total / max(1, last - first + 1) if total else 1.0
    window = _MIN_WINDOW
    hi = upper
    cut = False
    while floor >= 0 and hi >= floor and len(matched) <= limit:
        wanted = limit + 1 - len(matched)
        window = max(window, min(_MAX_WINDOW, math.ceil(wanted / max(density, 1e-6))))
        lo = max(floor, hi - window + 1)
        letters, read, made, complete = await _window(conn, where, lo, hi, requests - used)
        used += made
        if not complete:
            cut = True
            break
        examined += read
        hits = [s for s in letters if where.matches(s.letter)]
        matched.extend(reversed(hits))
        covered = lo
        if not hits:
            window = min(_MAX_WINDOW, window * 2)  # a gap or rare matches: look further back at once
        hi = lo - 1
        if used >= requests and hi >= floor and len(matched) <= limit:
            cut = True
            break
    if len(matched) > limit:
        matched = matched[:limit]
        return LetterPage(
            letters=matched, next_before=matched[-1].seq, cut_short=False, examined=examined, total=total
        )
    more = cut and covered > max(floor, 1)
    return LetterPage(
        letters=matched,
        next_before=covered if more else None,
        cut_short=more,
        examined=examined,
        total=total,
    )


async def group_letters(conn: Connection, where: LetterFilter, window: int = GROUP_WINDOW) -> Groups:
    """Counts by function and error type over the newest ``window`` letters matching ``where``."""
    page = await read_page(conn, where, limit=window)
    functions = Counter(s.letter.function or "(unknown)" for s in page.letters)
    errors = Counter(s.letter.error_type or s.letter.reason.value for s in page.letters)
    return Groups(
        by_function=functions.most_common(),
        by_error=errors.most_common(),
        counted=len(page.letters),
        examined=page.examined,
        partial=page.next_before is not None,
    )


async def snapshot(
    conn: Connection, where: LetterFilter, *, upto: int, cap: int, requests: int = 100_000
) -> tuple[list[tuple[int, str]], bool]:
    """``(sequence, id)`` of the oldest ``cap`` letters matching ``where`` stored at or before
    ``upto``, and whether more matched than were taken (or the request budget ran out).

    ``upto`` fixes the snapshot: letters stored later (a requeued job that died again is a
    new message) are never in it.
    """
    first, _, total = await stream_state(conn)
    if not total:
        return [], False
    seq = await _floor(conn, where, first)
    taken: list[tuple[int, str]] = []
    made = 0
    while 0 <= seq <= upto:
        if made >= requests:
            return taken, True
        request = {"seq": seq, "batch": 1000, "max_bytes": _MAX_BYTES, "next_by_subj": _subject(where)}
        letters, got, pending = await _batch(conn, request)
        made += 1
        for stored in letters:
            if stored.seq > upto:
                return taken, False
            if where.matches(stored.letter):
                if len(taken) >= cap:
                    return taken, True
                taken.append((stored.seq, stored.id))
        if not got or pending == 0:
            break
        seq = got + 1
    return taken, False
