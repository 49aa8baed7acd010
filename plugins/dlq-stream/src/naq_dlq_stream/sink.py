"""``StreamSink``: the dead-letter sink that stores each letter on the ``naq_dlq`` stream."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from naq_core.config import Config, load_config
from naq_core.deadletter import DeadLetter
from naq_core.queue import Queue
from naq_dlq_stream.store import DeadLetterStore

if TYPE_CHECKING:
    from naq_core.jetstream import Connection

__all__ = ["CLOSE_TIMEOUT", "StreamSink"]

#: Seconds :meth:`StreamSink.aclose` lets letters being published finish.
CLOSE_TIMEOUT = 2.0


class StreamSink:
    """Stores dead letters on ``naq_dlq``; ``store`` returns once JetStream has the letter.

    It opens its own NATS connection on the first ``store``, with ``config``: the worker's
    configuration when the plugin made it for a worker, else (made by hand without one)
    :func:`naq_core.load_config` (files and ``NAQ_*`` variables). Pass ``connection`` to
    use an existing connection instead (it is then not closed by :meth:`aclose`).
    """

    name = "dlq-stream"

    def __init__(self, config: Config | None = None, *, connection: Connection | None = None) -> None:
        self.config = config if config is not None else (connection.config if connection else None)
        self._connection = connection
        self._queue: Queue | None = None
        self._store: DeadLetterStore | None = None
        self._lock = asyncio.Lock()

    async def _ready(self) -> DeadLetterStore:
        store = self._store
        if store is not None and not store.conn.nc.is_closed:
            return store
        async with self._lock:
            if self._store is None or self._store.conn.nc.is_closed:
                conn = self._connection
                if conn is None:
                    config = self.config if self.config is not None else load_config()
                    self._queue = Queue(config=config)
                    conn = await self._queue.connection()
                self._store = DeadLetterStore(conn)
            return self._store

    async def store(self, letter: DeadLetter) -> None:
        """Publish ``letter`` to ``naq.dlq.<queue>.<id>`` and wait for JetStream's ack."""
        store = await self._ready()
        await store.add(letter)

    async def read_all(self) -> list[DeadLetter]:
        """Every letter on the stream, oldest first (for tests and small tools)."""
        store = await self._ready()
        return [stored.letter for stored in await store.list()]

    async def aclose(self) -> None:
        """Close the connection this sink opened (it reconnects if used again).

        Letters being published get :data:`CLOSE_TIMEOUT` seconds (the connection is
        drained, not dropped); then it is closed whatever is left, so a worker's stop
        never waits on it longer.
        """
        queue, store = self._queue, self._store
        self._queue, self._store = None, None
        if queue is None:
            return
        if store is not None:  # nats-py would drain for up to 30 s
            store.conn.nc.options["drain_timeout"] = CLOSE_TIMEOUT
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT + 1):
                await queue.close()
        except TimeoutError:
            if store is not None and not store.conn.nc.is_closed:
                await store.conn.nc.close()
