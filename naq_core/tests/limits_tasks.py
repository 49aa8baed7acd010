"""Tasks for test_limits*: a failing job that counts its runs."""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["calls", "fail_counted"]

calls: dict[str, int] = {}
_lock = threading.Lock()


def fail_counted(key: str, blob: Any = None) -> None:
    """Count the run under ``key``, then fail (``blob`` only makes the message big)."""
    with _lock:
        calls[key] = calls.get(key, 0) + 1
    raise RuntimeError(f"fails on purpose ({key})")
