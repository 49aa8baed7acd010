"""The dashboard's hook implementations: its settings table, ``naq dashboard``, the built-in panels."""

from __future__ import annotations

from collections.abc import Callable

import click

from naq_core.config import Config
from naq_core.hookspecs import hookimpl
from naq_core.panels import Panel
from naq_dashboard.panels import builtin_panels
from naq_dashboard.settings import naq_plugin_settings

__all__ = ["naq_plugin_settings", "naq_register_commands", "naq_register_dashboard_panels"]


@hookimpl
def naq_register_commands(cli: click.Group) -> None:
    """Add ``naq dashboard``."""
    from naq_dashboard.cli import dashboard

    cli.add_command(dashboard)


@hookimpl
def naq_register_dashboard_panels(register: Callable[[Panel], None], config: Config) -> None:
    """The built-in pages: overview, queues, jobs, schedules, workers."""
    for panel in builtin_panels():
        register(panel)
