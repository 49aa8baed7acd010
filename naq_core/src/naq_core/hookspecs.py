"""Every hook a naq plugin can implement: the whole extension API in one module.

Hooks are grouped by area. Broadcast hooks call every implementation; ``firstresult`` hooks
stop at the first implementation that returns something other than ``None`` ("return None to
defer"). naq's own defaults are registered through the same hooks with ``trylast=True``, so a
plugin always wins over a built-in. Implement a hook with :data:`naq_core.hookimpl`::

    from naq_core import hookimpl

    @hookimpl
    def naq_job_finished(job, outcome):
        metrics.count(outcome.status)

An implementation may accept any subset of a hook's arguments (pluggy passes them by name),
so adding an argument to a hook breaks no plugin.

Two kinds of hooks:

- **provider** hooks (``naq_register_*``, ``naq_shutdown_policy``,
  ``naq_confirm_destructive``, ``naq_job_headers``) give naq something it uses at once. They must be plain
  functions: an ``async def`` implementation is refused when the plugin is registered, with
  a :class:`naq_core.errors.PluginError` naming the plugin and the hook. An exception they
  raise propagates to whatever asked (a worker start, a serializer lookup, a command).
- **observer** hooks (``naq_job_*``, ``naq_worker_*``) are told that something happened.
  They may be ``async def`` (naq awaits them in line, so keep them cheap). Each
  implementation is called on its own: one that raises is logged (event
  ``plugin_hook_failed`` with the plugin's name, the hook, the job id and the error) and the
  others still run; the job and the ``enqueue`` carry on as if nothing happened. Hook
  wrappers are refused on observer hooks.

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
    from naq_core.panels import Panel
    from naq_core.serializer import Serializer
    from naq_core.shutdown import ShutdownPolicy
    from naq_core.worker import Worker

__all__ = ["OBSERVER_HOOKS", "PROJECT_NAME", "hookimpl", "hookspec"]

PROJECT_NAME = "naq"
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

#: The hooks that only observe: called one implementation at a time, failures logged, may be
#: ``async def``. Every other hook must be a plain function.
OBSERVER_HOOKS = frozenset(
    {"naq_job_enqueued", "naq_job_started", "naq_job_finished", "naq_worker_started", "naq_worker_stopped"}
)


# --- serializers ---------------------------------------------------------------------


@hookspec
def naq_register_serializers(register: Callable[[Serializer], None], config: Config) -> None:
    """Offer serializers by calling ``register(serializer)`` once for each.

    Called once per connection, the first time it encodes or decodes a job (a producer's
    first ``enqueue``, a worker's start).

    ``register``: takes a :class:`naq_core.serializer.Serializer`; its ``name`` is what
    users write in configuration (``serializer = "json"``, matched in any case).

    ``config``: the effective :class:`naq_core.config.Config` of that connection (files,
    ``NAQ_*`` variables and command-line flags applied); read your own table with
    ``config.plugin_config("<name>")``.

    Returns nothing. Two serializers with the same name raise a ``PluginError``; an
    exception raised here propagates to the ``enqueue`` or worker start that asked.
    """


# --- dead letters --------------------------------------------------------------------


@hookspec
def naq_register_dead_letter_sinks(
    register: Callable[[DeadLetterSink], None], config: Config, worker: Worker
) -> None:
    """Offer dead-letter sinks by calling ``register(sink)`` once for each.

    Called once when a worker starts, before it fetches a job. Every registered sink
    receives every dead letter (a job that cannot run: undecodable payload, unknown task,
    failed with no retries asked for, retries exhausted, delivery limit); the message
    leaves its queue only after every sink has stored it.

    ``register``: takes a :class:`naq_core.deadletter.DeadLetterSink`.

    ``config``: the worker's effective :class:`naq_core.config.Config` (command-line flags
    applied): use it to connect or to find a path, instead of loading configuration again.

    ``worker``: the :class:`naq_core.worker.Worker` starting; a sink that holds resources
    can release them in ``naq_worker_stopped`` for the same ``worker``.

    Returns nothing. An exception propagates: the worker does not start.
    """


# --- dashboard -----------------------------------------------------------------------


@hookspec
def naq_register_dashboard_panels(register: Callable[[Panel], None], config: Config) -> None:
    """Offer dashboard pages by calling ``register(panel)`` once for each.

    Called by the dashboard's app factory when it builds the app; naq-core never calls it
    itself, so a plugin (dlq-stream's dead-letter page, for instance) can offer a panel
    without depending on the dashboard.

    ``register``: takes a :class:`naq_core.panels.Panel` (its routes, templates, title and
    place in the navigation). Two panels with the same ``name`` raise a ``PluginError``.

    ``config``: the dashboard's effective :class:`naq_core.config.Config`.

    Returns nothing. An exception propagates: the dashboard does not start.
    """


@hookspec(firstresult=True)
def naq_redact_arguments(function: str | None, args: list[Any], kwargs: dict[str, Any]) -> Any:
    """Hide secrets in a job's arguments before the dashboard (or its API) shows them.

    Called by the dashboard for every job page and job API answer, before the arguments are
    cut to size. ``function`` is the task name (``None`` when unknown); ``args`` and
    ``kwargs`` are the decoded arguments (copies: change or replace them freely).

    Returns ``(args, kwargs)`` to show instead, or ``None`` to leave them to the next
    plugin (the first answer wins). The dashboard itself masks keyword arguments whose names
    look secret (``password``, ``token``, ``api_key``, ...) after this hook. An exception is
    logged and the arguments are hidden entirely: a failing redactor never shows secrets.
    """


# --- CLI -----------------------------------------------------------------------------


@hookspec
def naq_register_commands(cli: click.Group) -> None:
    """Add click commands or groups to the ``naq`` command line with ``cli.add_command``.

    Called once, lazily, the first time the CLI lists or resolves a command, so ``naq
    --help`` shows plugin commands beside the built-in ones.

    ``cli``: the ``naq`` :class:`click.Group`. Built-in names cannot be replaced (the
    clash is reported with the plugin's name).

    Returns nothing. An exception propagates: the ``naq`` command fails with its message.
    """


# --- shutdown ------------------------------------------------------------------------


@hookspec(firstresult=True)
def naq_shutdown_policy(worker: Worker, config: Config) -> ShutdownPolicy | None:
    """Decide how a stopping worker treats the jobs it is running.

    Called once when a worker starts.

    ``worker``: the :class:`naq_core.worker.Worker` starting.

    ``config``: its effective :class:`naq_core.config.Config`.

    Return a :class:`naq_core.shutdown.ShutdownPolicy` (how long running jobs get to
    finish), or ``None`` to defer. When every implementation defers, the built-in default
    (plugin ``naq_core.builtin``, ``trylast``) gives running jobs
    ``config.shutdown_timeout`` seconds; whatever is still running after that is cancelled
    and NAKed for immediate redelivery. An exception propagates: the worker does not start.
    """


# --- destructive actions -------------------------------------------------------------


@hookspec(firstresult=True)
def naq_confirm_destructive(action: str, target: str, count: int | None, force: bool) -> bool | None:
    """Confirm an action that deletes data before it runs.

    Called by every destructive command before it deletes anything.

    ``action``: what runs (``"purge"``, ``"dlq purge"``, ``"schedule cancel"``).

    ``target``: what it acts on (a queue name, a filter).

    ``count``: how many items will go, ``None`` if unknown.

    ``force``: whether the user passed ``--force``/``-y``.

    Return ``True`` to go ahead, ``False`` to refuse (the command exits with code 2 and
    deletes nothing), ``None`` to defer. When every implementation defers, the built-in
    default (plugin ``naq_core.builtin``, ``trylast``) goes ahead; install a confirming
    plugin, such as naq-confirm-purge, to be asked. An exception
    propagates: the command fails and deletes nothing.
    """


# --- lifecycle -----------------------------------------------------------------------


@hookspec
def naq_job_headers(job: Job) -> dict[str, str] | None:
    """Add NATS headers to a job's message before it is published.

    Called in the producer's process once per job of an ``enqueue``/``enqueue_many``,
    before anything is sent (a job held for its dependencies keeps the headers until it is
    published). Not called for schedules (``enqueue_at``, ``schedule``: the server publishes
    their firings), nor at all when no plugin implements it. Must be a plain function.
    A worker finds the headers in :attr:`naq_core.job.Job.headers` of the job passed to
    ``naq_job_started`` and ``naq_job_finished``: this is how a tracing plugin carries a
    W3C ``traceparent`` from the producer to the worker.

    ``job``: the :class:`naq_core.job.Job` about to be published (``job.queue_name``,
    ``job.job_id``, ``job.function``).

    Returns a ``dict`` of header names to values (strings, no line breaks), or ``None`` to
    add nothing. The answers of every plugin are merged; naq's own headers
    (``Nats-Msg-Id``, ``Naq-Serializer``) win a clash. Anything else than such a dict is a
    :class:`naq_core.errors.PluginError`; like any exception raised here, it propagates to
    the ``enqueue``, which then publishes nothing.
    """


@hookspec
def naq_job_enqueued(job: Job) -> None:
    """A job was published to its queue (or registered to wait for its dependencies).

    Called in the producer's process after the publish was acknowledged. Keep it cheap: it
    runs on the enqueue hot path. May be ``async def``.

    ``job``: the :class:`naq_core.job.Job` as published (``job.queue_name``, ``job.job_id``).

    Returns nothing (a return value is ignored). An exception is logged with the plugin's
    name and does not fail the ``enqueue``, which returns the job.
    """


@hookspec
def naq_job_started(job: Job, worker_id: str) -> None:
    """A worker is about to run ``job``.

    Called in the worker, once per attempt, before the task function. Keep it cheap. May be
    ``async def``.

    ``job``: the :class:`naq_core.job.Job` (``job.attempt`` counts from 1).

    ``worker_id``: the id of the worker running it (as in ``naq workers``).

    Returns nothing. An exception is logged with the plugin's name; the job runs anyway.
    """


@hookspec
def naq_job_finished(job: Job, outcome: Outcome, worker_id: str) -> None:
    """A job attempt that ran has ended.

    Called in the worker after the attempt's result was recorded and the message acked or
    NAKed. Not called for messages that never ran (poison, unknown task: see the dead-letter
    sinks) nor for attempts cancelled at shutdown. Keep it cheap. May be ``async def``.

    ``job``: the :class:`naq_core.job.Job` that ran (attempt ``job.attempt``).

    ``outcome``: a :class:`naq_core.job.Outcome`; ``outcome.status`` is ``completed``,
    ``failed`` or ``retrying`` (a timeout is a failure with ``error_type ==
    "JobTimeoutError"``), ``outcome.duration`` is in seconds.

    ``worker_id``: the id of the worker that ran it (the same as in ``naq_job_started``).

    Returns nothing. An exception is logged with the plugin's name; the job's outcome
    stands.
    """


@hookspec
def naq_worker_started(worker: Worker) -> None:
    """A worker connected, set up its queues and is about to fetch jobs.

    ``worker``: the :class:`naq_core.worker.Worker` (``worker.worker_id``,
    ``worker.config``, ``worker.queues``). May be ``async def``.

    Returns nothing. An exception is logged with the plugin's name; the worker runs anyway.
    """


@hookspec
def naq_worker_stopped(worker: Worker) -> None:
    """A worker finished its shutdown; its running jobs are done or were NAKed.

    Also called when a start fails after ``naq_worker_started`` has run (say, a consumer
    could not start), so every ``naq_worker_started`` is matched by one
    ``naq_worker_stopped``; a start that fails before it calls neither.

    ``worker``: the :class:`naq_core.worker.Worker` that stopped. May be ``async def``;
    release here what a sink or another hook opened for this worker.

    Returns nothing. An exception is logged with the plugin's name; the worker still stops
    cleanly.
    """


# --- configuration -------------------------------------------------------------------


@hookspec
def naq_plugin_settings(register: Callable[[str, type], None]) -> None:
    """Declare the plugin's configuration table: its keys, types, defaults and secrets.

    ``register(table, cls)``: ``table`` names the table (``[tool.naq.<table>]`` in
    ``pyproject.toml``, ``[<table>]`` in ``naq.toml``); ``cls`` is an attrs class
    (``@frozen(kw_only=True)``) whose fields are the keys, with their types, defaults and
    ``attrs.validators``. Mark a secret with ``field(repr=False, metadata={"secret": True})``
    (or :func:`naq_core.plugin_settings.secret_field`).

    naq then validates the table with its own converter every time it loads the
    configuration (one line naming table, key and source:
    ``dlq_stream.max_age: expected a number, got 'x' (naq.toml)``), reads
    ``NAQ_<TABLE>_<KEY>`` environment variables over the file, shows each key and its source
    in ``naq config show`` with secrets masked, and returns the typed instance from
    ``config.plugin_settings(table)``. Called without a config: it says how to read one.

    Returns nothing. Two plugins declaring one table, or a ``cls`` that is not an attrs
    class, is a :class:`naq_core.errors.ConfigurationError` where the configuration is loaded.
    """
