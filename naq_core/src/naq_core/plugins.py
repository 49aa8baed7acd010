"""Building the plugin manager, and the typed facade through which core calls hooks.

Nothing is loaded at import time. :func:`get_plugin_manager` builds the manager once per
process: the built-in plugin first, then the ``naq`` entry points (filtered by the
``NAQ_LOAD_PLUGINS`` allow-list). Tests build their own with ``load_entrypoints=False``.
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
from naq_core.errors import PluginError, UnknownSerializerError

if TYPE_CHECKING:
    import click

    from naq_core.config import Config
    from naq_core.deadletter import DeadLetterSink
    from naq_core.job import Job, Outcome
    from naq_core.serializer import Serializer
    from naq_core.shutdown import ShutdownPolicy
    from naq_core.worker import Worker

__all__ = [
    "ENTRY_POINT_GROUP",
    "Hooks",
    "PluginInfo",
    "get_hooks",
    "get_plugin_manager",
    "list_plugins",
    "new_plugin_manager",
    "reset_plugin_manager",
]

ENTRY_POINT_GROUP = "naq"
_lock = threading.Lock()
_hooks: Hooks | None = None


def new_plugin_manager(
    *, load_entrypoints: bool = True, plugins: Iterable[object] = ()
) -> pluggy.PluginManager:
    """A fresh manager with the built-ins, the given plugins and (optionally) entry points."""
    from naq_core import _builtin

    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    pm.register(_builtin, name="naq_core.builtin")
    for plugin in plugins:
        pm.register(plugin)
    if load_entrypoints:
        _load_entrypoints(pm)
    pm.check_pending()
    return pm


def _load_entrypoints(pm: pluggy.PluginManager) -> None:
    allow = os.environ.get("NAQ_LOAD_PLUGINS")
    allowed = None if allow is None else {n.strip() for n in allow.split(",") if n.strip()}
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if allowed is not None and ep.name not in allowed:
            continue
        if pm.get_plugin(ep.name) is not None or pm.is_blocked(ep.name):
            continue
        try:
            plugin = ep.load()
        except Exception as exc:
            raise PluginError(f"plugin {ep.name!r} ({ep.value}) failed to load: {exc}") from exc
        pm.register(plugin, name=ep.name)
        if ep.dist is not None:
            pm._plugin_distinfo.append((plugin, ep.dist))  # what load_setuptools_entrypoints does


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
        self._serializers: dict[str, Serializer] | None = None

    def _has(self, name: str) -> bool:
        caller = getattr(self.pm.hook, name)
        return bool(caller.get_hookimpls())

    # serializers ---------------------------------------------------------------------

    def serializers(self) -> dict[str, Serializer]:
        if self._serializers is None:
            found: dict[str, Serializer] = {}

            def register(serializer: Serializer) -> None:
                if serializer.name in found:
                    raise PluginError(f"two plugins register the serializer {serializer.name!r}")
                found[serializer.name] = serializer

            self.pm.hook.naq_register_serializers(register=register)
            self._serializers = found
        return self._serializers

    def serializer(self, name: str) -> Serializer:
        available = self.serializers()
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

    def dead_letter_sinks(self) -> list[DeadLetterSink]:
        sinks: list[DeadLetterSink] = []
        self.pm.hook.naq_register_dead_letter_sinks(register=sinks.append)
        return sinks

    # dashboard and CLI ---------------------------------------------------------------

    def dashboard_panels(self) -> list[Any]:
        panels: list[Any] = []
        for result in self.pm.hook.naq_dashboard_panels():
            panels.extend(result or [])
        return panels

    def register_commands(self, *, cli: click.Group) -> None:
        self.pm.hook.naq_register_commands(cli=cli)

    # shutdown and destructive actions ------------------------------------------------

    def shutdown_policy(self, *, worker: Worker, config: Config) -> ShutdownPolicy:
        policy: ShutdownPolicy | None = self.pm.hook.naq_shutdown_policy(worker=worker, config=config)
        if policy is None:  # the built-in always answers; a broken setup must not hang
            from naq_core.shutdown import ShutdownPolicy

            policy = ShutdownPolicy(grace=config.shutdown_timeout)
        return policy

    def confirm_destructive(self, *, action: str, target: str, count: int | None, force: bool) -> bool:
        answer = self.pm.hook.naq_confirm_destructive(action=action, target=target, count=count, force=force)
        return True if answer is None else bool(answer)

    # lifecycle -----------------------------------------------------------------------

    async def job_enqueued(self, *, job: Job) -> None:
        for result in self.pm.hook.naq_job_enqueued(job=job):
            await await_me_maybe(result)

    async def job_started(self, *, job: Job, worker_id: str) -> None:
        for result in self.pm.hook.naq_job_started(job=job, worker_id=worker_id):
            await await_me_maybe(result)

    async def job_finished(self, *, job: Job, outcome: Outcome) -> None:
        for result in self.pm.hook.naq_job_finished(job=job, outcome=outcome):
            await await_me_maybe(result)

    async def worker_started(self, *, worker: Worker) -> None:
        for result in self.pm.hook.naq_worker_started(worker=worker):
            await await_me_maybe(result)

    async def worker_stopped(self, *, worker: Worker) -> None:
        for result in self.pm.hook.naq_worker_stopped(worker=worker):
            await await_me_maybe(result)

    def lifecycle_active(self) -> tuple[bool, bool, bool]:
        """Whether anything implements enqueued / started / finished (hot-path shortcut)."""
        return (
            self._has("naq_job_enqueued"),
            self._has("naq_job_started"),
            self._has("naq_job_finished"),
        )


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
