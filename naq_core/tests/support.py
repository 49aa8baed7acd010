"""A real Worker for ``worker_tasks`` inside a test, and bounded waits (from naq_core.testing)."""

from __future__ import annotations

from functools import partial

from naq_core.testing import worker as _testing
from naq_core.testing.worker import eventually, wait_until

__all__ = ["eventually", "running_worker", "wait_until"]

#: ``async with running_worker(url, queues, **options) as worker:`` runs ``worker_tasks``.
running_worker = partial(_testing.running_worker, tasks=("worker_tasks",))
