"""One NATS connection and a :class:`~naq_core.queue.Queue` per name, for the calls of one loop.

:class:`~naq_core.client.NaqClient` keeps one on its private loop; the module-level helpers
of :mod:`naq_core.helpers` keep one per event loop and URL. Use it from its loop only.
"""

from __future__ import annotations

import asyncio

from naq_core._jetstream.connection import Connection, connect
from naq_core.config import Config, validate_queue_name
from naq_core.plugins import get_hooks
from naq_core.queue import Queue

__all__ = ["QueuePool"]


class QueuePool:
    """A connection opened on first use (and again once closed) and the queues on it.

    ``name`` is the connection's name as the server shows it (``naq-client``).
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
