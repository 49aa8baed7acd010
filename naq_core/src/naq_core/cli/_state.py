"""What every command shares: the global options, the effective config, output helpers."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import warnings
from collections.abc import Coroutine, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

import click
from attrs import define, field

from naq_core.config import Config, load_config

__all__ = [
    "CliState",
    "Refused",
    "add_cwd_to_path",
    "echo_json",
    "echo_nothing",
    "get_state",
    "restore_interrupt_handlers",
    "run_async",
    "sigterm_as_interrupt",
    "table",
]

T = TypeVar("T")


class Refused(click.ClickException):
    """A destructive action was not confirmed: one line on stderr, exit code 2."""

    exit_code = 2


@define(kw_only=True)
class CliState:
    """The group's global options, handed to every command as ``ctx.obj``."""

    config_path: Path | None = None
    nats_url: str | None = None
    log_level: str | None = None
    log_format: str | None = None
    debug: bool = False
    #: The log level when none is configured (flag, NAQ_LOG_LEVEL, config file): one-shot
    #: commands show warnings and errors only; worker, server and dev set "info".
    default_log_level: str = "warning"
    _logging_done: bool = field(default=False, alias="_logging_done")

    def config(self, **overrides: Any) -> Config:
        """The effective config (files < ``NAQ_*`` < global flags < ``overrides``).

        The first call also configures logging from the result (at
        :attr:`default_log_level` unless a level is configured), so a command that never
        needs the config (``--help``) never fails on a bad config file.
        """
        merged = {
            "nats_url": self.nats_url,
            "log_level": self.log_level,
            "log_format": self.log_format,
            **overrides,
        }
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DeprecationWarning)  # the original naq's variables
            config = load_config(self.config_path, overrides=merged, for_cli=True)
        for warning in caught:
            if issubclass(warning.category, DeprecationWarning):
                click.echo(f"Warning: {warning.message}", err=True)
            else:
                warnings.showwarning(warning.message, warning.category, warning.filename, warning.lineno)
        if not self._logging_done:
            from naq_core import logconfig

            level = config.log_level if "log_level" in config.sources else self.default_log_level
            logconfig.configure(level, config.log_format)
            self._logging_done = True
        return config


def get_state(ctx: click.Context | None = None) -> CliState:
    """The :class:`CliState` of the running ``naq`` invocation (defaults when run bare)."""
    ctx = ctx or click.get_current_context()
    state = ctx.find_object(CliState)
    if state is None:
        state = ctx.ensure_object(CliState)
    return state


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine in a fresh event loop."""
    return asyncio.run(coro)


def echo_json(data: Any) -> None:
    """Print ``data`` as indented JSON on stdout (unknown types via ``str``)."""
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def echo_nothing(as_json: bool, message: str) -> None:
    """What a command prints when it finds nothing to do: ``[]`` with --json, else ``message``."""
    if as_json:
        echo_json([])
    else:
        click.echo(message)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain left-aligned text table (no colour, safe to pipe)."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines)


def add_cwd_to_path() -> None:
    """Let ``-t myapp.tasks`` import from the project the command runs in (like python -m)."""
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C (``KeyboardInterrupt``) so ``finally`` blocks run.

    Child processes such as nats-server run in their own session: they never see the
    terminal's signals, so they must be stopped by our cleanup code.
    """
    try:
        previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    except ValueError:  # not the main thread (e.g. embedded): nothing to do
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def restore_interrupt_handlers() -> None:
    """Put back the handlers of :func:`sigterm_as_interrupt` after asyncio removed its own."""
    try:
        signal.signal(signal.SIGTERM, _raise_interrupt)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    except ValueError:
        pass
