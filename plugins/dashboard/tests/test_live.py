"""The live watcher: one per app however many pages listen, events naming what changed, a
status event while NATS is away, nothing left running when the last page goes."""

from __future__ import annotations

import asyncio
import uuid

from dashboard_support import config_for

from naq_core import Queue
from naq_core.server import free_port
from naq_dashboard import create_app, host_of

_WAIT = 15.0


async def _next(queue: asyncio.Queue[tuple[str, dict[str, object]]], event: str) -> dict[str, object]:
    async with asyncio.timeout(_WAIT):
        while True:
            name, data = await queue.get()
            if name == event:
                return data


async def test_one_watcher_serves_every_page_and_names_what_changed(nats_url: str) -> None:
    host = host_of(create_app(config_for(nats_url)))
    try:
        async with host.live.listen() as one, host.live.listen() as two:
            assert host.live.listeners == 2
            watcher = host.live._task
            assert watcher is not None
            assert (await _next(one, "status")) == {"nats": "ok"}
            assert (await _next(two, "status")) == {"nats": "ok"}
            queue = f"live-{uuid.uuid4().hex[:8]}"
            async with Queue(queue, nats_url) as q:
                await q.enqueue("tests:noop")
            first = await _next(one, "change")
            second = await _next(two, "change")
            assert "naq_jobs" in first["topics"]  # type: ignore[operator]
            assert first == second
            assert host.live._task is watcher  # still the one watcher
        assert host.live.listeners == 0
        async with asyncio.timeout(_WAIT):  # the watcher ends once nobody listens
            await watcher
    finally:
        await host.close()


async def test_a_status_event_says_nats_is_unreachable() -> None:
    host = host_of(create_app(config_for(f"nats://127.0.0.1:{free_port()}", connect_timeout=1)))
    try:
        async with host.live.listen() as events:
            assert (await _next(events, "status")) == {"nats": "unreachable"}
    finally:
        await host.close()
