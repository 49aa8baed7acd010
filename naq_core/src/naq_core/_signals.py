"""SIGTERM/SIGINT handlers for a worker's run, and the handlers they replaced put back."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from typing import Any

__all__ = ["install_stop_signals"]


def install_stop_signals(stack: contextlib.AsyncExitStack, on_signal: Callable[[int], None]) -> None:
    """Call ``on_signal(signum)`` on SIGTERM/SIGINT until ``stack`` closes (the running
    loop's handlers; call from the main thread)."""
    loop = asyncio.get_running_loop()
    installed: dict[signal.Signals, Any] = {}  # signal -> the handler it replaced
    stack.callback(_remove, installed)
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(sig)
        try:
            loop.add_signal_handler(sig, on_signal, sig)
            installed[sig] = previous
        except (NotImplementedError, RuntimeError):
            pass


def _remove(replaced: dict[signal.Signals, Any]) -> None:
    """Remove the worker's handlers and put back the ones they replaced (asyncio alone
    would leave the default ones, e.g. instead of ``asyncio.run``'s SIGINT handler)."""
    loop = asyncio.get_running_loop()
    for sig, previous in replaced.items():
        loop.remove_signal_handler(sig)
        if previous is not None:
            signal.signal(sig, previous)
