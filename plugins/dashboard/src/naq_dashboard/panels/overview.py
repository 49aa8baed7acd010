"""Overview: every queue at a glance, workers online, dead letters, and the last hour's chart.

Everything comes from JetStream state (see :mod:`naq_dashboard.queue_state`): consumer info,
stream info, one message timestamp per queue, heartbeats. The chart sums the per-minute
counts live workers publish in their heartbeats (a stopped worker's history leaves with it).
"""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from naq_core.panels import Panel, panel_host
from naq_dashboard.minute_chart import minute_chart
from naq_dashboard.pages import json_response, render
from naq_dashboard.queue_state import DISCOVERY_SUBJECTS, Board, read_board

__all__ = ["overview_data", "panel"]

#: The live regions' topics: the jobs stream, consumer state and heartbeats.
TOPICS = "naq_jobs consumers KV_naq_workers"


def overview_data(board: Board, now: float | None = None) -> dict[str, Any]:
    """The overview's numbers as the JSON API answers them."""
    now = time.time() if now is None else now
    return {
        "queues": [q.to_dict(now) for q in board.queues],
        "complete": board.complete,
        "totals": {
            "pending": sum(q.pending for q in board.queues),
            "in_flight": sum(q.in_flight for q in board.queues),
            "redelivered": sum(q.redelivered for q in board.queues),
        },
        "workers_online": len(board.workers),
        "dead_letters": board.dead_letters,
        "history": [
            {"minute": m.minute * 60, "completed": m.completed, "failed": m.failed} for m in board.history
        ],
    }


async def page(request: Request) -> Response:
    host = panel_host(request)
    board = await read_board(await host.connection())
    context = {
        "active": "overview",
        "page_title": "Overview",
        "board": board,
        "data": overview_data(board),
        "chart": minute_chart(board.history),
        "topics": TOPICS,
        "discovery": DISCOVERY_SUBJECTS,
    }
    return render(request, "overview/page.html", context)


async def api(request: Request) -> Response:
    host = panel_host(request)
    return json_response(overview_data(await read_board(await host.connection())))


def panel() -> Panel:
    return Panel(
        name="overview",
        title="Overview",
        routes=[Route("/", page, name="page")],
        api_routes=[Route("/", api, name="overview")],
        templates="naq_dashboard",
        order=0,
    )
