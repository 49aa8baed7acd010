"""Dashboard panels: what a plugin hands the dashboard through ``naq_register_dashboard_panels``.

A panel is one page (or a few) of the naq dashboard: its routes, the templates they render
and its entry in the navigation. Core defines the value so that any plugin (dlq-stream's
dead-letter page, a metrics page) can offer a panel without depending on the dashboard, and
the dashboard can mount panels without knowing the plugins.

The dashboard (a Starlette app) mounts each panel's ``routes`` under ``/<name>`` (so a
route ``"/"`` is the panel's page at ``/<name>/``), adds a template loader for
``templates`` to its one ``Jinja2Templates``, and lists the panels in the navigation by
``order``, then ``name``. Core never imports Starlette: ``routes`` are opaque to it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from attrs import field, frozen, validators

__all__ = ["Panel"]

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
    """

    name: str = field(validator=validators.matches_re(_NAME))
    title: str = field(validator=validators.min_len(1))
    routes: tuple[Any, ...] = field(converter=_routes, factory=tuple)
    templates: str | None = field(default=None, validator=validators.optional(validators.min_len(1)))
    order: int = field(default=100, validator=validators.instance_of(int))
