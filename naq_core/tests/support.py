"""A real Worker for ``worker_tasks`` inside a test, bounded waits (from naq_core.testing), and
a throwaway dead-letter sink that keeps what it is given in a list."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from naq_core import DeadLetter, hookimpl
from naq_core.plugins import get_hooks
from naq_core.testing import worker as _testing
from naq_core.testing.worker import eventually, wait_until

__all__ = ["ListSink", "collect_dead_letters", "eventually", "running_worker", "wait_until"]

#: ``async with running_worker(url, queues, **options) as worker:`` runs ``worker_tasks``.
running_worker = partial(_testing.running_worker, tasks=("worker_tasks",))


class ListSink:
    """A dead-letter sink named ``list``: every letter it stores is appended to ``letters``."""

    name = "list"

    def __init__(self) -> None:
        self.letters: list[DeadLetter] = []

    async def store(self, letter: DeadLetter) -> None:
        self.letters.append(letter)


class _SinkPlugin:
    def __init__(self, sink: ListSink) -> None:
        self.sink = sink

    @hookimpl
    def naq_register_dead_letter_sinks(self, register: Callable[[ListSink], None]) -> None:
        register(self.sink)


def collect_dead_letters() -> ListSink:
    """A new :class:`ListSink`, registered (as a plugin) with the current plugin manager."""
    sink = ListSink()
    get_hooks().pm.register(_SinkPlugin(sink))
    return sink
