"""Building the plugin manager, and the typed facade through which core calls hooks.

Nothing is loaded at import time. :func:`get_plugin_manager` builds the manager once per
process: the built-in plugin first, then the ``naq`` entry points through pluggy's
``load_setuptools_entrypoints`` (filtered by the ``NAQ_LOAD_PLUGINS`` allow-list). Tests
build their own with ``load_entrypoints=False``.

Registration refuses an ``async def`` implementation of a hook whose result naq uses at once
(every hook but the observers in :data:`naq_core.hookspecs.OBSERVER_HOOKS`) and a hook
wrapper on an observer hook, with a :class:`PluginError` naming the plugin and the hook.
"""

from __future__ import annotations

import inspect
import os
import threading
from collections.abc import Iterable
from importlib import metadata
from typing import TYPE_CHECKING, Any

import pluggy

from naq_core import hookspecs
from naq_core._log import get_logger
from naq_core.errors import PluginError, UnknownSerializerError

if TYPE_CHECKING:
    import click

    from naq_core.config import Config
    from naq_core.deadletter import DeadLetterSink
    from naq_core.job import Job, Outcome
    from naq_core.panels import Panel
    from naq_core.serializer import Serializer
    from naq_core.shutdown import ShutdownPolicy
    from naq_core.worker import Worker

__all__ = [
    "ENTRY_POINT_GROUP",
    "Hooks",
    "PluginInfo",
    "await_me_maybe",
    "get_hooks",
    "get_plugin_manager",
    "list_plugins",
    "new_plugin_manager",
    "reset_plugin_manager",
]

ENTRY_POINT_GROUP = "naq"
BUILTIN_NAME = "naq_core.builtin"
_lock = threading.Lock()
_hooks: Hooks | None = None


class _PluginManager(pluggy.PluginManager):
    """pluggy's manager, refusing implementations naq could not call as they ask."""

    def register(self, plugin: object, name: str | None = None) -> str | None:
        plugin_name = super().register(plugin, name)
        if plugin_name is not None:
            try:
                _check_implementations(self, plugin, plugin_name)
            except PluginError:
                self.unregister(plugin)
                raise
        return plugin_name


def _check_implementations(pm: pluggy.PluginManager, plugin: object, plugin_name: str) -> None:
    for caller in pm.get_hookcallers(plugin) or []:
        for impl in caller.get_hookimpls():
            if impl.plugin is not plugin:
                continue
            function = impl.function
            if caller.name in hookspecs.OBSERVER_HOOKS:
                if impl.hookwrapper or impl.wrapper:
                    raise PluginError(
                        f"plugin {plugin_name!r}: {caller.name} is an observer hook and cannot be a "
                        "hook wrapper (each implementation is called on its own)"
                    )
            elif inspect.iscoroutinefunction(function) or inspect.isasyncgenfunction(function):
                raise PluginError(
                    f"plugin {plugin_name!r}: {caller.name} must be a plain function, not async def "
                    "(naq uses its result at once)"
                )


def new_plugin_manager(
    *, load_entrypoints: bool = True, plugins: Iterable[object] = ()
) -> pluggy.PluginManager:
    """A fresh manager with the built-ins, the given plugins and (optionally) entry points."""
    from naq_core import _builtin

    pm = _PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    pm.register(_builtin, name=BUILTIN_NAME)
    for plugin in plugins:
        pm.register(plugin)
    if load_entrypoints:
        _load_entrypoints(pm)
    pm.check_pending()
    return pm


def _allowed_names(installed: Iterable[str]) -> list[str]:
    """The entry-point names to load: all, or those of ``NAQ_LOAD_PLUGINS`` (warning on unknown)."""
    names = sorted(set(installed))
    allow = os.environ.get("NAQ_LOAD_PLUGINS")
    if allow is None:
        return names
    wanted = list(dict.fromkeys(n.strip() for n in allow.split(",") if n.strip()))
    unknown = [n for n in wanted if n not in names]
    if unknown:
        get_logger(__name__).warning(
            "unknown_plugin",
            names=unknown,
            installed=names,
            hint="NAQ_LOAD_PLUGINS names entry points of group 'naq'; these are not installed and "
            "were skipped (see `naq --plugins`)",
        )
    return [n for n in wanted if n in names]


def _load_entrypoints(pm: pluggy.PluginManager) -> None:
    values = {ep.name: ep.value for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}
    for name in _allowed_names(values):
        try:
            pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP, name=name)
        except (PluginError, pluggy.PluginValidationError):
            raise
        except Exception as exc:
            raise PluginError(f"plugin {name!r} ({values[name]}) failed to load: {exc}") from exc


