"""pickle runs only when selected, and then warns at first enqueue and at worker start."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from structlog.testing import capture_logs

import naq_pickle_unsafe
from naq_core import Queue, UnknownSerializerError, Worker
from naq_core import queue as queue_module
from naq_core.queue import UnsafeSerializerWarning
from naq_core.testing import only_plugins

sys.path.insert(0, str(Path(__file__).parent))
import pickle_tasks


@pytest.fixture(autouse=True)
def pickle_only() -> Iterator[None]:
    queue_module._warned_unsafe.clear()
    with only_plugins(naq_pickle_unsafe):
        yield


async def test_default_config_does_not_use_pickle(nats_url: str) -> None:
    q = Queue("pickle-default", nats_url)
    with pytest.raises(UnknownSerializerError, match="unknown serializer 'json'"):
        await q.enqueue(pickle_tasks.norm1, pickle_tasks.Point(1, 2))


async def test_selected_pickle_warns_and_runs(nats_url: str) -> None:
    with capture_logs() as logs, pytest.warns(UnsafeSerializerWarning, match="can execute code"):
        async with Queue("pickle-q", nats_url, serializer="pickle") as q:
            job = await q.enqueue(pickle_tasks.norm1, pickle_tasks.Point(3, -4))
            worker = Worker(
                "pickle-q",
                nats_url,
                serializer="pickle",
                tasks=["pickle_tasks"],
                install_signal_handlers=False,
            )
            running = asyncio.create_task(worker.run())
            try:
                assert await q.fetch_job_result(job, timeout=15) == 7
            finally:
                worker.request_stop()
                await asyncio.wait_for(running, 30)
    places = [e["where"] for e in logs if e["event"] == "unsafe_serializer"]
    assert places == ["enqueue", "worker start"]
