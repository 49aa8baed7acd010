"""The original naq's environment variables, read for a while so that old deployments start.

:data:`LEGACY_ENV` is the one table of old names (docs/configuration.md, "Environment
variables of the original naq", shows the same rows; a test keeps them equal). A renamed
variable is read only when its new name is unset; one that has no meaning any more is
named in a warning that says why it is ignored. Each old variable warns once per process
(:class:`DeprecationWarning`, attributed to the first caller outside naq).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from attrs import frozen

from naq_core._deprecation import REMOVED_IN, warn_once

__all__ = ["LEGACY_ENV", "LegacyVariable", "legacy_values"]


def _third(value: str) -> Any:
    """``NAQ_WORKER_TTL`` (gone after that long) -> a heartbeat interval (gone after three)."""
    try:
        return float(value) / 3
    except ValueError:
        return value  # the usual error: "NAQ_WORKER_TTL: heartbeat_interval: expected a number"


@frozen(kw_only=True)
class LegacyVariable:
    """One environment variable of the original naq and what naq makes of it."""

    #: The original's name, e.g. ``NAQ_JOB_SERIALIZER``.
    old: str
    #: The setting it feeds (``None``: it has no meaning any more and is ignored).
    key: str | None
    #: The variable to use now (``None`` when ignored); equal to ``old`` when unchanged.
    new: str | None
    #: How the value maps, or why it is ignored (shown in the warning and the docs).
    note: str
    #: Turns the old value into the new one (default: taken as it is).
    convert: Callable[[str], Any] | None = None


def _renamed(old: str, key: str, note: str, convert: Callable[[str], Any] | None = None) -> LegacyVariable:
    return LegacyVariable(old=old, key=key, new=f"NAQ_{key.upper()}", note=note, convert=convert)


def _ignored(old: str, why: str) -> LegacyVariable:
    return LegacyVariable(old=old, key=None, new=None, note=why)


LEGACY_ENV: tuple[LegacyVariable, ...] = (
    _renamed("NAQ_NATS_URL", "nats_url", "unchanged; a comma-separated list of URLs also works"),
    _renamed("NAQ_DEFAULT_QUEUE", "default_queue", "unchanged"),
    _renamed(
        "NAQ_JOB_SERIALIZER",
        "serializer",
        "`json` is the json serializer, `pickle` the pickle plugin (install naq-pickle-unsafe); "
        "the original's default was pickle, naq's is json",
    ),
    _renamed("NAQ_DEFAULT_RESULT_TTL", "result_ttl", "seconds, as before"),
    _renamed("NAQ_DEFAULT_ACK_WAIT", "ack_wait", "seconds, as before"),
    _renamed("NAQ_WORKER_HEARTBEAT_INTERVAL", "heartbeat_interval", "seconds, as before"),
    _renamed(
        "NAQ_WORKER_TTL",
        "heartbeat_interval",
        "a worker now counts as gone after three missed heartbeats: read as a heartbeat interval "
        "of a third of it, unless a heartbeat interval is set",
        convert=_third,
    ),
    _renamed(
        "NAQ_LOG_LEVEL",
        "log_level",
        "unchanged, in any case (`DEBUG`); loguru's `TRACE` and `SUCCESS` read as `debug` and `info`; "
        "only the `naq` command reads it",
    ),
    _ignored(
        "NAQ_ACK_WAIT_PER_QUEUE",
        "`ack_wait` is a setting of each queue's workers: start the workers of each queue with "
        "their own NAQ_ACK_WAIT",
    ),
    _ignored(
        "NAQ_JSON_ENCODER",
        "naq imports no encoder named in the environment; the json serializer has one fixed "
        "encoding, and a serializer plugin can provide another",
    ),
    _ignored(
        "NAQ_JSON_DECODER",
        "naq imports no decoder named in the environment; the json serializer has one fixed "
        "encoding, and a serializer plugin can provide another",
    ),
    _ignored(
        "NAQ_SCHEDULER_LOCK_TTL",
        "there is no scheduler process and no leader lock: the NATS server fires schedules",
    ),
    _ignored(
        "NAQ_SCHEDULER_LOCK_RENEW_INTERVAL",
        "there is no scheduler process and no leader lock: the NATS server fires schedules",
    ),
    _ignored(
        "NAQ_MAX_SCHEDULE_FAILURES",
        "the NATS server publishes scheduled jobs itself; there is no publishing loop that can fail",
    ),
    _ignored(
        "NAQ_JOB_STATUS_TTL",
        "a job's status is part of its record, kept as long as its result: set NAQ_RESULT_TTL",
    ),
    _ignored(
        "NAQ_LOG_TO_FILE_ENABLED",
        "naq writes no log files: its events go to the logging module (the `naq` command "
        "prints them on stderr, which you can redirect)",
    ),
    _ignored(
        "NAQ_LOG_FILE_PATH",
        "naq writes no log files: its events go to the logging module (the `naq` command "
        "prints them on stderr, which you can redirect)",
    ),
)


def legacy_values(env: Mapping[str, str]) -> dict[str, tuple[Any, str]]:
    """``{key: (value, old variable)}`` for the old variables set in ``env`` whose key is unset.

    Warns once per process about each old variable that is set (read, overridden or ignored).
    """
    found: dict[str, tuple[Any, str]] = {}
    for variable in LEGACY_ENV:
        value = env.get(variable.old, "")
        if value == "" or variable.old == variable.new:
            continue
        if variable.key is None or variable.new is None:
            warn_once(
                variable.old, f"{variable.old} (a variable of the original naq) is ignored: {variable.note}"
            )
        elif env.get(variable.new, "") != "":
            warn_once(
                variable.old,
                f"{variable.old} is ignored because {variable.new} is set "
                f"({variable.old} is the original naq's name for it; remove it)",
            )
        elif variable.key in found:
            warn_once(
                variable.old,
                f"{variable.old} is ignored because {found[variable.key][1]} is set; "
                f"use {variable.new} ({variable.note})",
            )
        else:
            converted = variable.convert(value) if variable.convert is not None else value
            found[variable.key] = (converted, variable.old)
            warn_once(
                variable.old,
                f"{variable.old} is deprecated and will not be read from {REMOVED_IN} on; "
                f"use {variable.new} instead ({variable.note})",
            )
    return found
