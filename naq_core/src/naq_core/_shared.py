"""The connections the module-level helpers share, and how a ``*_sync`` twin is made.

Async helpers keep one :class:`~naq_core._pool.QueuePool` per (running event loop, URL),
closed when the loop is shut down by :func:`asyncio.run` (or ``asyncio.Runner``). Sync
helpers are :func:`sync` twins of the async ones: the same function run by a
:class:`~naq_core.client.NaqClient` (the default client, or one cached per URL) on its own
loop, with its connection.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import inspect
import threading
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextvars import ContextVar
from typing import ParamSpec, TypeVar

from naq_core._log import get_logger
from naq_core._pool import QueuePool
from naq_core.client import NaqClient, close_default_client, get_default_client
from naq_core.config import load_config
from naq_core.queue import Queue

__all__ = ["Url", "client", "close_connections", "close_sync_connections", "pool", "queue", "sync"]

P = ParamSpec("P")
T = TypeVar("T")

Url = str | Sequence[str] | None
_Key = tuple[str, ...] | None


def _key(nats_url: Url) -> _Key:
    """``"a,b"``, ``["a", "b"]`` and ``("a", "b")`` name the same servers."""
    if nats_url is None:
        return None
    urls = nats_url.split(",") if isinstance(nats_url, str) else nats_url
    return tuple(u.strip() for u in urls if u.strip())


# --- async: one pool per (event loop, URL) ----------------------------------------------------


class _LoopState:
    def __init__(self) -> None:
        self.pools: dict[_Key, QueuePool] = {}
        self.watcher: AsyncIterator[None] | None = None


_states: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState] = weakref.WeakKeyDictionary()
_states_lock = threading.Lock()

#: Set inside a ``*_sync`` twin's task: the pool of the NaqClient running it.
_client_pool: ContextVar[QueuePool | None] = ContextVar("naq_client_pool", default=None)


async def _at_loop_shutdown(loop: asyncio.AbstractEventLoop, state: _LoopState) -> AsyncIterator[None]:
    """An async generator the loop closes in ``shutdown_asyncgens()``: our shutdown hook."""
    try:
        yield
    finally:
        with _states_lock:
            if _states.get(loop) is state:
                del _states[loop]
        # asyncio.run has cancelled every task by now, nats-py's reader too: no drain.
        for shared in list(state.pools.values()):
            try:
                await shared.close(drain=False)
            except Exception as exc:  # the loop is going away: note it, never raise from here
                get_logger(__name__).debug("helper_connection_close_failed", error=str(exc))


async def pool(nats_url: Url) -> QueuePool:
    """The pool for ``nats_url`` on the running loop; in a ``*_sync`` twin, its client's."""
    in_client = _client_pool.get()
    if in_client is not None:
        return in_client
    loop = asyncio.get_running_loop()
    key = _key(nats_url)
    with _states_lock:
        for old in [lp for lp in _states if lp.is_closed()]:
            del _states[old]  # closed without shutdown_asyncgens: forget its connections
        state = _states.get(loop)
        fresh = state is None
        if state is None:
            state = _states[loop] = _LoopState()
        shared = state.pools.get(key)
        if shared is None:
            config = load_config(overrides={"nats_url": nats_url})
            shared = state.pools[key] = QueuePool(config, name="naq-helpers")
    if fresh:
        watcher = _at_loop_shutdown(loop, state)
        await watcher.__anext__()  # started, so the loop tracks (and will close) it
        state.watcher = watcher
    return shared


async def queue(queue_name: str | None, nats_url: Url) -> Queue:
    """The queue ``queue_name`` (``None``: the default one) of :func:`pool` for ``nats_url``."""
    return await (await pool(nats_url)).queue(queue_name)


async def close_connections() -> None:
    """Close the connections the async helpers opened in the running loop."""
    loop = asyncio.get_running_loop()
    with _states_lock:
        state = _states.pop(loop, None)
    if state is not None:
        for shared in list(state.pools.values()):
            await shared.close()


# --- sync: a NaqClient per URL ----------------------------------------------------------------

_clients: dict[_Key, NaqClient] = {}
_clients_lock = threading.Lock()


def client(nats_url: Url) -> NaqClient:
    """The default client (``nats_url=None``), else the one cached for these servers."""
    if nats_url is None:
        return get_default_client()
    key = _key(nats_url)
    with _clients_lock:
        found = _clients.get(key)
        if found is None or found.closed:
            found = _clients[key] = NaqClient(nats_url)
        return found


def close_sync_connections() -> None:
    """Close the clients the ``*_sync`` helpers use (the next call opens new ones)."""
    with _clients_lock:
        clients = list(_clients.values())
        _clients.clear()
    for each in clients:
        each.close()
    close_default_client()


def sync(func: Callable[P, Awaitable[T]]) -> Callable[P, T]:
    """The ``*_sync`` twin of the async helper ``func``: the same arguments, blocking.

    The twin runs ``func`` on the loop of the client for its ``nats_url`` argument, where
    :func:`pool` answers with that client's pool: one connection per client, whichever
    helpers use it.
    """
    signature = inspect.signature(func)

    def twin(*args: P.args, **kwargs: P.kwargs) -> T:
        nats_url = signature.bind(*args, **kwargs).arguments.get("nats_url")

        async def run(client_pool: QueuePool) -> T:
            _client_pool.set(client_pool)  # this task's context only
            return await func(*args, **kwargs)

        return client(nats_url)._run(run)

    functools.update_wrapper(twin, func)
    twin.__name__ = f"{func.__name__}_sync"
    twin.__qualname__ = f"{func.__qualname__}_sync"
    return twin


atexit.register(close_sync_connections)
