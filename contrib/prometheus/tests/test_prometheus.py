"""naq-prometheus against a real worker: the endpoint is scraped while jobs run."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request

import pytest
from structlog.testing import capture_logs

from naq_core import Queue
from naq_core.testing.worker import eventually, running_worker
from naq_prometheus import endpoint, scrape

pytestmark = pytest.mark.usefixtures("prometheus_plugins")

TASKS = ["prometheus_tasks"]


def _url() -> str:
    where = endpoint.address()
    assert where is not None, "no endpoint open in this process"
    return f"http://{where[0]}:{where[1]}/metrics"


async def _series(queue: str) -> dict[str, float]:
    """``name{function}`` -> value for ``queue``'s series, as the endpoint serves them now."""
    text = await asyncio.to_thread(scrape.read, _url())
    found: dict[str, float] = {}
    for sample in scrape.parse(text):
        labels = dict(sample.labels)
        if labels.get("queue") == queue:
            function = labels.get("function")
            found[f"{sample.name}{{{function}}}" if function else sample.name] = sample.value
    return found


async def test_counts_and_histograms_match_what_ran(nats_url: str, queue_name: str) -> None:
    ok, boom = "prometheus_tasks:ok", "prometheus_tasks:boom"
    async with running_worker(nats_url, queue_name, tasks=TASKS), Queue(queue_name, nats_url) as q:
        for n in range(3):
            await q.enqueue(ok, n)
        for _ in range(2):
            await q.enqueue(boom)  # no retries: fails once, dead-lettered
        await q.enqueue(boom, max_retries=2, retry_delay=0)  # 3 attempts: 2 retried, 1 dead letter

        async def all_finished() -> bool:
            series = await _series(queue_name)
            return series.get(f"naq_job_run_seconds_count{{{boom}}}", 0) >= 5

        await eventually(all_finished, timeout=30, interval=0.05)
        series = await _series(queue_name)

    assert series[f"naq_jobs_enqueued_total{{{ok}}}"] == 3
    assert series[f"naq_jobs_enqueued_total{{{boom}}}"] == 3
    assert series[f"naq_jobs_started_total{{{ok}}}"] == 3
    assert series[f"naq_jobs_started_total{{{boom}}}"] == 5
    assert series[f"naq_jobs_succeeded_total{{{ok}}}"] == 3
    assert series.get(f"naq_jobs_succeeded_total{{{boom}}}", 0) == 0
    assert series.get(f"naq_jobs_failed_total{{{ok}}}", 0) == 0
    assert series[f"naq_jobs_failed_total{{{boom}}}"] == 5
    assert series[f"naq_jobs_retried_total{{{boom}}}"] == 2
    assert series[f"naq_jobs_dead_lettered_total{{{boom}}}"] == 3
    assert series[f"naq_job_run_seconds_count{{{ok}}}"] == 3
    assert series[f"naq_job_run_seconds_count{{{boom}}}"] == 5
    # the wait is observed on first attempts only: one per job
    assert series[f"naq_job_wait_seconds_count{{{ok}}}"] == 3
    assert series[f"naq_job_wait_seconds_count{{{boom}}}"] == 3
    assert series[f"naq_job_wait_seconds_sum{{{ok}}}"] >= 0


async def test_the_queue_depth_gauge_shows_waiting_jobs(nats_url: str, queue_name: str) -> None:
    async with running_worker(nats_url, queue_name, tasks=TASKS), Queue(queue_name, nats_url) as q:
        await q.pause()
        for n in range(4):
            await q.enqueue("prometheus_tasks:ok", n)

        async def depth_is(pending: int) -> bool:
            series = await _series(queue_name)
            return series.get("naq_queue_pending_jobs") == pending and "naq_queue_in_flight_jobs" in series

        await eventually(lambda: depth_is(4), timeout=20, interval=0.05)
        assert (await _series(queue_name))["naq_queue_in_flight_jobs"] == 0
        await q.resume()

        async def drained() -> bool:
            series = await _series(queue_name)
            return series.get("naq_jobs_succeeded_total{prometheus_tasks:ok}") == 4 and await depth_is(0)

        await eventually(drained, timeout=30, interval=0.05)


async def test_workers_of_a_process_share_one_endpoint_closed_by_the_last(
    nats_url: str, queue_name: str
) -> None:
    async with running_worker(nats_url, queue_name, tasks=TASKS):
        # naq_worker_started runs just after the worker reports "running": wait for it
        async def opened() -> bool:
            return endpoint.address() is not None

        await eventually(opened, timeout=10, interval=0.01)
        first = endpoint.address()
        async with running_worker(nats_url, f"{queue_name}-b", tasks=TASKS):

            async def shared() -> bool:
                return len(endpoint._users) == 2

            await eventually(shared, timeout=10, interval=0.01)
            assert endpoint.address() == first
        assert endpoint.address() == first  # the first worker still runs
        url = _url()
    assert endpoint.address() is None
    with pytest.raises(urllib.error.URLError):
        await asyncio.to_thread(urllib.request.urlopen, url, None, 5)


async def test_a_taken_port_is_a_warning_and_the_worker_runs(
    nats_url: str, queue_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setenv("NAQ_PROMETHEUS_PORT", str(port))
        with capture_logs() as logs:
            async with running_worker(nats_url, queue_name, tasks=TASKS), Queue(queue_name, nats_url) as q:
                job = await q.enqueue("prometheus_tasks:ok", 7)
                assert await q.fetch_job_result(job, timeout=20) == 7
                assert endpoint.address() is None
    events = [entry for entry in logs if entry["event"] == "prometheus_endpoint_unavailable"]
    assert [e["port"] for e in events] == [port]
