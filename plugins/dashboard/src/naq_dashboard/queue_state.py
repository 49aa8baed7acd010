"""Every queue's state for the overview and queues pages, from JetStream state only.

The number of NATS requests does not grow with the number of jobs:

* one ``CONSUMER.LIST`` of the jobs stream (a page holds 256 consumers), read by
  :func:`naq_core.overview.queue_consumers`: every queue a worker ever served has its
  durable ``naq-worker-<queue>``, whose info gives pending (``num_pending``), in flight
  (``num_ack_pending``), redelivered and paused;
* one ``STREAM.INFO`` of the jobs stream (how many messages and subjects it holds);
* queues that have waiting jobs but never had a worker have no consumer: they are found in
  the stream's per-subject map, read (one request) only while the stream holds at most
  :data:`DISCOVERY_SUBJECTS` subjects (one per job). Above that, the one request reads the
  oldest job instead (its queue is listed, with an upper bound of its jobs, if it has no
  consumer), and :attr:`Board.complete` is ``False`` so the page says the list may be
  incomplete;
* one ``STREAM.MSG.GET`` per queue: the first message of the queue after its consumer's
  ack floor, whose timestamp is when the oldest waiting job was enqueued;
* the heartbeat bucket (one watch, grows with workers) and ``STREAM.INFO`` of the dead-letter
  stream :data:`DEAD_LETTER_STREAM` (``naq_dlq``, kept by naq-dlq-stream; absent: no count).

Nothing here creates a consumer or changes the server.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import TYPE_CHECKING, Any

from attrs import evolve, field, frozen

from naq_core.errors import NaqError
from naq_core.heartbeat import MinuteTotal, WorkerInfo, list_workers, minute_totals
from naq_core.jetstream import JOBS_STREAM, consumer_name, queue_filter, queue_of_subject
from naq_core.overview import Requests, queue_consumers

if TYPE_CHECKING:
    from naq_core.jetstream import Connection

__all__ = [
    "DEAD_LETTER_STREAM",
    "DISCOVERY_SUBJECTS",
    "Board",
    "QueueState",
    "read_board",
    "read_queue",
]

#: The stream naq-dlq-stream keeps dead letters in; the overview shows its message count
#: when it exists (the dashboard does not depend on naq-dlq-stream: it reads it by name).
DEAD_LETTER_STREAM = "naq_dlq"
#: The most subjects (jobs) the jobs stream may hold for the per-subject map to be read.
DISCOVERY_SUBJECTS = 1000

_STREAM_NOT_FOUND = 10059
_NO_MESSAGE = 10037


@frozen(kw_only=True)
class QueueState:
    """One queue: counts from its consumer (or, without one, from the bounded subject map)."""

    queue: str
    #: Jobs no worker has received yet.
    pending: int
    #: Jobs delivered and not acknowledged: running, prefetched or waiting out a retry delay.
    in_flight: int
    #: Jobs delivered more than once.
    redelivered: int
    paused: bool
    #: When the pause ends (RFC 3339), if paused.
    paused_until: str | None = None
    #: Whether a worker ever created the queue's consumer.
    has_consumer: bool = True
    #: Live workers (by heartbeat) serving the queue.
    workers: int = 0
    #: When the oldest waiting job was enqueued (Unix time), if any job waits.
    oldest_enqueued_at: float | None = None
    #: ``True``: ``pending`` is an upper bound (a queue without a consumer in a big stream:
    #: the span of stream sequences between its first and its last job).
    estimate: bool = False

    @property
    def jobs(self) -> int:
        """Jobs stored for the queue (what a purge removes): pending plus in flight."""
        return self.pending + self.in_flight

    @property
    def unserved(self) -> bool:
        """Jobs wait but no live worker serves the queue, and it is not paused."""
        return self.jobs > 0 and self.workers == 0 and not self.paused

    def oldest_age(self, now: float | None = None) -> float | None:
        """Seconds the oldest waiting job has waited."""
        if self.oldest_enqueued_at is None:
            return None
        return max(0.0, (time.time() if now is None else now) - self.oldest_enqueued_at)

    def to_dict(self, now: float | None = None) -> dict[str, Any]:
        """What the JSON API answers for the queue."""
        age = self.oldest_age(now)
        return {
            "queue": self.queue,
            "pending": self.pending,
            "in_flight": self.in_flight,
            "redelivered": self.redelivered,
            "jobs": self.jobs,
            "paused": self.paused,
            "paused_until": self.paused_until,
            "has_consumer": self.has_consumer,
            "workers": self.workers,
            "oldest_enqueued_at": self.oldest_enqueued_at,
            "oldest_age_seconds": None if age is None else round(age, 3),
            "waiting_without_worker": self.unserved,
            "estimate": self.estimate,
        }


@frozen(kw_only=True)
class Board:
    """Every queue, and what the overview adds (workers online, dead letters, history)."""

    queues: list[QueueState]
    #: ``False``: queues with waiting jobs and no worker yet were not looked for (too many jobs).
    complete: bool
    workers: list[WorkerInfo]
    #: Messages in the dead-letter stream; ``None`` when there is none.
    dead_letters: int | None
    #: Completed and failed per minute, the last hour, summed over live workers.
    history: list[MinuteTotal] = field(factory=list)


def _error(data: dict[str, Any]) -> int | None:
    if "error" not in data:
        return None
    code = data["error"].get("err_code")
    if code in (_STREAM_NOT_FOUND, _NO_MESSAGE):
        return int(code)
    raise NaqError(f"stream {JOBS_STREAM}: {data['error'].get('description', data['error'])}")


async def _consumerless(req: Requests) -> tuple[dict[str, int], bool, str | None]:
    """Jobs per queue from the per-subject map while it is small (and ``True``: complete).

    Past :data:`DISCOVERY_SUBJECTS`, the map is not read (``False``); the one request goes
    to the oldest job instead, whose queue is returned (the queue that has waited longest:
    the one most likely to lack a worker).
    """
    info = await req.api(f"STREAM.INFO.{JOBS_STREAM}")
    if _error(info):
        return {}, True, None
    state = info.get("state") or {}
    if int(state.get("num_subjects", 0)) > DISCOVERY_SUBJECTS:
        first = {"seq": max(1, int(state.get("first_seq", 1))), "next_by_subj": queue_filter("*")}
        oldest = await req.api(f"STREAM.MSG.GET.{JOBS_STREAM}", first)
        subject = None if _error(oldest) else str((oldest.get("message") or {}).get("subject", ""))
        return {}, False, queue_of_subject(subject) if subject else None
    data = await req.api(f"STREAM.INFO.{JOBS_STREAM}", {"subjects_filter": queue_filter("*")})
    if _error(data):
        return {}, True, None
    counts: dict[str, int] = {}
    for subject, number in ((data.get("state") or {}).get("subjects") or {}).items():
        queue = queue_of_subject(subject)
        if queue is not None:
            counts[queue] = counts.get(queue, 0) + int(number)
    return counts, True, None


def _unix(rfc3339: str) -> float | None:
    """``2026-11-30T10:02:03.123456789Z`` as Unix time (nanoseconds cut to microseconds)."""
    text = rfc3339.rstrip("Z")
    if "." in text:
        whole, frac = text.split(".", 1)
        text = f"{whole}.{frac[:6]}"
    try:
        return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp()
    except ValueError:
        return None


async def _oldest(req: Requests, queue: str, after: int) -> float | None:
    """When the first job of ``queue`` stored after sequence ``after`` was enqueued."""
    data = await req.api(
        f"STREAM.MSG.GET.{JOBS_STREAM}", {"seq": after + 1, "next_by_subj": queue_filter(queue)}
    )
    if _error(data):
        return None
    stamp = (data.get("message") or {}).get("time")
    return _unix(stamp) if isinstance(stamp, str) else None


def _serving(workers: list[WorkerInfo]) -> dict[str, int]:
    serving: dict[str, int] = {}
    for worker in workers:
        for queue in worker.queues:
            serving[queue] = serving.get(queue, 0) + 1
    return serving


async def _state(
    req: Requests, queue: str, info: dict[str, Any] | None, stored: int, serving: dict[str, int]
) -> QueueState:
    floor = int(((info or {}).get("ack_floor") or {}).get("stream_seq", 0))
    if info is None:
        pending, in_flight = stored, 0
    else:
        pending, in_flight = int(info.get("num_pending", 0)), int(info.get("num_ack_pending", 0))
    oldest = await _oldest(req, queue, floor) if pending + in_flight else None
    paused = bool(info and info.get("paused"))
    return QueueState(
        queue=queue,
        pending=pending,
        in_flight=in_flight,
        redelivered=int((info or {}).get("num_redelivered", 0)),
        paused=paused,
        paused_until=(info or {}).get("config", {}).get("pause_until") if paused else None,
        has_consumer=info is not None,
        workers=serving.get(queue, 0),
        oldest_enqueued_at=oldest,
    )


async def _dead_letters(req: Requests) -> int | None:
    data = await req.api(f"STREAM.INFO.{DEAD_LETTER_STREAM}")
    if "error" in data:
        return None
    return int((data.get("state") or {}).get("messages", 0))


async def read_board(conn: Connection, req: Requests | None = None) -> Board:
    """Every queue (consumers, plus consumer-less queues while the stream is small), by name."""
    req = req or Requests(conn)
    consumers = await queue_consumers(req)
    stored, complete, oldest_queue = await _consumerless(req)
    estimated: set[str] = set()
    if oldest_queue is not None and oldest_queue not in consumers:
        stored[oldest_queue] = await _span(req, oldest_queue)
        estimated.add(oldest_queue)
    workers = await list_workers(conn)
    req.count += 1  # the heartbeat bucket's watch
    serving = _serving(workers)
    names = sorted(set(consumers) | set(stored))
    queues = await asyncio.gather(
        *(_state(req, name, consumers.get(name), stored.get(name, 0), serving) for name in names)
    )
    return Board(
        queues=[evolve(q, estimate=True) if q.queue in estimated else q for q in queues],
        complete=complete,
        workers=workers,
        dead_letters=await _dead_letters(req),
        history=minute_totals(workers),
    )


async def read_queue(conn: Connection, queue: str, req: Requests | None = None) -> QueueState | None:
    """One queue's state; ``None`` when it has neither a consumer nor (found) waiting jobs."""
    req = req or Requests(conn)
    data = await req.api(f"CONSUMER.INFO.{JOBS_STREAM}.{consumer_name(queue)}")
    info = None if "error" in data else data
    stored, estimate = 0, False
    if info is None:
        counts, complete, _ = await _consumerless(req)
        stored = counts.get(queue, 0)
        if not complete:
            stored, estimate = await _span(req, queue), True
        if not stored:
            return None
    workers = await list_workers(conn)
    state = await _state(req, queue, info, stored, _serving(workers))
    return evolve(state, estimate=True) if estimate else state


async def _span(req: Requests, queue: str) -> int:
    """At most how many jobs ``queue`` holds: its last job's sequence - its first's + 1 (2 requests)."""
    first = await req.api(f"STREAM.MSG.GET.{JOBS_STREAM}", {"seq": 1, "next_by_subj": queue_filter(queue)})
    if _error(first):
        return 0
    last = await req.api(f"STREAM.MSG.GET.{JOBS_STREAM}", {"last_by_subj": queue_filter(queue)})
    if _error(last):
        return 0
    return int(last["message"]["seq"]) - int(first["message"]["seq"]) + 1
