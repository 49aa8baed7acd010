"""The HTTP endpoint: prometheus_client's own server, shared by every worker of one process.

The first worker that starts in a process opens it on the configured ``host`` and ``port``
(``0``: any free port, see :func:`address`); the last one that stops closes it. It serves
prometheus_client's default registry, so metrics an application registers there appear too.
"""

from __future__ import annotations

import threading
from typing import Any

from prometheus_client import start_http_server

__all__ = ["acquire", "address", "release"]

_lock = threading.Lock()
_server: Any = None
_thread: threading.Thread | None = None
_users: set[str] = set()


def acquire(owner: str, host: str, port: int) -> tuple[str, int]:
    """Open the endpoint for ``owner`` (a worker id) unless it is open; its address.

    Raises ``OSError`` when the port cannot be bound (in use: give each process its own).
    """
    global _server, _thread
    with _lock:
        if _server is None:
            _server, _thread = start_http_server(port, addr=host)
        _users.add(owner)
        return _address()


def release(owner: str) -> None:
    """``owner`` no longer needs the endpoint: close it when nobody does."""
    global _server, _thread
    with _lock:
        _users.discard(owner)
        if _users or _server is None:
            return
        server, thread = _server, _thread
        _server = _thread = None
    server.shutdown()
    server.server_close()
    if thread is not None:
        thread.join(timeout=10)


def address() -> tuple[str, int] | None:
    """``(host, port)`` the endpoint of this process listens on, ``None`` when it is closed."""
    with _lock:
        return _address() if _server is not None else None


def _address() -> tuple[str, int]:
    host, port = _server.server_address[:2]
    return str(host), int(port)
