"""The dashboard's "Metrics" page (``/metrics/``, JSON at ``/api/metrics/``).

Imported only by :func:`naq_prometheus.naq_register_dashboard_panels`, i.e. when a dashboard
builds its app: this module needs Starlette, which the dashboard brings; naq-prometheus
itself does not depend on the dashboard. Handlers reach the dashboard through
:func:`naq_core.panels.panel_host` only.

The page shows the counters and histograms (count and sum) that the configured endpoint
serves (:mod:`naq_prometheus.scrape`), and each queue's pending and in-flight jobs read
from NATS when the page is asked for.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from naq_core.overview import Requests, queue_consumers
from naq_core.panels import Panel, panel_host
from naq_prometheus import scrape
from naq_prometheus.settings import settings_of

__all__ = ["NAME", "panel"]

NAME = "metrics"


async def _view(request: Request) -> dict[str, Any]:
    host = panel_host(request)
    url = scrape.endpoint_url(settings_of(host.config))
    try:
        samples = scrape.parse(await asyncio.to_thread(scrape.read, url))
        error = None
    except Exception as exc:  # no worker of this host runs the endpoint, or it is elsewhere
        samples, error = [], f"{type(exc).__name__}: {exc}"
    consumers = await queue_consumers(Requests(await host.connection()))
    depth = [
        {
            "queue": queue,
            "pending": int(info.get("num_pending", 0)),
            "in_flight": int(info.get("num_ack_pending", 0)),
        }
        for queue, info in sorted(consumers.items())
    ]
    rows = [{"name": s.name, "labels": dict(s.labels), "value": s.value} for s in samples]
    return {"endpoint": url, "error": error, "samples": rows, "queues": depth}


async def page(request: Request) -> Response:
    """The counters, histograms and queue depth."""
    context = {"active": NAME, "page_title": "Metrics", **await _view(request)}
    response: Response = panel_host(request).render(request, f"{NAME}/page.html", context)
    return response


async def api(request: Request) -> Response:
    """The same as JSON."""
    return JSONResponse(await _view(request))


def panel() -> Panel:
    """The panel naq-prometheus registers."""
    return Panel(
        name=NAME,
        title="Metrics",
        routes=[Route("/", page, name="page")],
        api_routes=[Route("/", api, name="api")],
        templates="naq_prometheus",
        order=150,
    )
