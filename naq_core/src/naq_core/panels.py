"""Dashboard panels: what a plugin hands the dashboard through ``naq_register_dashboard_panels``.

A panel is one page (or a few) of the naq dashboard: its routes, the templates they render
and its entry in the navigation. Core defines the value so that any plugin (dlq-stream's
dead-letter page, a metrics page) can offer a panel without depending on the dashboard, and
the dashboard can mount panels without knowing the plugins.

The dashboard (a Starlette app) mounts each panel's ``routes`` under ``/<name>`` (so a
route ``"/"`` is the panel's page at ``/<name>/``), adds a template loader for
``templates`` to its one ``Jinja2Templates``, and lists the panels in the navigation by
``order``, then ``name``. Core never imports Starlette: ``routes`` are opaque to it.

A panel's handlers reach the dashboard through :func:`panel_host`, which returns the
:class:`PanelHost` of the app serving the request (its NATS connection, its configuration,
its renderer). So a plugin's panel works in any dashboard that implements the protocol and
never imports the dashboard package.

Templates a host provides to every panel: ``base.html``, the layout, which a panel's page
extends (``{% extends "base.html" %}``), filling ``{% block content %}`` and passing
``active`` (the panel's name) and ``page_title``; and ``_macros.html``, which a panel may
import (``action(url, label, csrf_token, fields=..., danger=..., confirm=...)``: a POST
form carrying the form token; ``status(value)``). In every page's context: ``read_only``,
``csrf_token``, ``url_for`` and the filters ``timestamp``, ``ago``, ``duration``, ``size``,
``count``. An element with ``data-live`` and an ``id`` is re-read when the streams named
in its ``data-topics`` change.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from attrs import field, frozen, validators

if TYPE_CHECKING:
    from naq_core._jetstream.connection import Connection
    from naq_core.config import Config

__all__ = ["HOST_STATE_KEY", "Panel", "PanelHost", "panel_host"]

#: The attribute of ``app.state`` where a dashboard keeps its :class:`PanelHost`.
HOST_STATE_KEY = "naq_panel_host"

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def _routes(value: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(value)


@frozen(kw_only=True)
class Panel:
    """One dashboard page offered by a plugin.

    ``name``: a URL slug (lower-case letters, digits, ``-``), unique among panels; the panel
    lives under ``/<name>/`` and its templates under ``<name>/`` in the template search path.

    ``title``: the navigation label ("Dead letters").

    ``routes``: the ASGI routes of the panel, relative to its mount point (for the Starlette
    dashboard, ``starlette.routing.Route`` / ``Mount`` objects). Handlers find the
    dashboard's shared objects (NATS connection, templates) on ``request.app.state``.

    ``templates``: an importable package whose ``templates/`` directory holds the panel's
    Jinja templates (``None``: the panel renders none), so a plugin ships them as package
    data.

    ``order``: position in the navigation, lowest first (the built-in pages use 0-99).

    ``job_section``: a template (in ``templates``) the dashboard includes in every job
    page, with the job's record as ``record`` in its context (``None``: none). This is how a
    plugin adds rows to the job page (a link to logs or traces, its own data about the job).

    ``api_routes``: JSON routes of the panel, mounted under ``/api/<name>`` (so the
    queues panel's ``"/"`` is ``/api/queues``). Same rules as ``routes``.

    ``in_navigation``: ``False`` for a panel that only contributes routes or a job section.
    """

    name: str = field(validator=validators.matches_re(_NAME))
    title: str = field(validator=validators.min_len(1))
    routes: tuple[Any, ...] = field(converter=_routes, factory=tuple)
    templates: str | None = field(default=None, validator=validators.optional(validators.min_len(1)))
    order: int = field(default=100, validator=validators.instance_of(int))
    api_routes: tuple[Any, ...] = field(converter=_routes, factory=tuple)
    job_section: str | None = field(default=None, validator=validators.optional(validators.min_len(1)))
    in_navigation: bool = field(default=True, validator=validators.instance_of(bool))


class PanelHost(Protocol):
    """What a dashboard offers the panels it serves (see :func:`panel_host`)."""

    #: The dashboard's effective configuration.
    config: Config
    #: ``True`` when the dashboard is read-only: every action is refused by the server
    #: anyway; a panel uses this to hide its buttons.
    read_only: bool

    async def connection(self) -> Connection:
        """The dashboard's shared NATS connection (opened on first use, never closed by a panel)."""
        ...

    def on_close(self, callback: Callable[[], Awaitable[None]]) -> None:
        """Await ``callback`` when the dashboard shuts down, before its connection closes.

        A panel that starts background work (a bulk action, a cache refresher) registers its
        stop here; a failing callback is logged and does not keep the others from running.
        """
        ...

    def render(self, request: Any, template: str, context: dict[str, Any], status_code: int = 200) -> Any:
        """A rendered HTML response of ``template`` in the dashboard's layout.

        ``context`` is added to what every page gets (``request``, ``url_for``, the
        navigation, ``read_only``, ``csrf_token`` for forms).
        """
        ...


def panel_host(request: Any) -> PanelHost:
    """The :class:`PanelHost` of the dashboard serving ``request`` (a Starlette request)."""
    host = getattr(request.app.state, HOST_STATE_KEY, None)
    if host is None:
        raise RuntimeError("this request is not served by a naq dashboard (no panel host on app.state)")
    return host  # type: ignore[no-any-return]
