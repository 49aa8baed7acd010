"""The original naq's names, kept working until naq 1.0 (see ``docs/migrating.md``).

Each name warns once per process with a :class:`DeprecationWarning` that names its new
spelling and the release that removes it. The warning points at the first caller outside
naq, so Python shows it when that caller is your script (``__main__``) or when warnings are
enabled (``python -W default``, pytest).

- :func:`setup_logging` -> :func:`naq_core.logconfig.configure`
- :class:`SyncClient` -> :class:`~naq_core.client.NaqClient` (``purge_queue`` -> ``purge``)
- :data:`JOB_STATUS` -> :class:`~naq_core.job.JobStatus` (``RETRY`` -> ``RETRYING``)
- ``Job.fetch_result`` / ``Job.fetch_result_sync`` -> ``fetch_job_result`` / ``fetch_job_result_sync``
- ``enqueue_at(dt=...)`` / ``enqueue_in(delta=...)`` -> ``when`` / ``delay``, or positionally
- :mod:`naq_core.exceptions`: ``NaqException`` -> ``NaqError``, ``JobExecutionError`` -> ``JobFailedError``

``naq_core`` exports the first three (and the two exceptions) lazily: importing
``naq_core`` warns about nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

from naq_core import _deprecation, logconfig
from naq_core._deprecation import REMOVED_IN
from naq_core.client import NaqClient
from naq_core.config import load_config
from naq_core.job import JobStatus
from naq_core.schedules import Schedule

__all__ = [
    "EXPORTS",
    "JOB_STATUS",
    "REMOVED_IN",
    "SyncClient",
    "first_argument",
    "setup_logging",
    "warn_once",
]

#: The names ``naq_core`` exports lazily from here, and the new spelling each warns about.
EXPORTS = {
    "JOB_STATUS": "JobStatus",
    "SyncClient": "NaqClient",
    "setup_logging": "naq_core.logconfig.configure(level, fmt)",
}


def warn_once(old: str, new: str) -> None:
    """Warn, once per process for each ``old``, that ``old`` is deprecated in favour of ``new``."""
    _deprecation.warn_once(old, f"{old} is deprecated and will be removed in {REMOVED_IN}; use {new} instead")


def first_argument(
    value: Any,
    func: Callable[..., Any] | str | None,
    options: MutableMapping[str, Any],
    *,
    where: str,
    new: str,
    old: str,
) -> tuple[Any, Callable[..., Any] | str]:
    """``(when, func)`` of ``enqueue_at`` / ``enqueue_in``, accepting the original's keyword.

    ``value`` is the first parameter (``new``); when it was not given and ``old`` is in the
    keyword ``options``, that is taken (with a warning). Otherwise ``old`` stays in
    ``options``: a keyword argument of the task.
    """
    if value is None and old in options:
        warn_once(f"{where}({old}=...)", f"{where}({new}=...) or a positional argument")
        value = options.pop(old)
    if value is None:
        raise TypeError(f"{where}() missing its first argument {new!r}")
    if func is None:
        raise TypeError(f"{where}() missing the function to run ('func')")
    return value, func


# --- setup_logging -------------------------------------------------------------------------------


def setup_logging(level: str | int | None = None, fmt: str | None = None) -> bool:
    """Show naq's log lines on stderr, as the ``naq`` command line does. Deprecated.

    The original configured loguru. This calls :func:`naq_core.logconfig.configure` with
    ``level`` (a name such as ``"debug"``, or a :mod:`logging` number) and ``fmt``
    (``"console"`` or ``"json"``), each defaulting to the configuration (``NAQ_LOG_LEVEL``,
    ``NAQ_LOG_FORMAT``). Returns ``False`` if logging was already configured.
    """
    warn_once("setup_logging", EXPORTS["setup_logging"])
    if level is None or fmt is None:
        config = load_config()
        level = config.log_level if level is None else level
        fmt = config.log_format if fmt is None else fmt
    if isinstance(level, int):
        level = logging.getLevelName(level)
    return logconfig.configure(str(level).lower(), fmt.lower())


# --- SyncClient ----------------------------------------------------------------------------------


class SyncClient(NaqClient):
    """The original naq's synchronous client: a :class:`NaqClient` under its old name. Deprecated.

    It keeps the original's method names that :class:`NaqClient` spells differently:
    ``purge_queue`` (now ``purge``), and the ``job_id=`` keyword of the schedule methods
    (now ``schedule_id``). ``enqueue_at(dt=...)`` and ``enqueue_in(delta=...)`` work on every
    client. The original's ``jobs`` list is gone: keep the jobs that ``enqueue`` returns.
    """

    def __init__(self, nats_url: str | None = None, **settings: Any) -> None:
        warn_once("SyncClient", EXPORTS["SyncClient"])
        super().__init__(nats_url, **settings)

    def purge_queue(self, queue_name: str | None = None) -> int:
        """Delete every job waiting in the queue; returns how many were removed."""
        warn_once("SyncClient.purge_queue()", "NaqClient.purge()")
        return self.purge(queue_name)

    def cancel_scheduled_job(self, job_id: str) -> Schedule:
        return super().cancel_scheduled_job(job_id)

    def pause_scheduled_job(self, job_id: str) -> Schedule:
        return super().pause_scheduled_job(job_id)

    def resume_scheduled_job(self, job_id: str) -> Schedule:
        return super().resume_scheduled_job(job_id)

    def modify_scheduled_job(self, job_id: str, **updates: Any) -> Schedule:  # type: ignore[override]
        """As :meth:`NaqClient.modify_scheduled_job`; ``scheduled_timestamp_utc`` is ``next_run``."""
        timestamp = updates.pop("scheduled_timestamp_utc", None)
        if timestamp is not None:
            warn_once(
                "modify_scheduled_job(scheduled_timestamp_utc=...)", "modify_scheduled_job(next_run=...)"
            )
            updates["next_run"] = dt.datetime.fromtimestamp(timestamp, dt.UTC)
        return super().modify_scheduled_job(job_id, **updates)


# --- JOB_STATUS ----------------------------------------------------------------------------------

#: Members of the original's enum that have a new name.
_RENAMED_STATUS = {"RETRY": JobStatus.RETRYING}
#: Members that mean nothing for a job any more, and why.
_GONE_STATUS = {
    "PAUSED": "jobs are not paused in naq (queues and schedules are: ScheduleStatus.PAUSED, naq queue pause)"
}
_OLD_VALUES = {"retry": "RETRY", "paused": "PAUSED"}


def _status(name: str) -> JobStatus:
    new = _RENAMED_STATUS.get(name)
    if new is not None:
        warn_once(f"JOB_STATUS.{name}", f"JobStatus.{new.name}")
        return new
    if name in _GONE_STATUS:
        raise AttributeError(f"JOB_STATUS.{name} was removed: {_GONE_STATUS[name]}")
    try:
        return JobStatus[name]
    except KeyError:
        raise AttributeError(f"JOB_STATUS has no member {name!r}") from None


class _JobStatusAlias(type):
    """Makes :data:`JOB_STATUS` behave like the :class:`JobStatus` enum it stands for."""

    def __getattr__(cls, name: str) -> Any:
        if name.startswith("_"):
            return getattr(JobStatus, name)
        return _status(name)

    def __getitem__(cls, name: str) -> JobStatus:
        try:
            return _status(name)
        except AttributeError as exc:
            raise KeyError(name) from exc

    def __call__(cls, value: Any) -> JobStatus:
        if isinstance(value, str) and value in _OLD_VALUES:
            return _status(_OLD_VALUES[value])
        return JobStatus(value)

    def __iter__(cls) -> Iterator[JobStatus]:
        return iter(JobStatus)

    def __len__(cls) -> int:
        return len(JobStatus)

    def __contains__(cls, value: object) -> bool:
        return value in JobStatus.__members__.values()

    def __instancecheck__(cls, instance: object) -> bool:
        return isinstance(instance, JobStatus)

    def __repr__(cls) -> str:
        return "<JOB_STATUS: the original naq's name for naq_core.JobStatus>"


class JOB_STATUS(metaclass=_JobStatusAlias):  # the original spelling
    """The original naq's job status enum: :class:`JobStatus` under its old name. Deprecated.

    ``JOB_STATUS.COMPLETED is JobStatus.COMPLETED``; ``RETRY`` is now ``RETRYING``;
    ``PAUSED`` is gone (a job is never paused; schedules and queues are).
    """
