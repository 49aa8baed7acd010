"""What a ``naq`` command gets: the effective config, the hooks, a connection to NATS.

A plugin command (``naq_register_commands``) takes a :class:`NaqContext` with
:func:`pass_naq_context` instead of reading the global options itself, so
``naq --nats-url URL stats`` and ``naq stats --nats-url URL`` mean the same (stream and
subject names come from :mod:`naq_core.jetstream`)::

    @click.command("stats")
    @click.argument("queue")
    @pass_naq_context
    def stats(ctx: NaqContext, queue: str) -> None:
        async def count() -> int:
            async with ctx.connect() as conn:
                info = await conn.js.stream_info(JOBS_STREAM, subjects_filter=queue_filter(queue))
                return sum((info.state.subjects or {}).values())

        ctx.echo_json({"queue": queue, "messages": ctx.run(count())})

Errors: raise :class:`naq_core.errors.NaqError` (or call :meth:`NaqContext.fail`) and the
``naq`` group prints one line, ``Error: ...``, with a non-zero exit code.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, NoReturn, ParamSpec, TypeVar

import click

from naq_core.cli._state import echo_json, get_state, run_async
from naq_core.config import Config
from naq_core.jetstream import Connection

if TYPE_CHECKING:
    from naq_core.plugins import Hooks

__all__ = ["NaqConnection", "NaqContext", "pass_naq_context"]

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


#: The connection :meth:`NaqContext.connect` yields: :class:`naq_core.jetstream.Connection`
#: (``nc``, ``js``, ``config``, ``serializer``). The old name of the type, kept.
NaqConnection = Connection


class NaqContext:
    """The running ``naq`` invocation, as a command sees it.

    Build it with :func:`pass_naq_context` (or :meth:`current`). The config is read once,
    on first use, so ``--help`` never fails on a bad config file.
    """

    def __init__(self, click_context: click.Context) -> None:
        self._state = get_state(click_context)
        self._config: Config | None = None

    @classmethod
    def current(cls) -> NaqContext:
        """The context of the command click is running now."""
        return cls(click.get_current_context())

    @property
    def config(self) -> Config:
        """The effective :class:`~naq_core.config.Config`: defaults < file < ``NAQ_*`` < flags."""
        if self._config is None:
            self._config = self._state.config()
        return self._config

    @property
    def config_path(self) -> Path | None:
        """The ``--config`` given on the command line (``None``: found as usual)."""
        return self._state.config_path

    @property
    def hooks(self) -> Hooks:
        """The plugin hooks of this process (:class:`naq_core.plugins.Hooks`)."""
        from naq_core.plugins import get_hooks

        return get_hooks()

    @property
    def debug(self) -> bool:
        """Whether ``--debug`` was given."""
        return self._state.debug

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[Connection]:
        """A connection with the effective config, closed when the block ends."""
        from naq_core.queue import Queue

        async with Queue(config=self.config) as queue:
            yield await queue.connection()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` to its end from a synchronous click command (a fresh event loop)."""
        return run_async(coro)

    def echo_json(self, data: Any) -> None:
        """Print ``data`` as indented JSON on stdout (what ``--json`` options print)."""
        echo_json(data)

    def fail(self, message: str) -> NoReturn:
        """Stop the command: ``Error: <message>`` on stderr, exit code 1."""
        raise click.ClickException(message)


def pass_naq_context(command: Callable[Concatenate[NaqContext, P], R]) -> Callable[P, R]:
    """Decorate a click callback to receive the :class:`NaqContext` as first argument."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        return command(NaqContext.current(), *args, **kwargs)

    return wrapper
