"""Every hook a naq plugin can implement: the whole extension API in one module.

Hooks are grouped by area. Broadcast hooks call every implementation; ``firstresult`` hooks
stop at the first implementation that returns something other than ``None`` ("return None to
defer"). naq's own defaults are registered through the same hooks with ``trylast=True``, so a
plugin always wins over a built-in. Implement a hook with :data:`naq_core.hookimpl`::

    from naq_core import hookimpl

    @hookimpl
    def naq_job_finished(job, outcome):
        metrics.count(outcome.status)

The hook reference in ``docs/hooks.md`` is generated from these docstrings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click

    from naq_core.config import Config
    from naq_core.deadletter import DeadLetterSink
    from naq_core.job import Job, Outcome
    from naq_core.serializer import Serializer
    from naq_core.shutdown import ShutdownPolicy
    from naq_core.worker import Worker

__all__ = ["PROJECT_NAME", "hookimpl", "hookspec"]

PROJECT_NAME = "naq"
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


# --- serializers ---------------------------------------------------------------------


@hookspec
def naq_register_serializers(register: Callable[[Serializer], None]) -> None:
    """Offer serializers by calling ``register(serializer)`` once for each.

    Called once, the first time a serializer is looked up. ``serializer`` implements
    :class:`naq_core.serializer.Serializer`; its ``name`` is what users write in
    configuration (``serializer = "json"``). Two serializers with the same name are an error.
    """


# --- dead letters --------------------------------------------------------------------


@hookspec
def naq_register_dead_letter_sinks(register: Callable[[DeadLetterSink], None]) -> None:
    """Offer dead-letter sinks by calling ``register(sink)`` once for each.

    Called when a worker starts. Every registered sink receives every dead letter (a job
    that cannot run: undecodable payload, unknown task, failed with no retries asked for,
    retries exhausted, delivery limit);
    the message leaves its queue only after every sink has stored it.
    """


# --- dashboard -----------------------------------------------------------------------


@hookspec
def naq_dashboard_panels() -> list[Any]:
    """Return dashboard panels (routes, templates and a navigation entry).

    Called by the dashboard's app factory. Return a list of ``naq_dashboard.Panel`` values,
    or an empty list. naq-core never calls this itself; the dashboard plugin does.
    """
    return []


# --- CLI -----------------------------------------------------------------------------


@hookspec
def naq_register_commands(cli: click.Group) -> None:
    """Add click commands or groups to the ``naq`` command line with ``cli.add_command``.

    Called once, lazily, the first time the CLI lists or resolves a command, so ``naq
    --help`` shows plugin commands beside the built-in ones. Built-in names cannot be
    replaced.
    """


# --- shutdown ------------------------------------------------------------------------


@hookspec(firstresult=True)
def naq_shutdown_policy(worker: Worker, config: Config) -> ShutdownPolicy | None:
    """Decide how a stopping worker treats the jobs it is running.

    Called once when a worker starts. Return a :class:`naq_core.shutdown.ShutdownPolicy`
    (how long running jobs get to finish) or ``None`` to defer. The built-in default
    (``trylast``) gives running jobs ``config.shutdown_timeout`` seconds; whatever is still
    running after that is cancelled and NAKed for immediate redelivery.
    """


# --- destructive actions -------------------------------------------------------------


@hookspec(firstresult=True)
def naq_confirm_destructive(action: str, target: str, count: int | None, force: bool) -> bool | None:
    """Confirm an action that deletes data before it runs.

    ``action`` names it (``"purge"``, ``"dlq purge"``, ``"schedule cancel"``), ``target``
    what it acts on (a queue name, a filter), ``count`` how many items will go (``None`` if
    unknown) and ``force`` whether the user passed ``--force``/``-y``. Return ``True`` to go
    ahead, ``False`` to refuse, ``None`` to defer. When every implementation defers, the
    action goes ahead (install a confirming plugin, such as naq-confirm-purge, to be asked).
    """


# --- lifecycle -----------------------------------------------------------------------


@hookspec
def naq_job_enqueued(job: Job) -> None:
    """A job was published to its queue (or registered to wait for its dependencies).

    Called in the producer's process after the publish was sent. Keep it cheap: it runs on
    the enqueue hot path. May be a coroutine function for async callers.
    """


@hookspec
def naq_job_started(job: Job, worker_id: str) -> None:
    """A worker is about to run ``job`` (attempt ``job.attempt``). Keep it cheap."""


@hookspec
def naq_job_finished(job: Job, outcome: Outcome) -> None:
    """A job attempt that ran has ended. ``outcome.status`` is ``completed``, ``failed`` or
    ``retrying`` (a timeout is a failure with ``error_type == "JobTimeoutError"``);
    ``outcome.duration`` is in seconds. Not called for messages that never ran (poison,
    unknown task: see the dead-letter sinks) nor for attempts cancelled at shutdown.
    Keep it cheap."""


@hookspec
def naq_worker_started(worker: Worker) -> None:
    """A worker connected, set up its queues and is about to fetch jobs."""


@hookspec
def naq_worker_stopped(worker: Worker) -> None:
    """A worker finished its shutdown; its running jobs are done or were NAKed."""
