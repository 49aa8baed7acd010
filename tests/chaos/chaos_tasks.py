"""The tasks chaos workers run (``naq worker QUEUE -t chaos_tasks``).

Each one writes fixed-width lines to the file named by ``$CHAOS_RECORD_FILE`` with one
``O_APPEND`` write per line (atomic for a line this short, whatever process or thread
writes it)::

    S <token> <pid> <time>     the job started
    E <token> <pid> <time>     the job finished

``token`` is the test's id for the job (its first argument), 32 characters; every line is
:data:`LINE` bytes long, so a file's size tells how many lines it holds.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path

__all__ = ["LINE", "die", "hold", "noop", "sync_work", "work"]

#: Bytes per record line: "K " + token(32) + " " + pid(8) + " " + time(17) + "\n".
LINE = 62
_fd: int | None = None
_lock = threading.Lock()


def _write(kind: str, token: str) -> None:
    global _fd
    if _fd is None:
        with _lock:
            if _fd is None:
                _fd = os.open(os.environ["CHAOS_RECORD_FILE"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    line = f"{kind} {token:<32.32} {os.getpid():>8} {time.time():17.6f}\n"
    os.write(_fd, line.encode())


async def work(token: str, seconds: float = 0.0) -> None:
    """Start, sleep ``seconds`` on the event loop, finish."""
    _write("S", token)
    if seconds:
        await asyncio.sleep(seconds)
    _write("E", token)


def sync_work(token: str, seconds: float = 0.0) -> None:
    """As :func:`work`, in the worker's thread pool."""
    _write("S", token)
    if seconds:
        time.sleep(seconds)
    _write("E", token)


async def hold(token: str, gate: str, limit: float = 120.0) -> None:
    """Start, then wait (at most ``limit`` seconds) until the file ``gate`` exists."""
    _write("S", token)
    deadline = time.monotonic() + limit
    while not Path(gate).exists() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    _write("E", token)


def noop(token: str) -> None:
    """Finish at once: only the ``E`` line (the soak's job)."""
    _write("E", token)


def die(token: str) -> None:
    """Start, then end the worker's process on the spot (no cleanup, no ack)."""
    _write("S", token)
    os._exit(17)
