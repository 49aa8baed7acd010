"""Logging setup for applications: the ``naq`` command line is the only caller in naq.

Libraries log, applications configure: every naq module (and plugin) logs through
:func:`get_logger`, which hands each event to structlog when structlog is configured and to
the standard :mod:`logging` module otherwise (so a program that configures nothing gets
warnings and errors on stderr, and nothing on stdout). :func:`configure` decides what those
events (and the records of stdlib loggers, such as nats-py's) look like. Both go through one handler on the
stdlib root logger, written to stderr so that stdout stays clean for ``--json`` output:

- ``console``: readable key=value lines, coloured only when stderr is a terminal (and
  ``NO_COLOR`` is unset);
- ``json``: one JSON object per line, with the traceback as structured data.

Nothing happens if structlog is already configured (by the program that embeds naq, or by
``structlog.testing.capture_logs``).
"""

from __future__ import annotations

import logging
import os
import sys

import structlog
from structlog.typing import Processor

from naq_core._log import NaqLogger, get_logger

__all__ = ["FORMATS", "LEVELS", "NaqLogger", "configure", "get_logger", "reset"]

LEVELS = ("debug", "info", "warning", "error", "critical")
FORMATS = ("console", "json")
_HANDLER_NAME = "naq-cli"
_saved_root_level: int | None = None


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record is emitted.

    Test runners (click's ``CliRunner``, pytest's capture) swap ``sys.stderr``; holding on to
    the stream seen at configuration time would write into a closed buffer later.
    """

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def _level_number(level: str) -> int:
    name = level.lower()
    if name not in LEVELS:
        raise ValueError(f"log level must be one of {', '.join(LEVELS)}, got {level!r}")
    return logging.getLevelNamesMapping()[name.upper()]


def _colors() -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())


def configure(level: str = "info", fmt: str = "console") -> bool:
    """Configure structlog and the stdlib root logger; returns ``False`` if already configured.

    ``level`` is one of :data:`LEVELS` (events below it are dropped by a
    :func:`structlog.make_filtering_bound_logger`, so they cost almost nothing);
    ``fmt`` is ``"console"`` or ``"json"``.
    """
    global _saved_root_level
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    number = _level_number(level)
    if structlog.is_configured():
        return False

    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=fmt == "json"),
        structlog.processors.StackInfoRenderer(),
    ]
    renderer: Processor
    if fmt == "json":
        shared.append(structlog.processors.dict_tracebacks)
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=_colors())

    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(number),
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = _StderrHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    _remove_handler(root)
    root.addHandler(handler)
    if _saved_root_level is None:
        _saved_root_level = root.level
    root.setLevel(number)
    return True


def _remove_handler(root: logging.Logger) -> None:
    for handler in list(root.handlers):
        if handler.get_name() == _HANDLER_NAME:
            root.removeHandler(handler)


def reset() -> None:
    """Undo :func:`configure` (for tests that run the CLI in-process)."""
    global _saved_root_level
    structlog.reset_defaults()
    root = logging.getLogger()
    _remove_handler(root)
    if _saved_root_level is not None:
        root.setLevel(_saved_root_level)
        _saved_root_level = None