def get_plugin_manager() -> pluggy.PluginManager:
    """The process-wide manager (built on first use)."""
    return get_hooks().pm


def get_hooks() -> Hooks:
    """The process-wide hook facade (built on first use)."""
    global _hooks
    if _hooks is None:
        with _lock:
            if _hooks is None:
                _hooks = Hooks(new_plugin_manager())
    return _hooks


def reset_plugin_manager(pm: pluggy.PluginManager | None = None) -> Hooks | None:
    """Replace the process-wide manager (``None``: rebuild lazily). Returns the old facade."""
    global _hooks
    with _lock:
        old, _hooks = _hooks, (Hooks(pm) if pm is not None else None)
    return old


async def await_me_maybe(value: Any) -> Any:
    """Await ``value`` if a hook implementation returned a coroutine."""
    if inspect.isawaitable(value):
        return await value
    return value


class Hooks:
    """One typed, keyword-only method per hook: the only way core code calls plugins."""

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm
        self._serializers: tuple[Config, dict[str, Serializer]] | None = None

    def _has(self, name: str) -> bool:
        caller = getattr(self.pm.hook, name)
        return bool(caller.get_hookimpls())

    # serializers ---------------------------------------------------------------------

    def serializers(self, *, config: Config | None = None) -> dict[str, Serializer]:
        """Every registered serializer by name (asked once per configuration).

        ``config`` is what the serializers are built for; without it, :func:`load_config`'s
        (files and environment, no command-line flags).
        """
        if config is None:
            from naq_core.config import load_config

            config = load_config()
        cached = self._serializers
        if cached is not None and (cached[0] is config or cached[0] == config):
            return cached[1]
        found: dict[str, Serializer] = {}

        def register(serializer: Serializer) -> None:
            if serializer.name in found:
                raise PluginError(f"two plugins register the serializer {serializer.name!r}")
            found[serializer.name] = serializer

        self.pm.hook.naq_register_serializers(register=register, config=config)
        self._serializers = (config, found)
        return found

    def serializer(self, name: str, *, config: Config | None = None) -> Serializer:
        available = self.serializers(config=config)
        # Names are matched without regard to case (config lower-cases what it reads).
        by_name = {key.casefold(): serializer for key, serializer in available.items()}
        try:
            return available.get(name) or by_name[name.casefold()]
        except KeyError:
            names = ", ".join(sorted(available)) or "none (pip install naq-json-serializer)"
            raise UnknownSerializerError(
                f"unknown serializer {name!r}; installed serializers: {names}"
            ) from None

    # dead letters --------------------------------------------------------------------

    def dead_letter_sinks(self, *, config: Config, worker: Worker) -> list[DeadLetterSink]:
        sinks: list[DeadLetterSink] = []
        self.pm.hook.naq_register_dead_letter_sinks(register=sinks.append, config=config, worker=worker)
        return sinks

    # dashboard and CLI ---------------------------------------------------------------

    def dashboard_panels(self, *, config: Config) -> list[Panel]:
        """Every registered panel, in navigation order (``order``, then ``name``)."""
        from naq_core.panels import Panel

        found: dict[str, Panel] = {}

        def register(panel: Panel) -> None:
            if not isinstance(panel, Panel):
                raise PluginError(f"a dashboard panel must be a naq_core.panels.Panel, got {panel!r}")
            if panel.name in found:
                raise PluginError(f"two plugins register the dashboard panel {panel.name!r}")
            found[panel.name] = panel

        self.pm.hook.naq_register_dashboard_panels(register=register, config=config)
        return sorted(found.values(), key=lambda panel: (panel.order, panel.name))

    def redact_arguments(
        self, *, function: str | None, args: list[Any], kwargs: dict[str, Any]
    ) -> tuple[list[Any], dict[str, Any]]:
        """A job's arguments as a plugin wants them shown (unchanged when none answers).

        A failing redactor hides everything (``["<hidden: redactor failed>"]``): it never
        lets the secrets through.
        """
        try:
            hook = self.pm.hook.naq_redact_arguments
            answer = hook(function=function, args=list(args), kwargs=dict(kwargs))
        except Exception:
            get_logger(__name__).warning("naq_redact_arguments failed; arguments hidden", exc_info=True)
            return ["<hidden: redactor failed>"], {}
        if answer is None:
            return list(args), dict(kwargs)
        shown_args, shown_kwargs = answer
        return list(shown_args), dict(shown_kwargs)

    def register_commands(self, *, cli: click.Group) -> None:
        self.pm.hook.naq_register_commands(cli=cli)

    # shutdown and destructive actions ------------------------------------------------

    def shutdown_policy(self, *, worker: Worker, config: Config) -> ShutdownPolicy:
        policy: ShutdownPolicy | None = self.pm.hook.naq_shutdown_policy(worker=worker, config=config)
        if policy is None:  # only if the built-in plugin was unregistered: never hang on it
            from naq_core import _builtin

            policy = _builtin.default_shutdown_policy(config)
        return policy

    def confirm_destructive(self, *, action: str, target: str, count: int | None, force: bool) -> bool:
        answer = self.pm.hook.naq_confirm_destructive(action=action, target=target, count=count, force=force)
        if answer is None:  # only if the built-in plugin was unregistered
            from naq_core import _builtin

            answer = _builtin.default_confirmation()
        return bool(answer)

    # message headers -----------------------------------------------------------------

    def headers_active(self) -> bool:
        """Whether anything implements ``naq_job_headers`` (hot-path shortcut)."""
        return self._has("naq_job_headers")

    def job_headers(self, *, job: Job) -> dict[str, str]:
        """The headers plugins add to ``job``'s message, merged (the first registered wins)."""
        merged: dict[str, str] = {}
        for answer in self.pm.hook.naq_job_headers(job=job):  # last registered first
            if not isinstance(answer, dict) or not all(
                isinstance(k, str) and isinstance(v, str) and _header_safe(k + v) for k, v in answer.items()
            ):
                raise PluginError(
                    f"naq_job_headers must return a dict of str to str (one line each), got {answer!r}"
                )
            merged.update(answer)
        return merged

    # lifecycle: observers, each implementation on its own ------------------------------

    async def _observe(self, hook: str, context: dict[str, Any], **kwargs: Any) -> None:
        """Call every implementation of ``hook``; one that raises is logged, the rest still run."""
        caller = getattr(self.pm.hook, hook)
        for impl in reversed(caller.get_hookimpls()):  # pluggy's own order: last registered first
            try:
                answer = impl.function(*[kwargs[arg] for arg in impl.argnames])
                if inspect.isawaitable(answer):  # no coroutine of our own per call (a hot path)
                    await answer
            except Exception as exc:
                get_logger(__name__).error(
                    "plugin_hook_failed",
                    plugin=impl.plugin_name,
                    hook=hook,
                    **context,
                    error=f"{type(exc).__name__}: {exc}",
                    exc_info=True,
                )

    async def job_enqueued(self, *, job: Job) -> None:
        await self._observe("naq_job_enqueued", {"job_id": job.job_id}, job=job)

    async def job_started(self, *, job: Job, worker_id: str) -> None:
        await self._observe("naq_job_started", {"job_id": job.job_id}, job=job, worker_id=worker_id)

    async def job_finished(self, *, job: Job, outcome: Outcome, worker_id: str) -> None:
        await self._observe(
            "naq_job_finished", {"job_id": job.job_id}, job=job, outcome=outcome, worker_id=worker_id
        )

    async def worker_started(self, *, worker: Worker) -> None:
        await self._observe("naq_worker_started", {"worker_id": worker.worker_id}, worker=worker)

    async def worker_stopped(self, *, worker: Worker) -> None:
        await self._observe("naq_worker_stopped", {"worker_id": worker.worker_id}, worker=worker)

    def lifecycle_active(self) -> tuple[bool, bool, bool]:
        """Whether anything implements enqueued / started / finished (hot-path shortcut)."""
        return (
            self._has("naq_job_enqueued"),
            self._has("naq_job_started"),
            self._has("naq_job_finished"),
        )


