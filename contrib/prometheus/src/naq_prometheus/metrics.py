"""The metrics, in prometheus_client's default registry, and the cheap updates the hooks make.

Every job metric is labelled ``queue`` and ``function`` (the task name as enqueued), never
with a job id, an argument or an error message: the number of series is the number of
(queue, task) pairs your code uses. Queue depth gauges are labelled ``queue`` only.

Counting follows :class:`naq_core.Outcome`: an attempt that ends ``completed`` is
*succeeded*; one that ends ``retrying`` is *failed* and *retried*; one that ends ``failed``
(no retry left or none asked for, timeouts included) is *failed* and *dead-lettered*, since
naq hands every such job to the dead-letter sinks. So ``failed = retried + dead_lettered``.
"""

from __future__ import annotations

import time
from typing import NamedTuple

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.metrics import Counter as _CounterChild
from prometheus_client.metrics import Histogram as _HistogramChild

from naq_core import Job, JobStatus, Outcome

__all__ = [
    "DEAD_LETTERED",
    "ENQUEUED",
    "FAILED",
    "IN_FLIGHT",
    "JOB_LABELS",
    "PENDING",
    "RETRIED",
    "RUN_SECONDS",
    "STARTED",
    "SUCCEEDED",
    "TIME_BUCKETS",
    "WAIT_SECONDS",
    "job_enqueued",
    "job_finished",
    "job_started",
    "set_depth",
]

JOB_LABELS = ("queue", "function")
#: Seconds, from 5 ms to an hour: jobs run (and wait) far longer than a web request.
TIME_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)

ENQUEUED = Counter("naq_jobs_enqueued", "Jobs enqueued by this process", JOB_LABELS)
STARTED = Counter("naq_jobs_started", "Job attempts started by this process's workers", JOB_LABELS)
SUCCEEDED = Counter("naq_jobs_succeeded", "Job attempts that completed", JOB_LABELS)
FAILED = Counter("naq_jobs_failed", "Job attempts that raised or timed out (retried or not)", JOB_LABELS)
RETRIED = Counter("naq_jobs_retried", "Failed job attempts that will run again", JOB_LABELS)
DEAD_LETTERED = Counter(
    "naq_jobs_dead_lettered", "Jobs that failed for good and went to the dead-letter sinks", JOB_LABELS
)
RUN_SECONDS = Histogram(
    "naq_job_run_seconds", "How long a job attempt ran, in seconds", JOB_LABELS, buckets=TIME_BUCKETS
)
WAIT_SECONDS = Histogram(
    "naq_job_wait_seconds",
    "From enqueue to the start of a job's first attempt, in seconds",
    JOB_LABELS,
    buckets=TIME_BUCKETS,
)
PENDING = Gauge(
    "naq_queue_pending_jobs", "Jobs no worker has received yet (consumer num_pending)", ("queue",)
)
IN_FLIGHT = Gauge(
    "naq_queue_in_flight_jobs",
    "Jobs delivered to a worker and not acknowledged yet (consumer num_ack_pending)",
    ("queue",),
)


class _Series(NamedTuple):
    """The labelled children of one (queue, function): ``labels()`` checks and locks on
    every call, so a worker looks them up once per pair, not once or four times a job."""

    enqueued: _CounterChild
    started: _CounterChild
    succeeded: _CounterChild
    failed: _CounterChild
    retried: _CounterChild
    dead_lettered: _CounterChild
    run_seconds: _HistogramChild
    wait_seconds: _HistogramChild


#: One entry per (queue, function) pair seen: as many as the series themselves.
_series: dict[tuple[str, str], _Series] = {}


def _of(job: Job) -> _Series:
    key = (job.queue_name, job.function)
    found = _series.get(key)
    if found is None:
        found = _series[key] = _Series(
            enqueued=ENQUEUED.labels(*key),
            started=STARTED.labels(*key),
            succeeded=SUCCEEDED.labels(*key),
            failed=FAILED.labels(*key),
            retried=RETRIED.labels(*key),
            dead_lettered=DEAD_LETTERED.labels(*key),
            run_seconds=RUN_SECONDS.labels(*key),
            wait_seconds=WAIT_SECONDS.labels(*key),
        )
    return found


def job_enqueued(job: Job) -> None:
    """One increment."""
    _of(job).enqueued.inc()


def job_started(job: Job, now: float | None = None) -> None:
    """One increment, and the wait of a first attempt (a retry's wait is its backoff)."""
    series = _of(job)
    series.started.inc()
    if job.attempt == 1:
        started = time.time() if now is None else now
        series.wait_seconds.observe(max(0.0, started - job.enqueued_at))


def job_finished(job: Job, outcome: Outcome) -> None:
    """The run time, and the counters of how the attempt ended."""
    series = _of(job)
    series.run_seconds.observe(max(0.0, outcome.duration))
    if outcome.status == JobStatus.COMPLETED:
        series.succeeded.inc()
    elif outcome.status == JobStatus.RETRYING:
        series.failed.inc()
        series.retried.inc()
    elif outcome.status == JobStatus.FAILED:
        series.failed.inc()
        series.dead_lettered.inc()


def set_depth(queue: str, pending: int, in_flight: int) -> None:
    """The queue depth gauges of ``queue``."""
    PENDING.labels(queue).set(pending)
    IN_FLIGHT.labels(queue).set(in_flight)
