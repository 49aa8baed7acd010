"""naq's NATS side, as plugins and commands may use it: a connection and the names.

Everything here is public and stable; the plumbing behind it (``naq_core._jetstream``) is not.
A plugin that talks to NATS itself (a dead-letter store, a ``naq stats`` command) opens a
:class:`Connection` with :func:`connect` (or gets one from
:meth:`naq_core.cli.NaqContext.connect`) and spells naq's subjects with the functions below
instead of rebuilding them::

    from naq_core.jetstream import JOBS_STREAM, connect, queue_filter

    conn = await connect(config)
    try:
        info = await conn.js.stream_info(JOBS_STREAM, subjects_filter=queue_filter("emails"))
    finally:
        await conn.close()

:class:`Connection` gives ``nc`` (the nats-py client), ``js`` (its JetStream context),
``config``, ``hooks``, ``serializer`` (the configured one) and ``close()``; its
``ensure_stream()`` and ``bucket(name)`` create naq's jobs stream and a key-value bucket if
they are missing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from naq_core._jetstream import connection as _connection
from naq_core._jetstream.connection import Connection
from naq_core._jetstream.names import (
    DEPS_BUCKET,
    JOBS_STREAM,
    RESULTS_BUCKET,
    SCHEDULES_BUCKET,
    WORKERS_BUCKET,
    consumer_name,
    job_filter,
    job_subject,
    kv_subject,
    queue_filter,
    queue_of_subject,
    schedule_subject,
)

if TYPE_CHECKING:
    from naq_core.config import Config
    from naq_core.plugins import Hooks

__all__ = [
    "DEPS_BUCKET",
    "JOBS_STREAM",
    "RESULTS_BUCKET",
    "SCHEDULES_BUCKET",
    "WORKERS_BUCKET",
    "Connection",
    "connect",
    "consumer_name",
    "job_filter",
    "job_subject",
    "kv_subject",
    "queue_filter",
    "queue_of_subject",
    "schedule_subject",
]


async def connect(
    config: Config | None = None, *, hooks: Hooks | None = None, name: str = "naq", **callbacks: Any
) -> Connection:
    """Open a :class:`Connection` (close it with ``await conn.close()``).

    ``config`` defaults to :func:`naq_core.config.load_config` (files and ``NAQ_*``
    variables; a command should pass ``NaqContext.config``, which includes the flags),
    ``hooks`` to this process's plugin hooks. ``name`` is the client name the server shows;
    ``callbacks`` (``error_cb``, ``disconnected_cb``, ``reconnected_cb``, ...) go to nats-py.
    Raises :class:`naq_core.errors.NaqConnectionError` when NATS cannot be reached and
    :class:`naq_core.errors.ServerVersionError` when the server is too old.
    """
    if config is None:
        from naq_core.config import load_config

        config = load_config()
    if hooks is None:
        from naq_core.plugins import get_hooks

        hooks = get_hooks()
    return await _connection.connect(config, hooks=hooks, name=name, **callbacks)
