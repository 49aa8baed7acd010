"""The one cache of producer connections, and the one way a blocking call runs async code.

- :class:`QueuePool`: one NATS connection and a :class:`~naq_core.queue.Queue` per name, for
  the calls of one event loop.
- Async shortcuts (:mod:`naq_core.shortcuts`) keep one pool per (running event loop, URL),
  closed when the loop is shut down by :func:`asyncio.run` (or ``asyncio.Runner``).
- Blocking calls go through a :class:`~naq_core.client.NaqClient`: the process's default
  client (``nats_url=None``) or one cached per URL, in one table. :func:`run_in` runs an
  async shortcut on a client's loop, where :func:`pool` answers with that client's pool;
  :func:`sync` makes the ``*_sync`` twin of a shortcut with it, and ``NaqClient``'s methods
  call it directly. One connection per client, whichever calls use it.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import inspect
import os
import threading
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from naq_core._jetstream.connection import Connection, connect
from naq_core._log import get_logger
from naq_core.config import Config, load_config, validate_queue_name
from naq_core.plugins import get_hooks
from naq_core.queue import Queue

if TYPE_CHECKING:
    from naq_core.client import NaqClient

__all__ = [
    "QueuePool",
    "Url",
    "client",
    "close_client",
    "close_clients",
    "close_connections",
    "pool",
    "queue",
    "run_in",
    "sync",
]

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


class QueuePool:
    """A connection opened on first use (and again once closed) and the queues on it.

    ``name`` is the connection's name as the server shows it (``naq-client``). Use it from
    its loop only.
    """

    def __init__(self, config: Config, *, name: str) -> None:
        self.config = config
        self.name = name
        self.conn: Connection | None = None
        self.queues: dict[str, Queue] = {}
        self._lock = asyncio.Lock()

    async def connection(self) -> Connection:
        conn = self.conn
        if conn is not None and not conn.nc.is_closed:
            return conn
        async with self._lock:
            if self.conn is not None and self.conn.nc.is_closed:
                self.conn, self.queues = None, {}
            if self.conn is None:
                self.conn = await connect(self.config, hooks=get_hooks(), name=self.name)
            return self.conn

    async def queue(self, queue_name: str | None) -> Queue:
        """The queue ``queue_name`` (``None``: the configured default queue) on the connection."""
        name = validate_queue_name(queue_name or self.config.default_queue)
        conn = await self.connection()
        queue = self.queues.get(name)
        if queue is None:
            queue = self.queues[name] = Queue(name, connection=conn, config=self.config)
        return queue

    async def close(self, *, drain: bool = True, timeout: float = 5.0) -> None:
        """Close the connection (draining it first unless ``drain=False``), each step bounded."""
        conn, self.conn, self.queues = self.conn, None, {}
        if conn is None or conn.nc.is_closed:
            return
        if drain:
            try:
                await asyncio.wait_for(conn.close(), timeout)
                return
            except TimeoutError:
                pass
        await asyncio.wait_for(conn.nc.close(), timeout)


# --- async: one pool per (event loop, URL) ----------------------------------------------------


class _LoopState:
    def __init__(self) -> None:
        self.pools: dict[_Key, QueuePool] = {}
        self.watcher: AsyncIterator[None] | None = None


_states: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState] = weakref.WeakKeyDictionary()
_states_lock = threading.Lock()

#: Set inside a call run by :func:`run_in`: the pool of the NaqClient running it.
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
    """The pool for ``nats_url`` on the running loop; in a :func:`run_in` call, its client's."""
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


# --- blocking: a NaqClient per URL, the default client under ``None`` -----------------------------

_clients: dict[_Key, NaqClient] = {}
_clients_lock = threading.Lock()


def client(nats_url: Url) -> NaqClient:
    """The default client (``nats_url=None``: effective configuration), else the one for these
    servers; made on first use, and again once closed."""
    from naq_core.client import NaqClient  # the client module uses this one

    key = _key(nats_url)
    found = _clients.get(key)
    if found is not None and not found.closed:
        return found
    with _clients_lock:
        found = _clients.get(key)
        if found is None or found.closed:
            found = _clients[key] = NaqClient(nats_url)
        return found


def close_client(nats_url: Url) -> None:
    """Close the client cached for ``nats_url`` (``None``: the default one), if there is one."""
    with _clients_lock:
        found = _clients.pop(_key(nats_url), None)
    if found is not None:
        found.close()


def close_clients() -> None:
    """Close every cached client, the default one too (the next call opens new ones)."""
    with _clients_lock:
        clients = list(_clients.values())
        _clients.clear()
    for each in clients:
        each.close()


def run_in(client: NaqClient, func: Callable[P, Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """``func(*args, **kwargs)`` on ``client``'s loop, blocking; its :func:`pool` is the client's."""

    async def run(client_pool: QueuePool) -> T:
        _client_pool.set(client_pool)  # this task's context only
        return await func(*args, **kwargs)

    return client._run(run)


def sync(func: Callable[P, Awaitable[T]]) -> Callable[P, T]:
    """The ``*_sync`` twin of the async shortcut ``func``: the same arguments, blocking.

    The twin runs ``func`` with :func:`run_in` on the client for its ``nats_url`` argument.
    """
    signature = inspect.signature(func)

    def twin(*args: P.args, **kwargs: P.kwargs) -> T:
        nats_url = signature.bind(*args, **kwargs).arguments.get("nats_url")
        return run_in(client(nats_url), func, *args, **kwargs)

    functools.update_wrapper(twin, func)
    twin.__name__ = f"{func.__name__}_sync"
    twin.__qualname__ = f"{func.__qualname__}_sync"
    return twin


def _forget_in_child() -> None:
    global _clients_lock
    _clients.clear()  # the parent's clients: their threads do not exist here
    _clients_lock = threading.Lock()


atexit.register(close_clients)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)
