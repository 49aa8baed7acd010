"""Tasks the worker tests run. Module-level state lets tests observe what happened."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

calls: dict[str, int] = {}
active = 0
peak = 0
_lock = threading.Lock()
gates: dict[str, asyncio.Event] = {}


class Transient(Exception):
    pass


class Permanent(Exception):
    pass


def _count(key: str) -> int:
    with _lock:
        calls[key] = calls.get(key, 0) + 1
        return calls[key]


async def add(a: int, b: int) -> int:
    return a + b


def multiply(a: int, b: int) -> int:
    return a * b


async def echo(*args: Any, **kwargs: Any) -> dict[str, Any]:
    return {"args": list(args), "kwargs": kwargs}


async def sleep_for(seconds: float) -> float:
    await asyncio.sleep(seconds)
    return seconds


def block_for(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def gate(key: str) -> asyncio.Event:
    """The event that :func:`wait_for_gate` with this key waits on (set it to let the job end)."""
    return gates.setdefault(key, asyncio.Event())


async def wait_for_gate(key: str, limit: float = 60.0) -> str:
    """Runs until the test sets ``gate(key)`` (at most ``limit`` seconds): a job that lasts
    exactly as long as the test needs, whatever the machine's load."""
    async with asyncio.timeout(limit):
        await gate(key).wait()
    return key


async def track(seconds: float) -> int:
    """Records how many run at once."""
    global active, peak
    active += 1
    peak = max(peak, active)
    try:
        await asyncio.sleep(seconds)
    finally:
        active -= 1
    return peak


def fail(message: str = "boom") -> None:
    raise ValueError(message)


def fail_times(key: str, times: int, exc: str = "transient") -> int:
    """Fails ``times`` times (per key), then returns the attempt number."""
    n = _count(key)
    if n <= times:
        raise (Transient if exc == "transient" else Permanent)(f"attempt {n}")
    return n


def count(key: str) -> int:
    return _count(key)


def unserializable_result() -> object:
    return object()


def block_then_count(key: str, seconds: float) -> int:
    n = _count(key)
    time.sleep(seconds)
    return n
