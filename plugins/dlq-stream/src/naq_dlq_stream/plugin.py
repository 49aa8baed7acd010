"""The ``dlq-stream`` plugin: the ``naq_dlq`` sink and the ``naq dlq`` commands.

Registered through the ``naq`` entry point ``dlq-stream``; this module is the plugin object.

A sink is made each time a worker asks for sinks (at its start). The worker's own
configuration is handed to the sinks it asked for when ``naq_worker_started`` runs (in the
same asyncio task), and their connections are closed at ``naq_worker_stopped``.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING

from naq_core.hookspecs import hookimpl
from naq_dlq_stream.settings import DlqSettings
from naq_dlq_stream.sink import StreamSink

if TYPE_CHECKING:
    import click

    from naq_core.deadletter import DeadLetterSink
    from naq_core.worker import Worker

__all__ = [
    "naq_register_commands",
    "naq_register_dead_letter_sinks",
    "naq_worker_started",
    "naq_worker_stopped",
]

_unbound: weakref.WeakKeyDictionary[asyncio.Task[object], list[StreamSink]] = weakref.WeakKeyDictionary()
_by_worker: dict[str, list[StreamSink]] = {}


def _current_task() -> asyncio.Task[object] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:  # no running loop
        return None


@hookimpl
def naq_register_dead_letter_sinks(register: Callable[[DeadLetterSink], None]) -> None:
    """Offer a :class:`StreamSink` (it connects on its first letter)."""
    sink = StreamSink()
    task = _current_task()
    if task is not None:
        _unbound.setdefault(task, []).append(sink)
    register(sink)


@hookimpl
def naq_worker_started(worker: Worker) -> None:
    """Give the sinks this worker asked for its configuration (URL, credentials).

    A bad ``[tool.naq.dlq_stream]`` table stops the worker here, not at its first letter.
    """
    DlqSettings.from_config(worker.config)
    task = _current_task()
    sinks = _unbound.pop(task, []) if task is not None else []
    for sink in sinks:
        sink.bind(worker.config)
    if sinks:
        _by_worker[worker.worker_id] = sinks


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
