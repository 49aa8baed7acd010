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

from prometheus_client import Counter, Gauge, Histogram

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


def job_enqueued(job: Job) -> None:
    """One increment."""
    ENQUEUED.labels(job.queue_name, job.function).inc()


def job_started(job: Job, now: float | None = None) -> None:
    """One increment, and the wait of a first attempt (a retry's wait is its backoff)."""
    STARTED.labels(job.queue_name, job.function).inc()
    if job.attempt == 1:
        started = time.time() if now is None else now
        WAIT_SECONDS.labels(job.queue_name, job.function).observe(max(0.0, started - job.enqueued_at))


def job_finished(job: Job, outcome: Outcome) -> None:
    """The run time, and the counters of how the attempt ended."""
    labels = (job.queue_name, job.function)
    RUN_SECONDS.labels(*labels).observe(max(0.0, outcome.duration))
    if outcome.status == JobStatus.COMPLETED:
        SUCCEEDED.labels(*labels).inc()
    elif outcome.status == JobStatus.RETRYING:
        FAILED.labels(*labels).inc()
        RETRIED.labels(*labels).inc()
    elif outcome.status == JobStatus.FAILED:
        FAILED.labels(*labels).inc()
        DEAD_LETTERED.labels(*labels).inc()


def set_depth(queue: str, pending: int, in_flight: int) -> None:
    """The queue depth gauges of ``queue``."""
    PENDING.labels(queue).set(pending)
    IN_FLIGHT.labels(queue).set(in_flight)
