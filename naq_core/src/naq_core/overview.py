"""Read-only views of the queues in NATS: their statistics, names and consumers.

What ``naq queues`` and shell completion show. Nothing here creates a stream, a consumer or
a bucket: looking never changes the server. (Jobs are looked up in
:mod:`naq_core.job_lookup`.)

* :func:`queue_stats` reads the jobs stream's subjects (``naq.queue.<queue>.<job id>``, one
  message per job) and each queue's durable consumer (``naq-worker-<queue>``).
* :func:`queue_consumers` lists every queue's consumer info through :class:`Requests`
  (counted JetStream API requests), which the dashboard's queue pages use too.
* :func:`stored_subjects` is the jobs stream's per-subject map (one entry per waiting job).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import nats.errors
import nats.js.errors
from attrs import frozen

from naq_core import records
from naq_core._jetstream.names import (
    JOBS_STREAM,
    JOBS_SUBJECTS,
    WORKER_CONSUMER_PREFIX,
    queue_filter,
    split_job_subject,
)
from naq_core.errors import NaqConnectionError, NaqError
from naq_core.heartbeat import list_workers

if TYPE_CHECKING:
    from naq_core._jetstream.connection import Connection

__all__ = ["QueueStats", "Requests", "queue_consumers", "queue_names", "queue_stats", "stored_subjects"]

_CONSUMER_PREFIX = WORKER_CONSUMER_PREFIX
_STREAM_NOT_FOUND = 10059
_NO_JETSTREAM = "NATS has no JetStream; start it with -js (or use `naq server`)"


@frozen(kw_only=True)
class QueueStats:
    """One queue as JetStream sees it."""

    queue: str
    #: Jobs stored for the queue: not delivered yet, running, or waiting for a retry.
    jobs: int
    #: Jobs no worker has received yet (the consumer's ``num_pending``).
    pending: int
    #: Jobs delivered to a worker and not acknowledged (``num_ack_pending``): running,
    #: prefetched, or waiting out a retry delay.
    in_flight: int
    #: Jobs delivered more than once (``num_redelivered``).
    redelivered: int
    #: Pull requests of workers waiting for jobs (``num_waiting``).
    waiting_pulls: int
    #: Live workers (by heartbeat) that serve the queue.
    workers: int
    paused: bool
    #: When a pause ends (RFC 3339, as the server reports it), if paused.
    paused_until: str | None = None
    #: Whether a worker ever created the queue's consumer.
    has_consumer: bool = False

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> QueueStats:
        """Rebuild from :meth:`to_dict`'s form; unknown keys are ignored."""
        return records.from_dict(cls, data)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able values (what ``naq queues --json`` prints)."""
        return records.to_dict(self)


class Requests:
    """JetStream API requests over one connection, counted.

    A view that must not grow with the number of jobs (the dashboard's overview) passes
    one to each read and checks :attr:`count` in its tests.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        #: Requests sent so far.
        self.count = 0

    async def api(self, subject: str, request: dict[str, Any] | None = None) -> dict[str, Any]:
        """The JSON answer to ``$JS.API.<subject>`` (an error answer is returned, not raised).

        Raises :class:`~naq_core.errors.NaqConnectionError` when NATS has no JetStream or
        does not answer within 10 s.
        """
        self.count += 1
        payload = json.dumps(request).encode() if request else b""
        try:
            reply = await self.conn.nc.request(f"$JS.API.{subject}", payload, timeout=10)
        except nats.errors.NoRespondersError:
            raise NaqConnectionError(_NO_JETSTREAM) from None
        except nats.errors.TimeoutError:
            raise NaqConnectionError(f"NATS did not answer {subject} within 10 s") from None
        data: dict[str, Any] = json.loads(reply.data)
        return data


def _stream_error(data: dict[str, Any]) -> bool:
    """``True`` when the jobs stream does not exist; raises on any other error answer."""
    if "error" not in data:
        return False
    if data["error"].get("err_code") == _STREAM_NOT_FOUND:
        return True
    raise NaqError(f"stream {JOBS_STREAM}: {data['error'].get('description', data['error'])}")


async def stored_subjects(conn: Connection, queue: str | None = None) -> dict[str, int]:
    """The subject of every job waiting in ``queue`` (default: every queue) with its
    message count: ``naq.queue.<queue>.<job id>``. Paged; it grows with the waiting jobs."""
    return await _subjects(conn, _queue_filter(queue))


async def _subjects(conn: Connection, subject_filter: str) -> dict[str, int]:
    """Every stored subject matching ``subject_filter`` with its message count (paged)."""
    req = Requests(conn)
    subjects: dict[str, int] = {}
    offset = 0
    while True:
        data = await req.api(
            f"STREAM.INFO.{JOBS_STREAM}", {"subjects_filter": subject_filter, "offset": offset}
        )
        if _stream_error(data):
            return {}
        page = (data.get("state") or {}).get("subjects") or {}
        subjects.update(page)
        offset += len(page)
        if not page or offset >= int(data.get("total", 0)):
            return subjects


async def queue_consumers(req: Requests) -> dict[str, dict[str, Any]]:
    """Consumer info of every queue's durable (``naq-worker-<queue>``), keyed by queue name.

    One ``CONSUMER.LIST`` request a page of 256 consumers (it never grows with the jobs);
    ``{}`` when the jobs stream does not exist yet.
    """
    found: dict[str, dict[str, Any]] = {}
    offset = 0
    while True:
        data = await req.api(f"CONSUMER.LIST.{JOBS_STREAM}", {"offset": offset})
        if _stream_error(data):
            return found
        page = data.get("consumers") or []
        for info in page:
            name = str(info.get("name", ""))
            if name.startswith(_CONSUMER_PREFIX):
                found[name.removeprefix(_CONSUMER_PREFIX)] = info
        offset += len(page)
        if not page or offset >= int(data.get("total", 0)):
            return found


def _queue_filter(queue: str | None) -> str:
    return queue_filter(queue) if queue else JOBS_SUBJECTS


async def queue_names(conn: Connection) -> list[str]:
    """Every queue that has jobs stored or a consumer (a worker served it once)."""
    stored = {split_job_subject(subject)[0] for subject in await _subjects(conn, _queue_filter(None))}
    return sorted(stored | set(await queue_consumers(Requests(conn))))


async def queue_stats(conn: Connection, queues: Sequence[str] | None = None) -> list[QueueStats]:
    """Statistics of ``queues`` (default: every queue with jobs or a consumer), by name."""
    if queues is None:
        subjects = await _subjects(conn, _queue_filter(None))
    else:
        subjects = {}
        for name in dict.fromkeys(queues):
            subjects.update(await _subjects(conn, _queue_filter(name)))
    per_queue: dict[str, int] = {}
    for subject, count in subjects.items():
        queue = split_job_subject(subject)[0]
        per_queue[queue] = per_queue.get(queue, 0) + count
    consumers = await queue_consumers(Requests(conn))
    serving: dict[str, int] = {}
    for worker in await list_workers(conn):
        for queue in worker.queues:
            serving[queue] = serving.get(queue, 0) + 1
    names = sorted(set(queues)) if queues is not None else sorted(set(per_queue) | set(consumers))
    stats = []
    for name in names:
        info = consumers.get(name)
        jobs = per_queue.get(name, 0)
        paused = bool(info and info.get("paused"))
        stats.append(
            QueueStats(
                queue=name,
                jobs=jobs,
                pending=int(info.get("num_pending", 0)) if info else jobs,
                in_flight=int(info.get("num_ack_pending", 0)) if info else 0,
                redelivered=int(info.get("num_redelivered", 0)) if info else 0,
                waiting_pulls=int(info.get("num_waiting", 0)) if info else 0,
                workers=serving.get(name, 0),
                paused=paused,
                paused_until=(info or {}).get("config", {}).get("pause_until") if paused else None,
                has_consumer=info is not None,
            )
        )
    return stats
