"""Queue depth: the worker's queues' consumer state, read every ``refresh_interval`` seconds.

One ``CONSUMER.LIST`` request a refresh (:func:`naq_core.overview.queue_consumers`), over a
connection of its own; never per job. Each worker refreshes the gauges of its own queues.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

import structlog

from naq_core import Config
from naq_core.jetstream import connect
from naq_core.overview import Requests, queue_consumers
from naq_prometheus.metrics import set_depth

__all__ = ["DepthRefresher", "refresh_once"]


async def refresh_once(requests: Requests, queues: Sequence[str]) -> None:
    """Read every queue consumer once and set the gauges of ``queues``."""
    consumers = await queue_consumers(requests)
    for queue in queues:
        info = consumers.get(queue)
        if info is not None:
            set_depth(queue, int(info.get("num_pending", 0)), int(info.get("num_ack_pending", 0)))


class DepthRefresher:
    """A task that refreshes the depth gauges of ``queues`` until :meth:`stop`."""

    def __init__(self, config: Config, queues: Sequence[str], interval: float) -> None:
        self.config = config
        self.queues = tuple(queues)
        self.interval = interval
        #: Refreshes done (successful reads).
        self.refreshes = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="naq-prometheus-depth")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        log = structlog.get_logger(__name__)
        conn = None
        try:
            while True:
                try:
                    if conn is None:
                        conn = await connect(self.config, name="naq-prometheus")
                    await refresh_once(Requests(conn), self.queues)
                    self.refreshes += 1
                except Exception as exc:  # NATS away for a while: try again next time
                    log.warning("prometheus_depth_refresh_failed", error=repr(exc))
                await asyncio.sleep(self.interval)
        finally:
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.close()
