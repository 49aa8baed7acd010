"""An example third-party panel, as docs/dashboard.md shows it: a page, a JSON route, an
action and a section on every job page, on the core panel hook alone (no naq_dashboard import)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from naq_core.config import Config
from naq_core.hookspecs import hookimpl
from naq_core.overview import queue_names
from naq_core.panels import Panel, panel_host

__all__ = ["naq_register_dashboard_panels"]


async def page(request: Request) -> Response:
    host = panel_host(request)
    names = await queue_names(await host.connection())
    clicks = request.app.state.hello_clicks if hasattr(request.app.state, "hello_clicks") else 0
    context: dict[str, Any] = {"active": "hello", "page_title": "Hello", "queues": names, "clicks": clicks}
    response: Response = host.render(request, "hello/page.html", context)
    return response


async def click(request: Request) -> Response:
    request.app.state.hello_clicks = getattr(request.app.state, "hello_clicks", 0) + 1
    return RedirectResponse(str(request.url_for("hello:page")), status_code=303)


async def api(request: Request) -> Response:
    host = panel_host(request)
    return JSONResponse({"queues": await queue_names(await host.connection())})


@hookimpl
def naq_register_dashboard_panels(register: Callable[[Panel], None], config: Config) -> None:
    register(
        Panel(
            name="hello",
            title="Hello",
            routes=[Route("/", page, name="page"), Route("/click", click, methods=["POST"], name="click")],
            api_routes=[Route("/", api, name="list")],
            templates="example_panel_pkg",
            job_section="hello/job_section.html",
            order=90,
        )
    )
