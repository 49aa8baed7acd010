"""Tasks of the hello-world example.

A worker runs them once it is told where they are: ``naq worker hello -t tasks`` (run from
this folder, which makes ``tasks`` importable). Every public function of the module is a task.
"""

from __future__ import annotations

import asyncio


def add(x: int, y: int) -> int:
    """A plain function: the worker runs it in its thread pool."""
    return x + y


async def greet(name: str) -> str:
    """A coroutine function: the worker runs it on its event loop."""
    await asyncio.sleep(0.1)
    return f"hello, {name}"
