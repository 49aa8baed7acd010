"""naq-dashboard: naq's web UI (Starlette + Jinja2), alone or mounted in your app.

* ``naq dashboard`` serves it on 127.0.0.1:8080 (``--host``, ``--port``, ``--read-only``).
* :func:`create_app` returns the Starlette app; :func:`lifespan` is its lifespan for a host
  app that mounts it under a sub-path.

Every page is a panel (:class:`naq_core.panels.Panel`) registered through the
``naq_register_dashboard_panels`` hook, the built-in ones (overview, queues, jobs,
schedules, workers) as well as other plugins' (naq-dlq-stream's dead letters).
"""

from __future__ import annotations

from naq_dashboard.app import create_app, host_of, lifespan
from naq_dashboard.settings import DashboardSettings

__all__ = ["DashboardSettings", "__version__", "create_app", "host_of", "lifespan"]

__version__ = "0.2.0"
