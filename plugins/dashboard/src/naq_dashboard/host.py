"""The dashboard's shared objects: one :class:`DashboardHost` per app, on ``app.state``.

It implements :class:`naq_core.panels.PanelHost`, the protocol panels (built-in or from
other plugins) use: the NATS connection, opened on first use and shared by every request;
the configuration; the renderer that puts a panel's template in the common layout.
Nothing lives at module level, so two dashboards can run in one process.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import jinja2
from starlette.templating import Jinja2Templates

from naq_core.config import Config, mask_url
from naq_core.jetstream import Connection, connect
from naq_core.panels import Panel
from naq_core.plugins import Hooks
from naq_dashboard import formatting
from naq_dashboard.live import LiveHub
from naq_dashboard.settings import DashboardSettings

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

__all__ = ["DashboardHost", "NavEntry"]

_log = logging.getLogger("naq_dashboard")


class NavEntry:
    """A navigation link: the panel's title and the name of its page route."""

    def __init__(self, panel: Panel) -> None:
        self.name = panel.name
        self.title = panel.title


class DashboardHost:
    """What every request of one dashboard app shares (see the module text)."""

    def __init__(
        self,
        *,
        config: Config,
        hooks: Hooks,
        settings: DashboardSettings,
        read_only: bool,
        panels: list[Panel],
    ) -> None:
        self.config = config
        self.hooks = hooks
        self.settings = settings
        self.read_only = read_only
        self.panels = panels
        self.csrf_token = secrets.token_urlsafe(32)
        self.nav = [NavEntry(p) for p in panels if p.in_navigation]
        self.job_sections = [p.job_section for p in panels if p.job_section]
        self.templates = _templates(panels)
        self.live = LiveHub(self)
        self._conn: Connection | None = None
        self._lock = asyncio.Lock()
        self._on_close: list[Callable[[], Awaitable[None]]] = []

    @property
    def nats_url(self) -> str:
        """The NATS address with any password masked (what pages may show)."""
        return ", ".join(mask_url(u) for u in self.config.nats_url)

    async def connection(self) -> Connection:
        """The shared connection (nats-py reconnects it by itself after a NATS restart)."""
        if self._conn is not None and not self._conn.nc.is_closed:
            return self._conn
        async with self._lock:
            if self._conn is None or self._conn.nc.is_closed:
                self._conn = await connect(self.config, hooks=self.hooks, name="naq-dashboard")
            return self._conn

    def render(
        self, request: Request, template: str, context: dict[str, Any], status_code: int = 200
    ) -> Response:
        """``template`` rendered in the common layout (see :class:`naq_core.panels.PanelHost`)."""
        base = {
            "host": self,
            "active": None,
            "page_title": "",
            "nav": self.nav,
            "read_only": self.read_only,
            "csrf_token": self.csrf_token,
            "settings": self.settings,
            "message": (request.query_params.get("msg") or "")[:200],
        }
        return self.templates.TemplateResponse(
            request, template, {**base, **context}, status_code=status_code
        )

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        """Run the app: on exit, stop the live watcher and close the NATS connection."""
        try:
            yield
        finally:
            await self.close()

    def on_close(self, callback: Callable[[], Awaitable[None]]) -> None:
        """Await ``callback`` at shutdown, before the connection closes (panels' background work)."""
        self._on_close.append(callback)

    async def close(self) -> None:
        """Stop the live watcher and the panels' background work, close the connection (idempotent)."""
        await self.live.close()
        callbacks, self._on_close = self._on_close, []
        for callback in callbacks:
            try:
                await callback()
            except Exception:
                _log.warning("a dashboard panel's close callback failed", exc_info=True)
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.close()
            except Exception:  # closing a broken connection must not fail the shutdown
                _log.debug("closing the dashboard's NATS connection failed", exc_info=True)


def _templates(panels: list[Panel]) -> Jinja2Templates:
    loaders: list[jinja2.BaseLoader] = [jinja2.PackageLoader("naq_dashboard", "templates")]
    for panel in panels:
        if panel.templates and panel.templates != "naq_dashboard":
            loaders.append(jinja2.PackageLoader(panel.templates, "templates"))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders), autoescape=True, undefined=jinja2.StrictUndefined
    )
    formatting.install(env)
    return Jinja2Templates(env=env)
