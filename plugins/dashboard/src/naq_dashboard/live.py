"""Live updates: one watcher per dashboard process, shared by every open tab.

While at least one page listens (``GET /events``, server-sent events), one task asks NATS
once a second for the state of every stream (``$JS.API.STREAM.LIST``: message count and
last sequence of the jobs stream, the results, workers and schedules buckets, the
dead-letter stream, ...) and of the jobs stream's consumers (pending, in flight, paused).
Those are a handful of requests whatever the number of jobs or tabs. When something
changed it sends each listener one ``change`` event naming the streams that changed (as
``topics``); the page then re-reads the parts of itself marked ``data-live``, at most
about once a second, and not while the tab is hidden (``static/naq.js``).

A ``status`` event says whether NATS is reachable, so a page shows "reconnecting"
while NATS restarts; the browser's ``EventSource`` reconnects by itself when the
dashboard restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from naq_core.overview import Requests, queue_consumers

if TYPE_CHECKING:
    from naq_dashboard.host import DashboardHost

__all__ = ["INTERVAL", "KEEPALIVE", "LiveHub", "state_versions"]

_log = logging.getLogger("naq_dashboard.live")

#: Seconds between two looks at the server's state (and so the fastest a page updates).
INTERVAL = 1.0
#: Seconds between keep-alive comments on an idle event stream.
KEEPALIVE = 15.0
_QUEUE_SIZE = 4


async def state_versions(host: DashboardHost) -> dict[str, str]:
    """A version string per stream (and ``consumers`` for the jobs stream's consumers)."""
    req = Requests(await host.connection())
    versions: dict[str, str] = {}
    offset = 0
    for _ in range(100):  # 256 streams a page; 100 pages is far more than any deployment
        page = await req.api("STREAM.LIST", {"offset": offset})
        streams = page.get("streams") or []
        for info in streams:
            state = info.get("state", {})
            name = info.get("config", {}).get("name", "")
            versions[name] = f"{state.get('messages', 0)}/{state.get('last_seq', 0)}"
        offset += len(streams)
        if not streams or offset >= int(page.get("total", 0)):
            break
    consumers = await queue_consumers(req)
    versions["consumers"] = "|".join(
        sorted(
            f"{queue}:{info.get('num_pending')}:{info.get('num_ack_pending')}:{info.get('paused', False)}"
            for queue, info in consumers.items()
        )
    )
    return versions


class LiveHub:
    """The shared watcher (see the module text)."""

    def __init__(self, host: DashboardHost) -> None:
        self._host = host
        self._listeners: set[asyncio.Queue[tuple[str, dict[str, Any]]]] = set()
        self._task: asyncio.Task[None] | None = None
        self.polls = 0  # how many times the state was read (tests count it)

    @property
    def listeners(self) -> int:
        return len(self._listeners)

    @contextlib.asynccontextmanager
    async def listen(self) -> AsyncIterator[asyncio.Queue[tuple[str, dict[str, Any]]]]:
        """A queue of ``(event, data)`` for one page, for as long as the block runs."""
        queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue(_QUEUE_SIZE)
        self._listeners.add(queue)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._watch(), name="naq-dashboard-live")
        try:
            yield queue
        finally:
            self._listeners.discard(queue)

    def _send(self, event: str, data: dict[str, Any]) -> None:
        for queue in list(self._listeners):
            if queue.full():  # a slow page: it only needs to know that something changed
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait((event, data))

    async def _watch(self) -> None:
        previous: dict[str, str] | None = None
        reachable: bool | None = None
        while self._listeners:
            try:
                versions = await state_versions(self._host)
                self.polls += 1
            except Exception as exc:  # NATS down or restarting: say so, keep trying
                if reachable is not False:
                    _log.info("live updates: NATS unreachable (%s)", type(exc).__name__)
                    self._send("status", {"nats": "unreachable"})
                reachable = False
            else:
                if reachable is not True:
                    self._send("status", {"nats": "ok"})
                    reachable = True
                if previous is not None:
                    changed = sorted(
                        k for k in versions.keys() | previous.keys() if versions.get(k) != previous.get(k)
                    )
                    if changed:
                        self._send("change", {"topics": changed})
                previous = versions
            await asyncio.sleep(INTERVAL)

    async def close(self) -> None:
        """Stop the watcher (pages still listening get no more events)."""
        task, self._task = self._task, None
        self._listeners.clear()
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
