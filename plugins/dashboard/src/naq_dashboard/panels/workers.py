"""Workers: every live worker from its heartbeat (``naq_workers``), stale ones marked.

A worker writes a heartbeat every ``heartbeat_interval`` seconds with a TTL of three
intervals, so a worker that died vanishes by itself; one whose last beat is older than
:data:`STALE_BEATS` intervals (of this dashboard's configuration) while its entry is still
there is marked stale: it stopped beating (hung, cut off from NATS, or killed a moment ago).
"""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import NoMatchFound, Route

from naq_core.heartbeat import WorkerInfo, list_workers
from naq_core.panels import Panel, panel_host
from naq_dashboard.pages import json_response, render

__all__ = ["MAX_SHOWN", "STALE_BEATS", "panel", "worker_view"]

#: A worker whose last beat is older than this many heartbeat intervals is stale.
STALE_BEATS = 3
#: The most workers a page or API answer lists.
MAX_SHOWN = 1000
#: The most running job ids shown per worker.
_MAX_JOBS = 50


def worker_view(info: WorkerInfo, now: float, interval: float) -> dict[str, Any]:
    """What the page and the API show of one worker (plain JSON values)."""
    age = max(0.0, now - info.last_heartbeat)
    return {
        "worker_id": info.worker_id,
        "hostname": info.hostname,
        "pid": info.pid,
        "queues": list(info.queues),
        "status": info.status,
        "state": info.state,
        "active_jobs": info.active_jobs,
        "current_jobs": list(info.current_jobs[:_MAX_JOBS]),
        "concurrency": info.concurrency,
        "processed": info.processed,
        "failed": info.failed,
        "started_at": info.started_at,
        "last_heartbeat": info.last_heartbeat,
        "last_beat_seconds_ago": round(age, 3),
        "stale": age > STALE_BEATS * interval,
    }


def _job_url(request: Request, job_id: str) -> str | None:
    """The jobs panel's page of ``job_id`` (``None`` when no jobs panel is mounted)."""
    try:
        return str(request.url_for("jobs:job", job_id=job_id))
    except NoMatchFound:
        return None


async def _listing(request: Request) -> dict[str, Any]:
    host = panel_host(request)
    found = await list_workers(await host.connection())
    now = time.time()
    interval = host.config.heartbeat_interval
    shown = [worker_view(info, now, interval) for info in found[:MAX_SHOWN]]
    return {
        "workers": shown,
        "total": len(found),
        "shown": len(shown),
        "truncated": len(found) > len(shown),
        "stale_after_seconds": STALE_BEATS * interval,
    }


async def page(request: Request) -> Response:
    listing = await _listing(request)
    for worker in listing["workers"]:
        worker["jobs"] = [(job_id, _job_url(request, job_id)) for job_id in worker["current_jobs"]]
    context = {"active": "workers", "page_title": "Workers", **listing}
    return render(request, "workers/page.html", context)


async def api_list(request: Request) -> Response:
    return json_response(await _listing(request))


def panel() -> Panel:
    return Panel(
        name="workers",
        title="Workers",
        routes=[Route("/", page, name="page")],
        api_routes=[Route("/", api_list, name="list")],
        templates="naq_dashboard",
        order=40,
    )
