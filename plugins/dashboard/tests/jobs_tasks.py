"""Tasks of the jobs panel's tests."""

from __future__ import annotations

from typing import Any

from naq_core import task


@task
def echo(*args: Any, **kwargs: Any) -> dict[str, Any]:
    return {"echoed": list(args), "keys": sorted(kwargs)}


@task
def add(a: int, b: int) -> int:
    return a + b


@task
def boom(reason: str) -> None:
    raise ValueError(f"boom: {reason}")
