"""The ``dlq-stream`` plugin: the ``naq_dlq`` sink, the ``naq dlq`` commands and the dashboard's
"Dead letters" panel (its module, which needs Starlette, is imported only when a dashboard asks).

Registered through the ``naq`` entry point ``dlq-stream``; this module is the plugin object.

A sink is made each time a worker asks for sinks (at its start), with that worker's
configuration; its connection is closed at ``naq_worker_stopped``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from naq_core.hookspecs import hookimpl
from naq_dlq_stream.settings import DlqSettings, naq_plugin_settings
from naq_dlq_stream.sink import StreamSink

if TYPE_CHECKING:
    import click

    from naq_core.config import Config
    from naq_core.deadletter import DeadLetterSink
    from naq_core.panels import Panel
    from naq_core.worker import Worker

__all__ = [
    "naq_plugin_settings",
    "naq_register_commands",
    "naq_register_dashboard_panels",
    "naq_register_dead_letter_sinks",
    "naq_worker_stopped",
]

_by_worker: dict[str, list[StreamSink]] = {}


@hookimpl
def naq_register_dead_letter_sinks(
    register: Callable[[DeadLetterSink], None], config: Config, worker: Worker
) -> None:
    """Offer a :class:`StreamSink` for ``worker`` (it connects on its first letter).

    A bad ``[tool.naq.dlq_stream]`` table stops the worker here, not at its first letter.
    """
    DlqSettings.from_config(config)
    sink = StreamSink(config)
    _by_worker.setdefault(worker.worker_id, []).append(sink)
    register(sink)


@hookimpl
async def naq_worker_stopped(worker: Worker) -> None:
    """Close the connections of this worker's sinks."""
    for sink in _by_worker.pop(worker.worker_id, []):
        await sink.aclose()


@hookimpl
def naq_register_commands(cli: click.Group) -> None:
    """``naq dlq list|show|requeue|delete|purge``."""
    from naq_dlq_stream.cli import dlq

    cli.add_command(dlq)


@hookimpl
def naq_register_dashboard_panels(register: Callable[[Panel], None], config: Config) -> None:
    """The dashboard's "Dead letters" page (``/dead-letters``) and API (``/api/dead-letters``)."""
    from naq_dlq_stream.panel import panel

    register(panel())
