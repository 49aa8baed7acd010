"""Tasks of the naq-prometheus tests: one that succeeds, one that always fails."""

from __future__ import annotations

from naq_core import task


@task
def ok(n: int) -> int:
    return n


@task
def boom() -> None:
    raise ValueError("fails on purpose")
