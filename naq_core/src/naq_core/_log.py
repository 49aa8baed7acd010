"""naq's loggers: structlog when it is configured, else the standard ``logging`` module.

Libraries log, applications configure. An unconfigured structlog prints every event on
stdout, so naq never relies on its defaults: :func:`get_logger` returns a small logger that
decides at each event

- structlog is configured (by the ``naq`` command through :mod:`naq_core.logconfig`, by the
  application, or by ``structlog.testing.capture_logs``): the event goes to a logger bound
  from ``structlog.get_logger(name)``, kept until structlog's configuration changes (so an
  event below a filtering logger's level costs a dictionary look-up and a no-op call, not
  a new bound logger per event);
- otherwise: to ``logging.getLogger(name)``, whose level is checked first (an event below
  it costs one comparison and no formatting), then as one record whose message is
  ``event key=value ...`` (values as ``repr``), with the event and its fields also in the
  record's ``naq_event`` and ``naq_fields`` attributes. With no handler configured,
  Python's last-resort handler prints warnings and errors on stderr; nothing goes to
  stdout.

Nothing here changes any global configuration.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import structlog

__all__ = ["NaqLogger", "get_logger"]

_is_configured = structlog.is_configured


class NaqLogger:
    """The logger :func:`get_logger` returns: ``debug`` .. ``critical``, ``exception``, ``bind``."""

    __slots__ = ("_bound", "_context", "_name", "_stdlib")

    def __init__(self, name: str, context: Mapping[str, Any] | None = None) -> None:
        self._name = name
        self._context: dict[str, Any] = dict(context or {})
        self._stdlib = logging.getLogger(name)
        self._bound: tuple[tuple[int, object, object, object], Any] | None = None

    def bind(self, **values: Any) -> NaqLogger:
        """A logger that adds ``values`` to every event."""
        return NaqLogger(self._name, {**self._context, **values})

    def is_enabled_for(self, level: int) -> bool:
        """Whether an event at ``level`` (``logging.DEBUG``, ...) would be emitted: lets a
        caller skip building the fields of an event nobody sees (a per-job debug event)."""
        if _is_configured():
            check = getattr(self._structlog(), "is_enabled_for", None)
            return True if check is None else bool(check(level))
        return self._stdlib.isEnabledFor(level)

    def debug(self, event: str, **fields: Any) -> None:
        self._log(logging.DEBUG, "debug", event, fields)

    def info(self, event: str, **fields: Any) -> None:
        self._log(logging.INFO, "info", event, fields)

    def warning(self, event: str, **fields: Any) -> None:
        self._log(logging.WARNING, "warning", event, fields)

    def error(self, event: str, **fields: Any) -> None:
        self._log(logging.ERROR, "error", event, fields)

    def critical(self, event: str, **fields: Any) -> None:
        self._log(logging.CRITICAL, "critical", event, fields)

    def exception(self, event: str, **fields: Any) -> None:
        """An error with the traceback of the exception being handled."""
        fields.setdefault("exc_info", True)
        self._log(logging.ERROR, "exception", event, fields)

    def _log(self, level: int, method: str, event: str, fields: dict[str, Any]) -> None:
        if _is_configured():
            getattr(self._structlog(), method)(event, **fields)
        elif self._stdlib.isEnabledFor(level):
            self._emit(level, event, fields)

    def _structlog(self) -> Any:
        """A bound structlog logger, made again whenever structlog's configuration changed.

        The key holds the processors list by ``id``; the bound logger kept beside it holds
        that list, so the id cannot be reused by another list while the key lives.
        """
        config = structlog.get_config()
        key = (
            id(config["processors"]),
            config["wrapper_class"],
            config["logger_factory"],
            config["context_class"],
        )
        bound = self._bound
        if bound is None or bound[0] != key:
            bound = self._bound = (key, structlog.get_logger(self._name, **self._context).bind())
        return bound[1]

    def _emit(self, level: int, event: str, fields: dict[str, Any]) -> None:
        exc_info = fields.pop("exc_info", None)
        stack_info = bool(fields.pop("stack_info", False))
        values = {**self._context, **fields}
        message = " ".join([event, *(f"{key}={value!r}" for key, value in values.items())])
        self._stdlib.log(
            level,
            message,
            exc_info=exc_info,
            stack_info=stack_info,
            stacklevel=4,  # the caller of debug()/info()/...: not this module
            extra={"naq_event": event, "naq_fields": values},
        )


_loggers: dict[str, NaqLogger] = {}


def get_logger(name: str) -> NaqLogger:
    """The logger of module ``name``: ``log = get_logger(__name__)`` inside a function."""
    logger = _loggers.get(name)
    if logger is None:
        logger = _loggers.setdefault(name, NaqLogger(name))
    return logger
