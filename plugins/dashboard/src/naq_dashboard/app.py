"""``create_app``: the dashboard as a Starlette app, alone or mounted in a host app.

Every page is a panel from the ``naq_register_dashboard_panels`` hook (the built-in ones
included): the app mounts each panel's routes under ``/<name>`` and its JSON routes under
``/api/<name>``. Around them: ``/`` (to the first page), ``/static`` (assets shipped in the
package), ``/events`` (live updates), ``/healthz`` and ``/readyz``. Every URL in a page
comes from ``url_for``, so all of it works mounted under a sub-path.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from naq_core.config import Config, load_config
from naq_core.errors import NaqConnectionError, NaqError
from naq_core.panels import HOST_STATE_KEY
from naq_core.plugins import Hooks, get_hooks
from naq_dashboard.events import events, healthz, readyz
from naq_dashboard.host import DashboardHost
from naq_dashboard.security import Guard
from naq_dashboard.settings import DashboardSettings

__all__ = ["create_app", "host_of", "lifespan"]

_log = logging.getLogger("naq_dashboard")


def create_app(
    config: Config | None = None,
    *,
    read_only: bool | None = None,
    hooks: Hooks | None = None,
) -> Starlette:
    """The dashboard app.

    ``config``: naq's configuration (default: :func:`naq_core.config.load_config`); the
    dashboard reads ``[tool.naq.dashboard]`` from it. ``read_only`` overrides that table's
    ``read_only``. ``hooks``: the plugins to use (default: this process's).

    Mounted in another app (``Mount("/naq", app=create_app())``), call :func:`lifespan`
    from the host's lifespan so the NATS connection is closed on shutdown; Starlette does not
    run a mounted app's own lifespan. Without it the dashboard still works: it connects
    on first use.
    """
    config = load_config() if config is None else config
    hooks = get_hooks() if hooks is None else hooks
    settings = DashboardSettings.from_config(config)
    panels = hooks.dashboard_panels(config=config)
    host = DashboardHost(
        config=config,
        hooks=hooks,
        settings=settings,
        read_only=settings.read_only if read_only is None else read_only,
        panels=panels,
    )
    routes: list[BaseRoute] = [
        Route("/", _home, name="home"),
        Route("/events", events, name="events"),
        Route("/healthz", healthz, name="healthz"),
        Route("/readyz", readyz, name="readyz"),
        Mount("/static", app=StaticFiles(packages=[("naq_dashboard", "static")]), name="static"),
    ]
    for panel in panels:
        if panel.api_routes:
            routes.append(
                Mount(f"/api/{panel.name}", routes=list(panel.api_routes), name=f"api-{panel.name}")
            )
    for panel in panels:
        if panel.routes:
            routes.append(Mount(f"/{panel.name}", routes=list(panel.routes), name=panel.name))

    @contextlib.asynccontextmanager
    async def own_lifespan(_: Starlette) -> AsyncIterator[None]:
        async with host.lifespan():
            yield

    guard = Middleware(Guard, settings=settings, read_only=host.read_only, csrf_token=host.csrf_token)
    app = Starlette(
        routes=routes,
        middleware=[guard],
        lifespan=own_lifespan,
        exception_handlers={
            HTTPException: _http_error,
            NaqConnectionError: _nats_unreachable,
            NaqError: _naq_error,
            Exception: _server_error,
        },
    )
    setattr(app.state, HOST_STATE_KEY, host)
    return app


def host_of(app: Starlette) -> DashboardHost:
    """The :class:`DashboardHost` of an app made by :func:`create_app`."""
    host = getattr(app.state, HOST_STATE_KEY, None)
    if not isinstance(host, DashboardHost):
        raise TypeError("not a naq dashboard app (made by naq_dashboard.create_app)")
    return host


def lifespan(app: Starlette) -> contextlib.AbstractAsyncContextManager[None]:
    """The dashboard's lifespan, for a host app that mounts it::

    dashboard = create_app()

    @contextlib.asynccontextmanager
    async def host_lifespan(app):
        async with naq_dashboard.lifespan(dashboard):
            yield
    """
    return host_of(app).lifespan()


async def _home(request: Request) -> Response:
    host = host_of(request.app)
    if not host.nav:
        return PlainTextResponse("No dashboard panels are installed.", status_code=404)
    return RedirectResponse(str(request.url_for(f"{host.nav[0].name}:page")), status_code=307)


def _wants_json(request: Request) -> bool:
    # inside a Mount, root_path includes the mount ("/api/x"); app_root_path is the app's own
    root = request.scope.get("app_root_path", request.scope.get("root_path", ""))
    path = request.url.path[len(root) :] if root else request.url.path
    return path.startswith("/api/") or "application/json" in request.headers.get("accept", "")


def _error_page(request: Request, status: int, title: str, detail: str) -> Response:
    if _wants_json(request):
        from starlette.responses import JSONResponse

        return JSONResponse({"error": detail}, status_code=status)
    host = host_of(request.app)
    context: dict[str, Any] = {"title": title, "detail": detail, "status": status}
    return host.render(request, "error.html", context, status_code=status)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code in (204, 304):
        return Response(status_code=exc.status_code)
    titles = {400: "Bad request", 403: "Refused", 404: "Not found", 405: "Method not allowed"}
    return _error_page(request, exc.status_code, titles.get(exc.status_code, "Error"), str(exc.detail))


async def _nats_unreachable(request: Request, exc: Exception) -> Response:
    _log.warning("dashboard: NATS unreachable: %s", exc)
    detail = f"NATS is unreachable at {host_of(request.app).nats_url}. The page works again when it is back."
    return _error_page(request, 503, "NATS unreachable", detail)


async def _naq_error(request: Request, exc: Exception) -> Response:
    return _error_page(request, 400, "Refused", str(exc))


async def _server_error(request: Request, exc: Exception) -> Response:
    _log.error("dashboard: %s %s failed", request.method, request.url.path, exc_info=exc)
    return PlainTextResponse("Internal server error; the dashboard's log has the details.", status_code=500)
