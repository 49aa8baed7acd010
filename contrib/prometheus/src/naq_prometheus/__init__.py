"""naq-prometheus: Prometheus metrics for naq producers and workers.

This module is the plugin object (entry point ``prometheus``). Its hooks:

* ``naq_job_enqueued``, ``naq_job_started``, ``naq_job_finished``: counter increments and
  histogram observations only (:mod:`naq_prometheus.metrics`), nothing that waits;
* ``naq_worker_started`` / ``naq_worker_stopped``: open the HTTP endpoint (shared by the
  workers of a process, :mod:`naq_prometheus.endpoint`) and the queue depth refresher
  (:mod:`naq_prometheus.depth`), then close them;
* ``naq_plugin_settings``: the ``[tool.naq.prometheus]`` table (:mod:`naq_prometheus.settings`);
* ``naq_register_dashboard_panels``: a "Metrics" page when naq-dashboard is installed
  (:mod:`naq_prometheus.panel`, imported only then).

A producer process counts what it enqueues but opens no endpoint: expose prometheus_client's
default registry from your application as you would for any other metric.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog

from naq_core import Config, Job, Outcome, Worker, hookimpl
from naq_core.panels import Panel
from naq_prometheus import endpoint, metrics
from naq_prometheus.depth import DepthRefresher
from naq_prometheus.settings import Settings, naq_plugin_settings, settings_of

__all__ = [
    "Settings",
    "naq_job_enqueued",
    "naq_job_finished",
    "naq_job_started",
    "naq_plugin_settings",
    "naq_register_dashboard_panels",
    "naq_worker_started",
    "naq_worker_stopped",
]

__version__ = "0.2.0"

_refreshers: dict[str, DepthRefresher] = {}


@hookimpl
def naq_job_enqueued(job: Job) -> None:
    """Count the job."""
    metrics.job_enqueued(job)


@hookimpl
def naq_job_started(job: Job) -> None:
    """Count the attempt; observe a first attempt's wait."""
    metrics.job_started(job)


@hookimpl
def naq_job_finished(job: Job, outcome: Outcome) -> None:
    """Observe the run time; count how it ended."""
    metrics.job_finished(job, outcome)


@hookimpl
async def naq_worker_started(worker: Worker) -> None:
    """Open the endpoint (if this process has none open) and start reading queue depth."""
    settings = settings_of(worker.config)
    try:
        endpoint.acquire(worker.worker_id, settings.host, settings.port)
    except OSError as exc:  # the port is taken (another worker process?): count, serve nothing
        structlog.get_logger(__name__).warning(
            "prometheus_endpoint_unavailable",
            host=settings.host,
            port=settings.port,
            error=str(exc),
            hint="give each worker process its own port (NAQ_PROMETHEUS_PORT)",
        )
    refresher = DepthRefresher(worker.config, worker.queues, settings.refresh_interval)
    refresher.start()
    _refreshers[worker.worker_id] = refresher


@hookimpl
async def naq_worker_stopped(worker: Worker) -> None:
    """Stop reading queue depth; close the endpoint if no other worker of the process uses it."""
    refresher = _refreshers.pop(worker.worker_id, None)
    if refresher is not None:
        await refresher.stop()
    await asyncio.to_thread(endpoint.release, worker.worker_id)  # waits for the server thread


@hookimpl
def naq_register_dashboard_panels(register: Callable[[Panel], None], config: Config) -> None:
    """The "Metrics" page (needs Starlette, which the dashboard brings)."""
    from naq_prometheus.panel import panel

    register(panel())
