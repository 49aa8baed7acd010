"""naq: background jobs for Python on NATS JetStream.

The public API. Producers use :class:`Queue` (async) or :class:`NaqClient` (sync); workers
are :class:`Worker` or ``naq worker``; plugins implement hooks from
:mod:`naq_core.hookspecs` with :data:`hookimpl`.
"""

from __future__ import annotations

import importlib
from typing import Any

from naq_core import shortcuts
from naq_core.client import NaqClient, close_default_client, get_default_client
from naq_core.config import Config, load_config
from naq_core.deadletter import DeadLetter, DeadLetterReason, DeadLetterSink
from naq_core.errors import (
    ConfigurationError,
    DependencyFailedError,
    JobFailedError,
    JobNotFoundError,
    JobTimeoutError,
    NaqConnectionError,
    NaqError,
    PayloadTooLargeError,
    PluginError,
    SerializationError,
    ServerVersionError,
    TaskNotFoundError,
    UnknownSerializerError,
)
from naq_core.heartbeat import WorkerInfo
from naq_core.hookspecs import hookimpl
from naq_core.job import Job, JobStatus, Outcome, RetryStrategy
from naq_core.queue import Queue
from naq_core.registry import TaskRegistry, task
from naq_core.results import JobRecord
from naq_core.schedules import Schedule, ScheduleKind, ScheduleStatus
from naq_core.serializer import Serializer
from naq_core.shortcuts import *  # noqa: F403  (the list is shortcuts.__all__)
from naq_core.shutdown import ShutdownPolicy
from naq_core.worker import Worker

__all__ = [
    "Config",
    "ConfigurationError",
    "DeadLetter",
    "DeadLetterReason",
    "DeadLetterSink",
    "DependencyFailedError",
    "Job",
    "JobFailedError",
    "JobNotFoundError",
    "JobRecord",
    "JobStatus",
    "JobTimeoutError",
    "NaqClient",
    "NaqConnectionError",
    "NaqError",
    "Outcome",
    "PayloadTooLargeError",
    "PluginError",
    "Queue",
    "RetryStrategy",
    "Schedule",
    "ScheduleKind",
    "ScheduleStatus",
    "SerializationError",
    "Serializer",
    "ServerVersionError",
    "ShutdownPolicy",
    "TaskNotFoundError",
    "TaskRegistry",
    "UnknownSerializerError",
    "Worker",
    "WorkerInfo",
    "close_default_client",
    "get_default_client",
    "hookimpl",
    "load_config",
    "task",
]
__all__ += shortcuts.__all__


_COMPAT_NAMES = {"JOB_STATUS": "compat", "SyncClient": "compat", "setup_logging": "compat"}
_COMPAT_NAMES.update(NaqException="exceptions", JobExecutionError="exceptions")


def __getattr__(name: str) -> Any:
    """The original naq's names (``JOB_STATUS``, ``SyncClient``, ``setup_logging``,
    ``NaqException``, ``JobExecutionError``), loaded on first use, each warning once.

    They are not in ``__all__``: importing ``naq_core`` (or ``*`` from it) warns about nothing.
    """
    where = _COMPAT_NAMES.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f"naq_core.{where}")
    if where == "compat":
        module.warn_once(name, module.EXPORTS[name])
    return getattr(module, name)
