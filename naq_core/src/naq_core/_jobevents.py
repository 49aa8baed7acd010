"""A worker's per-job log events, and the periodic summary that stands for the successes.

Rendering a log line costs about as much as running a no-op job, so a worker that logged
every success at ``info`` spent half its time writing lines nobody reads. Instead:

- ``job_completed`` is logged per job at **debug** (dropped almost for free below it: the
  filtering logger's ``debug`` does nothing); ``--log-level debug`` shows every job;
- ``jobs_processed`` is logged at **info** at most every :data:`SUMMARY_EVERY` seconds
  while jobs finish (``completed``, ``failed``, ``retried``, ``seconds``, ``per_second``),
  and once more when the worker stops, so nothing goes uncounted;
- ``job_retrying`` (warning) and ``job_failed`` (error) stay per job, as do the dead
  letters' events (``_dead``).

The summary is a timer on the running loop armed by the first event after the last
summary: an idle worker logs nothing and runs nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from naq_core._log import get_logger

if TYPE_CHECKING:
    from naq_core.job import Job

__all__ = ["SUMMARY_EVERY", "JobEvents", "job_context"]

#: Seconds between two ``jobs_processed`` summaries (while jobs finish).
SUMMARY_EVERY = 10.0


def job_context(job: Job) -> dict[str, Any]:
    """The fields every job event carries: id, queue, function, attempt."""
    return {"job_id": job.job_id, "queue": job.queue_name, "function": job.function, "attempt": job.attempt}


class JobEvents:
    """Logs one worker's job events and counts them for the summary."""

    __slots__ = ("_completed", "_failed", "_retried", "_since", "_timer", "every", "logger", "worker_id")

    def __init__(self, worker_id: str, *, logger: str, every: float = SUMMARY_EVERY) -> None:
        self.worker_id = worker_id
        self.logger = logger  # the events' logger name: the module that runs the jobs
        self.every = every
        self._completed = self._failed = self._retried = 0
        self._since = 0.0
        self._timer: asyncio.TimerHandle | None = None

    def completed(self, job: Job, duration: float) -> None:
        self._completed += 1
        log = get_logger(self.logger)
        if log.is_enabled_for(logging.DEBUG):  # the fields are built only when someone reads them
            log.debug("job_completed", **job_context(job), duration=round(duration, 6))
        self._arm()

    def retrying(self, job: Job, delay: float, error: str) -> None:
        self._retried += 1
        get_logger(self.logger).warning(
            "job_retrying", **job_context(job), retry_in=round(delay, 3), error=error
        )
        self._arm()

    def failed(self, job: Job, duration: float, error: str) -> None:
        self._failed += 1
        get_logger(self.logger).error(
            "job_failed", **job_context(job), duration=round(duration, 6), error=error
        )
        self._arm()

    def _arm(self) -> None:
        if self._timer is None:
            self._since = time.monotonic()
            self._timer = asyncio.get_running_loop().call_later(self.every, self.flush)

    def flush(self) -> None:
        """Log ``jobs_processed`` for the jobs counted since the last one (if any)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        total = self._completed + self._failed + self._retried
        if not total:
            return
        seconds = max(time.monotonic() - self._since, 1e-6)
        get_logger(self.logger).info(
            "jobs_processed",
            worker_id=self.worker_id,
            completed=self._completed,
            failed=self._failed,
            retried=self._retried,
            seconds=round(seconds, 1),
            per_second=round(total / seconds, 1),
        )
        self._completed = self._failed = self._retried = 0
