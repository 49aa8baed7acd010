"""Sample tasks that ``naq dev`` runs to show what naq does (also handy in tutorials).

``naq dev`` loads this module into its worker (``-t naq_core.cli.samples``) and enqueues a plain
call, a slow async call, a task that fails once and then succeeds through a retry, one that
always fails, and one that waits for two others. Every public function here is a task.
"""

from __future__ import annotations

import asyncio

__all__ = ["add", "fail_always", "flaky", "slow_hello"]

_attempts: dict[str, int] = {}


def add(x: float, y: float) -> float:
    """Return ``x + y`` (a plain function: runs in the worker's thread pool)."""
    return x + y


async def slow_hello(name: str, delay: float = 0.5) -> str:
    """Wait ``delay`` seconds, then greet ``name`` (a coroutine: runs on the event loop)."""
    await asyncio.sleep(delay)
    return f"hello, {name}"


async def flaky(key: str) -> str:
    """Fail the first attempt for ``key``, succeed on the next (show retries).

    Attempts are counted in the worker's memory, so the retry must reach the same worker
    process, as it does under ``naq dev``.
    """
    _attempts[key] = attempt = _attempts.get(key, 0) + 1
    if attempt == 1:
        raise ConnectionError("flaky: first attempt fails on purpose")
    return f"succeeded on attempt {attempt}"


def fail_always(reason: str = "this sample always fails") -> None:
    """Raise ``RuntimeError(reason)``: retries run out and the job is dead-lettered."""
    raise RuntimeError(reason)
