"""The built-in panels, each a module with a ``panel()`` returning its :class:`~naq_core.panels.Panel`."""

from __future__ import annotations

from naq_core.panels import Panel

__all__ = ["builtin_panels"]


def builtin_panels() -> list[Panel]:
    """Overview, queues, jobs, schedules and workers, in navigation order."""
    from naq_dashboard.panels import jobs, overview, queues, schedules, workers

    return [overview.panel(), jobs.panel(), queues.panel(), schedules.panel(), workers.panel()]
