"""The task allow-list: a worker runs only functions registered here.

A function is registered by decorating it with :func:`task`, or by naming its module in
``naq worker -t myapp.tasks`` / config ``tasks = [...]`` (every public function defined in
that module). A message naming anything else is never imported, let alone called.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar, overload

from naq_core.errors import ConfigurationError, TaskNotFoundError

__all__ = [
    "TaskRegistry",
    "default_registry",
    "main_module_name",
    "task",
    "task_name",
    "unknown_task_message",
]

P = ParamSpec("P")
R = TypeVar("R")


def task_name(func: Callable[..., Any] | str) -> str:
    """The wire name of a task: its registered name, or ``module:qualname``.

    A function defined in the script being run (``__main__``) is named after the module a
    worker would import: the spec's name under ``python -m pkg.mod``, the script's module
    name when its folder is importable (``python app/jobs.py`` -> ``jobs``). Where no
    worker could import it (an interactive session, ``python -c``, a script on standard
    input) this raises :class:`ConfigurationError` saying what to do, as it does for a
    lambda or a nested function.
    """
    if isinstance(func, str):
        return func
    name = getattr(func, "__naq_task__", None)
    if isinstance(name, str):
        if name.startswith("__main__:"):  # decorated where __main__ had no importable name
            raise ConfigurationError(_main_hint(name.partition(":")[2]))
        return name
    return _qualified(func, strict=True)


def main_module_name() -> str | None:
    """The name a worker would import the running ``__main__`` as, or ``None`` if none."""
    main = sys.modules.get("__main__")
    if main is None:
        return None
    spec = getattr(main, "__spec__", None)
    spec_name = getattr(spec, "name", None)
    if isinstance(spec_name, str) and spec_name and spec_name != "__main__":
        return spec_name  # python -m pkg.mod
    file = getattr(main, "__file__", None)
    if not isinstance(file, str) or not file.endswith(".py"):
        return None  # interactive, python -c, standard input
    return _script_module(Path(file))


def unknown_task_message(name: str, queue: str | None = None) -> str:
    """Why ``name`` cannot run here, and the ``naq worker`` command that would run it."""
    module, sep, _ = name.partition(":")
    where = queue or "QUEUE"
    if sep and module == "__main__":
        return (
            f"unknown task {name!r}: it was enqueued from a script run as __main__, which no "
            "worker can import; move the function into a module and start the worker with "
            f"`naq worker {where} -t that.module`"
        )
    if sep:
        return (
            f"unknown task {name!r}: not registered with this worker; start it with "
            f"`naq worker {where} -t {module}` (or list {module!r} in the config's tasks)"
        )
    return (
        f"unknown task {name!r}: not registered with this worker; start it with "
        f"`naq worker {where} -t MODULE`, MODULE being the module that defines it"
    )


def _qualified(func: Callable[..., Any], *, strict: bool) -> str:
    """``module:qualname``; a ``__main__`` that cannot be resolved raises if ``strict``,
    else keeps the name ``__main__`` (so ``@task`` works in a notebook's own worker)."""
    module, qualname = getattr(func, "__module__", None), getattr(func, "__qualname__", None)
    if not module or not qualname or "<locals>" in qualname or "<lambda>" in qualname:
        raise ConfigurationError(
            f"{func!r} cannot be a task: use a module-level function (got a lambda or nested "
            "function); define it at the top of a module and start the worker with "
            "`naq worker QUEUE -t that.module`"
        )
    if module == "__main__":
        resolved = main_module_name()
        if resolved is None:
            if strict:
                raise ConfigurationError(_main_hint(qualname))
            resolved = module
        module = resolved
    return f"{module}:{qualname}"


def _main_hint(qualname: str) -> str:
    return (
        f"cannot enqueue {qualname!r}: it is defined in __main__ (an interactive session, "
        "`python -c`, a script read from standard input or from a folder that is not "
        "importable), which no worker can import. Move "
        "the function into a module (say tasks.py) and start the worker with "
        "`naq worker QUEUE -t tasks`"
    )


def _script_module(path: Path) -> str | None:
    """The importable name of script ``path``: dotted from the nearest ``sys.path`` entry
    above its package folders, else its bare name if its own folder is on ``sys.path``."""
    try:
        path = path.resolve()
        roots = {Path(entry or os.getcwd()).resolve() for entry in sys.path}
    except OSError:
        return None
    parts = [path.stem]
    folder = path.parent
    name = path.stem if folder in roots else None
    while (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        folder = folder.parent
        if folder in roots:
            name = ".".join(parts)
            break
    if name is None or not all(part.isidentifier() for part in name.split(".")):
        return None
    return name


class TaskRegistry:
    """Name -> function. Workers look tasks up here and nowhere else."""

    def __init__(self) -> None:
        self._tasks: dict[str, Callable[..., Any]] = {}
        self._modules: set[str] = set()

    def register(self, func: Callable[..., Any], name: str | None = None) -> str:
        key = name or _qualified(func, strict=False)
        existing = self._tasks.get(key)
        if existing is not None and existing is not func:
            raise ConfigurationError(f"two different functions registered as task {key!r}")
        self._tasks[key] = func
        return key

    def load_module(self, module_name: str) -> list[str]:
        """Import ``module_name`` and register its public functions; returns their names."""
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise ConfigurationError(f"tasks: cannot import module {module_name!r}: {exc}") from exc
        names = []
        for attr, value in vars(module).items():
            if attr.startswith("_") or not inspect.isfunction(value):
                continue
            if value.__module__ != module.__name__:
                continue  # imported from elsewhere; not part of this module's tasks
            names.append(self.register(value))
        self._modules.add(module_name)
        return names

    def load_modules(self, module_names: Iterable[str]) -> None:
        for name in module_names:
            self.load_module(name)

    def get(self, name: str) -> Callable[..., Any]:
        try:
            return self._tasks[name]
        except KeyError:
            raise TaskNotFoundError(unknown_task_message(name)) from None

    def __contains__(self, name: object) -> bool:
        return name in self._tasks

    def names(self) -> list[str]:
        return sorted(self._tasks)

    def merged(self, other: TaskRegistry) -> TaskRegistry:
        merged = TaskRegistry()
        merged._tasks = {**other._tasks, **self._tasks}
        return merged


#: Functions decorated with :func:`task` land here; every worker in the process sees them.
default_registry = TaskRegistry()


@overload
def task(func: Callable[P, R], /) -> Callable[P, R]: ...


@overload
def task(*, name: str | None = None) -> Callable[[Callable[P, R]], Callable[P, R]]: ...


def task(
    func: Callable[P, R] | None = None, /, *, name: str | None = None
) -> Callable[P, R] | Callable[[Callable[P, R]], Callable[P, R]]:
    """Register a function as a task a worker may run (``@task`` or ``@task(name="x")``)."""

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        key = default_registry.register(fn, name)
        fn.__naq_task__ = key  # type: ignore[attr-defined]
        return fn

    return decorate(func) if func is not None else decorate
