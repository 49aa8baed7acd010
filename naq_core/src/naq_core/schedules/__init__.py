"""Scheduled jobs: the ``Schedule`` value and the rules for times, intervals and cron.

naq keeps no scheduler process. A schedule is a message on ``naq.sched.<queue>.<id>`` in the
jobs stream carrying NATS's ``Nats-Schedule`` header (``@at``, ``@every`` or a 6-field cron,
NATS 2.12+ / 2.14+); the server publishes the job onto the queue when it is due.

- :mod:`naq_core.schedules.record`: the public value (``Schedule``, ``ScheduleKind``,
  ``ScheduleStatus``), what ``list_schedules`` returns, and ``upcoming_run``, the next run
  ``naq schedule list`` and the dashboard show;
- :mod:`naq_core.schedules.spec`: the pure rules (cron, intervals, time zones, names,
  ``repeat``), no I/O;
- ``naq_core.schedules._store``: the store (schedule messages and the ``naq_schedules``
  record), used by :class:`~naq_core.queue.Queue` and the worker.
"""

from __future__ import annotations

from naq_core.schedules.record import Schedule, ScheduleKind, ScheduleStatus, upcoming_run
from naq_core.schedules.spec import (
    as_utc,
    cron_spec,
    interval_spec,
    next_cron_run,
    rfc3339,
    schedule_id_for,
)

__all__ = [
    "Schedule",
    "ScheduleKind",
    "ScheduleStatus",
    "as_utc",
    "cron_spec",
    "interval_spec",
    "next_cron_run",
    "rfc3339",
    "schedule_id_for",
    "upcoming_run",
]
