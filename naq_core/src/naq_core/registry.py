"""The task allow-list: a worker runs only functions registered here.

A function is registered by decorating it with :func:`task`, or by naming its module in
``naq worker -t myapp.tasks`` / config ``tasks = [...]`` (every public function defined in
that module). A message naming anything else is never imported, let alone called.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterable
from typing import Any, ParamSpec, TypeVar, overload

from naq_core.errors import ConfigurationError, TaskNotFoundError

__all__ = ["TaskRegistry", "default_registry", "task", "task_name"]

P = ParamSpec("P")
R = TypeVar("R")


def task_name(func: Callable[..., Any] | str) -> str:
    """The wire name of a task: its registered name, or ``module:qualname``."""
    if isinstance(func, str):
        return func
    name = getattr(func, "__naq_task__", None)
    if isinstance(name, str):
        return name
    module, qualname = getattr(func, "__module__", None), getattr(func, "__qualname__", None)
    if not module or not qualname or "<locals>" in qualname or "<lambda>" in qualname:
        raise ConfigurationError(
            f"{func!r} cannot be a task: use a module-level function (got a lambda or nested function)"
        )
    return f"{module}:{qualname}"


class TaskRegistry:
    """Name -> function. Workers look tasks up here and nowhere else."""

    def __init__(self) -> None:
        self._tasks: dict[str, Callable[..., Any]] = {}
        self._modules: set[str] = set()

    def register(self, func: Callable[..., Any], name: str | None = None) -> str:
        key = name or task_name(func)
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
            raise TaskNotFoundError(f"unknown task {name!r}: not registered with this worker") from None

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
