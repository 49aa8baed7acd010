"""Tasks of the dashboard's browser tests."""

from __future__ import annotations

from pathlib import Path

from naq_core import task


@task
def fails_once(marker: str) -> str:
    """Fails the first time (and leaves ``marker`` behind), succeeds after."""
    path = Path(marker)
    if not path.exists():
        path.write_text("failed once")
        raise RuntimeError("first attempt fails on purpose")
    return "second attempt worked"


@task
def add(a: int, b: int) -> int:
    return a + b
