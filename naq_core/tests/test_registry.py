"""The task allow-list."""

from __future__ import annotations

import pytest
import worker_tasks

from naq_core import task
from naq_core.errors import ConfigurationError, TaskNotFoundError
from naq_core.registry import TaskRegistry, default_registry, task_name


@task
def decorated() -> int:
    return 1


@task(name="custom.name")
def renamed() -> int:
    return 2


def test_decorator_registers_by_qualified_or_given_name() -> None:
    assert task_name(decorated) == f"{__name__}:decorated"
    assert default_registry.get(f"{__name__}:decorated") is decorated
    assert task_name(renamed) == "custom.name"
    assert default_registry.get("custom.name") is renamed


def test_module_loading_registers_its_own_public_functions_only() -> None:
    registry = TaskRegistry()
    names = registry.load_module("worker_tasks")
    assert "worker_tasks:add" in names
    assert "worker_tasks:_count" not in names  # private
    assert "worker_tasks:Transient" not in names  # not a function
    assert all(not n.startswith("worker_tasks:asyncio") for n in names)  # imported names skipped
    assert registry.get("worker_tasks:add") is worker_tasks.add


def test_unknown_names_are_never_imported() -> None:
    registry = TaskRegistry()
    with pytest.raises(TaskNotFoundError, match="unknown task 'os:system'"):
        registry.get("os:system")


def test_bad_module_and_lambdas_are_clear_errors() -> None:
    with pytest.raises(ConfigurationError, match="cannot import module 'no_such_module_xyz'"):
        TaskRegistry().load_module("no_such_module_xyz")
    with pytest.raises(ConfigurationError, match="module-level function"):
        task_name(lambda: None)


def test_two_functions_under_one_name_is_an_error() -> None:
    registry = TaskRegistry()
    registry.register(worker_tasks.add, "x")
    with pytest.raises(ConfigurationError, match="two different functions"):
        registry.register(worker_tasks.multiply, "x")
