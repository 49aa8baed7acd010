"""NaqClient: one connection, a private loop thread, many calling threads; a real server."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import pytest

from naq_core import JobFailedError, JobNotFoundError, JobStatus, NaqConnectionError
from naq_core.client import NaqClient, close_default_client, get_default_client
from naq_core.errors import NaqTimeoutError
from naq_core.server import free_port
from naq_core.testing.worker import worker_thread as _worker_thread

sys.path.insert(0, str(Path(__file__).parent))
import client_tasks

#: A real Worker running ``client_tasks`` in its own thread and loop; stopped, bounded.
worker_thread = partial(_worker_thread, tasks=("client_tasks",))


@pytest.fixture
def client(nats_url: str) -> Iterator[NaqClient]:
    with NaqClient(nats_url) as client:
        yield client


def test_enqueue_and_fetch_result_from_a_worker(client: NaqClient, nats_url: str, queue_name: str) -> None:
    with worker_thread(nats_url, queue_name):
        job = client.enqueue(client_tasks.add, 2, 3, queue_name=queue_name)
        assert job.function == "client_tasks:add"
        assert client.fetch_job_result(job.job_id, timeout=10) == 5
        assert client.job_status(job) is JobStatus.COMPLETED
        assert client.job_record(job.job_id).result == 5

        greeting = client.enqueue("client_tasks:greet", "bob", punctuation="?", queue_name=queue_name)
        assert client.fetch_job_result(greeting, timeout=10) == "hello bob?"

        jobs = client.enqueue_many([(client_tasks.add, (i, i)) for i in range(20)], queue_name=queue_name)
        assert [client.fetch_job_result(j, timeout=10) for j in jobs] == [2 * i for i in range(20)]


def test_failed_job_raises_with_the_remote_traceback(
    client: NaqClient, nats_url: str, queue_name: str
) -> None:
    with worker_thread(nats_url, queue_name):
        job = client.enqueue(client_tasks.boom, "kaput", queue_name=queue_name)
        with pytest.raises(JobFailedError) as info:
            client.fetch_job_result(job.job_id, timeout=10)
    assert "ValueError" in info.value.error_type
    assert info.value.error == "kaput"
    assert info.value.traceback is not None and "boom" in info.value.traceback
    assert client.job_status(job.job_id) is JobStatus.FAILED


def test_list_workers_sees_a_running_worker(client: NaqClient, nats_url: str, queue_name: str) -> None:
    with worker_thread(nats_url, queue_name) as worker:
        workers = client.list_workers()
    assert worker.worker_id in {w.worker_id for w in workers}
    mine = next(w for w in workers if w.worker_id == worker.worker_id)
    assert mine.queues == (queue_name,)


def test_eight_threads_share_one_connection(client: NaqClient, queue_name: str) -> None:
    client.connect()
    assert client._pool.conn is not None
    nc = client._pool.conn.nc

    def produce(n: int) -> list[str]:
        return [client.enqueue(client_tasks.noop, n, i, queue_name=queue_name).job_id for i in range(50)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        batches = list(pool.map(produce, range(8), timeout=60))
    ids = [job_id for batch in batches for job_id in batch]
    assert len(set(ids)) == 400
    assert client.count(queue_name) == 400
    assert client._pool.conn.nc is nc
    assert client.purge(queue_name) == 400
    assert client.count(queue_name) == 0


def test_unknown_job_and_result_timeout(client: NaqClient, queue_name: str) -> None:
    with pytest.raises(JobNotFoundError):
        client.job_status("no-such-job")
    job = client.enqueue(client_tasks.noop, queue_name=queue_name)  # nobody runs it
    assert client.job_status(job) is JobStatus.PENDING
    with pytest.raises(NaqTimeoutError):
        client.fetch_job_result(job, timeout=0.2)
    # the client stays usable after an error raised on its loop
    assert client.purge(queue_name) == 1


def test_context_manager_closes_connection_and_thread(nats_url: str, queue_name: str) -> None:
    with NaqClient(nats_url) as client:
        assert client.count(queue_name) == 0
        assert client._pool.conn is not None and client._thread is not None
        nc, thread = client._pool.conn.nc, client._thread
    assert client.closed
    assert nc.is_closed
    assert not thread.is_alive()
    with pytest.raises(NaqConnectionError, match="closed"):
        client.count(queue_name)
    client.close()  # idempotent


def test_close_ends_a_call_that_is_waiting(nats_url: str, queue_name: str) -> None:
    client = NaqClient(nats_url)
    job = client.enqueue(client_tasks.noop, queue_name=queue_name)  # nobody runs it
    outcome: list[BaseException] = []

    def wait_for_ever() -> None:
        try:
            client.fetch_job_result(job)
        except BaseException as exc:
            outcome.append(exc)

    conn = client._pool.conn
    assert conn is not None
    subscribed = len(conn.nc._subs)  # the wait subscribes to the job's record before it reads it
    waiter = threading.Thread(target=wait_for_ever, daemon=True)
    waiter.start()
    deadline = time.monotonic() + 10
    while len(conn.nc._subs) == subscribed and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(conn.nc._subs) == subscribed + 1, "the waiting call never reached its watch"
    client.close()
    waiter.join(10)
    assert not waiter.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], NaqConnectionError)
    assert "was closed while this call was waiting" in str(outcome[0])
    with NaqClient(nats_url) as other:
        other.purge(queue_name)


def test_nothing_listening_raises_a_helpful_connection_error() -> None:
    url = f"nats://127.0.0.1:{free_port()}"
    with NaqClient(url, connect_timeout=2) as client:
        with pytest.raises(NaqConnectionError) as info:
            client.enqueue(client_tasks.noop)
        message = str(info.value)
        assert url in message
        assert "naq server" in message
        with pytest.raises(NaqConnectionError):  # tries again, fails the same way
            client.count()


def test_config_and_settings(nats_url: str) -> None:
    client = NaqClient(nats_url, default_queue="elsewhere")
    assert client.config.nats_url == (nats_url,)
    assert client.config.default_queue == "elsewhere"
    other = NaqClient(config=client.config, connect_timeout=1.5)
    assert other.config.default_queue == "elsewhere" and other.config.connect_timeout == 1.5
    client.close()  # never connected: nothing to do
    other.close()


def test_default_client_is_shared_and_recreated_after_close(
    nats_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NAQ_NATS_URL", nats_url)
    close_default_client()
    try:
        first = get_default_client()
        assert get_default_client() is first
        assert first.config.nats_url == (nats_url,)
        first.close()
        second = get_default_client()
        assert second is not first and not second.closed
    finally:
        close_default_client()
