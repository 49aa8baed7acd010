"""Every stream, bucket, consumer and subject name naq uses on NATS, in one place.

The public :mod:`naq_core.jetstream` re-exports what plugins may rely on. Nothing else in
naq (core or plugins) spells ``naq.queue.``, ``naq_jobs``, ``$KV.`` and the like itself.
"""

from __future__ import annotations

__all__ = [
    "ADVISORIES_STREAM",
    "ADVISORY_SUBJECT",
    "CANCEL_SUBJECT",
    "DEPS_BUCKET",
    "JOBS_STREAM",
    "JOBS_SUBJECTS",
    "MOVER_CONSUMER",
    "RESULTS_BUCKET",
    "RESULTS_SUBJECT_PREFIX",
    "SCHEDULES_BUCKET",
    "SCHEDULE_SUBJECTS",
    "WORKERS_BUCKET",
    "WORKER_CONSUMER_PREFIX",
    "cancel_subject",
    "consumer_name",
    "job_filter",
    "job_subject",
    "kv_subject",
    "queue_filter",
    "queue_of_subject",
    "result_filter",
    "result_key",
    "result_subject",
    "schedule_subject",
    "split_job_ref",
    "split_job_subject",
]

#: The work-queue stream holding every queue's jobs and every schedule message.
JOBS_STREAM = "naq_jobs"
#: Its subjects: jobs on ``naq.queue.<queue>.<job id>``, schedules on ``naq.sched.<queue>.<id>``.
JOBS_SUBJECTS = "naq.queue.>"
SCHEDULE_SUBJECTS = "naq.sched.>"
_QUEUE_PREFIX = "naq.queue."

#: Key-value buckets: job records, worker heartbeats, dependency waits, schedule records.
RESULTS_BUCKET = "naq_results"
WORKERS_BUCKET = "naq_workers"
DEPS_BUCKET = "naq_deps"
SCHEDULES_BUCKET = "naq_schedules"

#: Captures the jobs stream's MAX_DELIVERIES advisories; read by the durable ``MOVER_CONSUMER``.
ADVISORIES_STREAM = "naq_advisories"
ADVISORY_SUBJECT = f"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{JOBS_STREAM}.>"
MOVER_CONSUMER = "naq-dlq-mover"

#: Workers answer ``naq.ctl.cancel.<job id>`` for jobs they are running.
CANCEL_SUBJECT = "naq.ctl.cancel"

#: Durable pull consumers of the jobs stream are ``naq-worker-<queue>``.
WORKER_CONSUMER_PREFIX = "naq-worker-"


def job_subject(queue: str, job_id: str) -> str:
    """``naq.queue.<queue>.<job id>``: where a job of ``queue`` is published."""
    return f"{_QUEUE_PREFIX}{queue}.{job_id}"


def queue_filter(queue: str) -> str:
    """``naq.queue.<queue>.*``: every job of ``queue``."""
    return f"{_QUEUE_PREFIX}{queue}.*"


def job_filter(job_id: str) -> str:
    """``naq.queue.*.<job id>``: the job ``job_id`` on whichever queue holds it."""
    return f"{_QUEUE_PREFIX}*.{job_id}"


def queue_of_subject(subject: str) -> str | None:
    """The queue of a job subject ``naq.queue.<queue>.<id>``; ``None`` for any other subject."""
    parts = subject.split(".")
    if len(parts) == 4 and subject.startswith(_QUEUE_PREFIX):
        return parts[2]
    return None


def split_job_subject(subject: str) -> tuple[str, str]:
    """``naq.queue.<queue>.<job id>`` -> ``(queue, job id)`` (a subject known to be a job's)."""
    _, _, queue, job_id = subject.split(".", 3)
    return queue, job_id


def schedule_subject(queue: str, schedule_id: str) -> str:
    """``naq.sched.<queue>.<schedule id>``: the schedule message the server fires."""
    return f"naq.sched.{queue}.{schedule_id}"


def cancel_subject(job_id: str) -> str:
    """``naq.ctl.cancel.<job id>``: ask the worker running ``job_id`` to cancel it."""
    return f"{CANCEL_SUBJECT}.{job_id}"


def consumer_name(queue: str) -> str:
    """``naq-worker-<queue>``: the durable consumer shared by every worker of ``queue``."""
    return f"{WORKER_CONSUMER_PREFIX}{queue}"


def kv_subject(bucket: str, key: str) -> str:
    """``$KV.<bucket>.<key>``: the subject a key-value entry is stored under."""
    return f"$KV.{bucket}.{key}"


#: Records are written with a plain publish on ``$KV.naq_results.<queue>.<job id>``.
RESULTS_SUBJECT_PREFIX = kv_subject(RESULTS_BUCKET, "")


def result_key(queue: str, job_id: str) -> str:
    """``<queue>.<job id>``: the key of a job's record (a job is its queue and its id)."""
    return f"{queue}.{job_id}"


def result_subject(queue: str, job_id: str) -> str:
    """``$KV.naq_results.<queue>.<job id>``: where the record of that job is written."""
    return RESULTS_SUBJECT_PREFIX + result_key(queue, job_id)


def result_filter(job_id: str) -> str:
    """``$KV.naq_results.*.<job id>``: the records of ``job_id`` on every queue (at most one
    subject a queue). Records written before naq keyed them by queue are under the bare id."""
    return f"{RESULTS_SUBJECT_PREFIX}*.{job_id}"


def split_job_ref(ref: str) -> tuple[str | None, str]:
    """``(queue, job id)`` of a job reference: ``<queue>.<job id>`` names one job, a bare
    ``<job id>`` (no dot: ids and queue names never contain one) leaves the queue open."""
    queue, dot, job_id = ref.partition(".")
    return (queue, job_id) if dot else (None, ref)
