"""The original naq's ``naq.exceptions`` module, kept until naq 1.0 (see ``docs/migrating.md``).

Errors that kept their names are re-exported from :mod:`naq_core.errors` as they are. The
two that were renamed warn once when first used (a :class:`DeprecationWarning`):

- ``NaqException`` is :class:`~naq_core.errors.NaqError`, the base of every naq error;
- ``JobExecutionError`` is :class:`~naq_core.errors.JobFailedError` (the same class, so
  ``except JobExecutionError`` catches the failures ``fetch_job_result`` raises).
"""

from __future__ import annotations

from typing import Any

from naq_core.errors import (
    ConfigurationError,
    JobFailedError,
    JobNotFoundError,
    NaqConnectionError,
    NaqError,
    SerializationError,
)

__all__ = [
    "ConfigurationError",
    "JobNotFoundError",
    "NaqConnectionError",
    "SerializationError",
]

#: The original's name -> (the class now, its name in naq_core).
RENAMED: dict[str, tuple[type[Exception], str]] = {
    "NaqException": (NaqError, "naq_core.NaqError"),
    "JobExecutionError": (JobFailedError, "naq_core.JobFailedError"),
}


def __getattr__(name: str) -> Any:
    if name in RENAMED:
        from naq_core.compat import warn_once

        cls, new = RENAMED[name]
        warn_once(name, new)
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
