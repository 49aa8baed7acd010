"""Tasks of the overview and queues tests: one that holds until a file appears, one that fails."""

from __future__ import annotations

import asyncio
import os

from naq_core import task


@task
async def hold(flag: str, limit: float = 60.0) -> str:
    """Runs until the file ``flag`` exists (at most ``limit`` seconds)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not os.path.exists(flag):
        if loop.time() > deadline:
            raise TimeoutError(f"{flag} never appeared")
        await asyncio.sleep(0.01)
    return "released"


@task
def add(a: int, b: int) -> int:
    return a + b


@task
def explode() -> None:
    raise ValueError("explodes on purpose")
