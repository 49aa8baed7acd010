"""Overview: every queue at a glance (pending, in flight, workers, paused), from server state."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from naq_core.overview import queue_stats
from naq_core.panels import Panel, panel_host

__all__ = ["panel"]


async def page(request: Request) -> Response:
    host = panel_host(request)
    conn = await host.connection()
    stats = await queue_stats(conn)
    response: Response = host.render(
        request, "overview/page.html", {"active": "overview", "page_title": "Overview", "queues": stats}
    )
    return response


def panel() -> Panel:
    return Panel(
        name="overview",
        title="Overview",
        routes=[Route("/", page, name="page")],
        templates="naq_dashboard",
        order=0,
    )
