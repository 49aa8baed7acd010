"""Module-level helpers: one connection per loop (async), a shared NaqClient (sync)."""

from __future__ import annotations

import asyncio
import json
import sys
import urllib.request
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from naq_core import JobFailedError, JobStatus, helpers
from naq_core import _client_cache as shared
from naq_core._client_cache import QueuePool
from naq_core.client import get_default_client
from naq_core.server import EmbeddedServer, free_port
from naq_core.testing.worker import running_worker as _running_worker
from naq_core.testing.worker import worker_thread

sys.path.insert(0, str(Path(__file__).parent))
import client_tasks


@pytest.fixture(autouse=True)
def _sync_clients() -> Iterator[None]:
    yield
    helpers.close_sync_connections()


#: A worker for ``client_tasks``, stopped (bounded) when the block ends.
running_worker = partial(_running_worker, tasks=("client_tasks",))


def _shared(url: str) -> QueuePool:
    return shared._states[asyncio.get_running_loop()].pools[(url,)]


# --- async helpers ----------------------------------------------------------------------------


async def test_async_helpers_reuse_one_connection_per_loop(nats_url: str, queue_name: str) -> None:
    first = await helpers.enqueue(client_tasks.noop, 1, queue_name=queue_name, nats_url=nats_url)
    conn = _shared(nats_url).conn
    assert conn is not None
    await helpers.enqueue(client_tasks.noop, 2, queue_name=queue_name, nats_url=nats_url)
    await helpers.enqueue_many(
        [(client_tasks.noop, (i,)) for i in range(5)], queue_name=queue_name, nats_url=nats_url
    )
    assert await helpers.job_status(first, nats_url=nats_url) is JobStatus.PENDING
    assert await helpers.list_workers(nats_url=nats_url) is not None
    assert _shared(nats_url).conn is conn
    assert await helpers.purge_queue(queue_name, nats_url=nats_url) == 7

    await helpers.close_connections()
    assert conn.nc.is_closed
    await helpers.enqueue(client_tasks.noop, queue_name=queue_name, nats_url=nats_url)  # reconnects
    assert _shared(nats_url).conn is not conn
    assert await helpers.purge_queue(queue_name, nats_url=nats_url) == 1


async def test_async_helpers_with_a_worker(nats_url: str, queue_name: str) -> None:
    async with running_worker(nats_url, queue_name) as worker:
        job = await helpers.enqueue(client_tasks.add, 4, 5, queue_name=queue_name, nats_url=nats_url)
        assert await helpers.fetch_job_result(job.job_id, timeout=10, nats_url=nats_url) == 9
        bad = await helpers.enqueue(client_tasks.boom, "no", queue_name=queue_name, nats_url=nats_url)
        with pytest.raises(JobFailedError, match="ValueError"):
            await helpers.fetch_job_result(bad, timeout=10, nats_url=nats_url)
        ids = {w.worker_id for w in await helpers.list_workers(nats_url=nats_url)}
    assert worker.worker_id in ids


async def test_concurrent_first_calls_open_one_connection(nats_url: str, queue_name: str) -> None:
    await asyncio.gather(
        *(helpers.enqueue(client_tasks.noop, i, queue_name=queue_name, nats_url=nats_url) for i in range(20))
    )
    state = shared._states[asyncio.get_running_loop()]
    assert list(state.pools) == [(nats_url,)]
    assert await helpers.purge_queue(queue_name, nats_url=nats_url) == 20


def test_connections_close_when_asyncio_run_ends(nats_url: str, queue_name: str) -> None:
    async def use() -> tuple[asyncio.AbstractEventLoop, object]:
        await helpers.enqueue(client_tasks.noop, queue_name=queue_name, nats_url=nats_url)
        conn = _shared(nats_url).conn
        assert conn is not None
        return asyncio.get_running_loop(), conn.nc

    for _ in range(3):  # every new loop gets (and releases) its own connection
        loop, nc = asyncio.run(use())
        assert nc.is_closed  # type: ignore[attr-defined]
        assert loop not in shared._states
    assert helpers.purge_queue_sync(queue_name, nats_url=nats_url) == 3


# --- sync helpers -----------------------------------------------------------------------------


def test_a_thousand_enqueue_sync_calls_use_one_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = EmbeddedServer(
        port=free_port(), http_port=0, store_dir=tmp_path / "js", log_file=tmp_path / "nats-server.log"
    )
    server.start(timeout=20)
    try:
        monkeypatch.setenv("NAQ_NATS_URL", server.url)
        helpers.close_sync_connections()
        helpers.enqueue_sync(client_tasks.noop, 0, queue_name="thousand")
        conn = get_default_client()._pool.conn
        assert conn is not None
        for i in range(1, 1000):
            helpers.enqueue_sync(client_tasks.noop, i, queue_name="thousand")
        assert get_default_client()._pool.conn is conn
        with urllib.request.urlopen(f"http://127.0.0.1:{server.http_port}/connz", timeout=5) as reply:
            connz = json.load(reply)
        assert connz["num_connections"] == 1
        assert connz["connections"][0]["name"] == "naq-client"
        assert helpers.purge_queue_sync("thousand") == 1000
    finally:
        helpers.close_sync_connections()
        server.stop()


def test_sync_helpers_with_a_worker(nats_url: str, queue_name: str) -> None:
    with worker_thread(nats_url, queue_name, tasks=("client_tasks",)) as worker:
        job = helpers.enqueue_sync(client_tasks.add, 20, 22, queue_name=queue_name, nats_url=nats_url)
        assert helpers.fetch_job_result_sync(job.job_id, timeout=10, nats_url=nats_url) == 42
        assert helpers.job_status_sync(job, nats_url=nats_url) is JobStatus.COMPLETED
        jobs = helpers.enqueue_many_sync(
            [("client_tasks:greet", ("ann",))], queue_name=queue_name, nats_url=nats_url
        )
        assert helpers.fetch_job_result_sync(jobs[0], timeout=10, nats_url=nats_url) == "hello ann!"
        assert worker.worker_id in {w.worker_id for w in helpers.list_workers_sync(nats_url=nats_url)}
        assert shared.client(nats_url) is shared.client([nats_url])  # one cached client per URL


def test_sync_helpers_survive_event_loops_coming_and_going(nats_url: str, queue_name: str) -> None:
    """The original library's bug: the second sync call reused a connection of a dead loop."""
    for i in range(5):
        helpers.enqueue_sync(client_tasks.noop, i, queue_name=queue_name, nats_url=nats_url)
        asyncio.run(asyncio.sleep(0))
    helpers.close_sync_connections()  # and after closing, the next call opens a new client
    assert helpers.purge_queue_sync(queue_name, nats_url=nats_url) == 5