def _header_safe(text: str) -> bool:
    return "\r" not in text and "\n" not in text


class PluginInfo(dict[str, Any]):
    """``{"name", "version", "distribution", "hooks"}`` for ``naq --plugins``."""


def list_plugins(pm: pluggy.PluginManager | None = None) -> list[PluginInfo]:
    """Every registered plugin with its distribution, version and hooks (from pluggy)."""
    pm = pm or get_plugin_manager()
    dists = {id(plugin): dist for plugin, dist in pm.list_plugin_distinfo()}
    rows: list[PluginInfo] = []
    for name, plugin in sorted(pm.list_name_plugin(), key=lambda item: item[0]):
        if plugin is None:
            continue
        hooks = sorted(caller.name for caller in pm.get_hookcallers(plugin) or [])
        dist = dists.get(id(plugin))
        if dist is not None:
            distribution, version = dist.project_name, dist.version
        elif name.startswith("naq_core."):
            distribution, version = "naq-core", _core_version()
        else:  # registered in code, not through an entry point
            distribution, version = None, None
        rows.append(PluginInfo(name=name, distribution=distribution, version=version, hooks=hooks))
    return rows


def _core_version() -> str:
    try:
        return metadata.version("naq-core")
    except metadata.PackageNotFoundError:
        return "0+unknown"
