"""The "Metrics" dashboard page, when naq-dashboard is installed (skipped otherwise)."""

from __future__ import annotations

import pytest

pytest.importorskip("naq_dashboard")

from starlette.testclient import TestClient

from naq_core import Queue
from naq_core.config import load_config
from naq_core.testing import only_plugins
from naq_core.testing.worker import running_worker, wait_until

BASE_URL = "http://127.0.0.1"


@pytest.mark.usefixtures("prometheus_plugins")
async def test_the_panel_shows_the_counters_and_the_queue_depth(nats_url: str, queue_name: str) -> None:
    import naq_dashboard.plugin
    import naq_json_serializer
    import naq_prometheus
    from naq_dashboard import create_app

    with only_plugins(naq_json_serializer, naq_prometheus, naq_dashboard.plugin):
        async with (
            running_worker(nats_url, queue_name, tasks=["prometheus_tasks"]),
            Queue(queue_name, nats_url) as q,
        ):
            job = await q.enqueue("prometheus_tasks:ok", 1)
            assert await q.fetch_job_result(job, timeout=20) == 1
            await wait_until(lambda: _finished(queue_name), timeout=10)
            await q.pause()
            await q.enqueue("prometheus_tasks:ok", 2)
            config = load_config(env={}, search=False, overrides={"nats_url": nats_url})
            with TestClient(create_app(config), base_url=BASE_URL) as client:
                overview = client.get("/overview/").text
                assert 'href="http://127.0.0.1/metrics/">Metrics</a>' in overview
                page = client.get("/metrics/")
                data = client.get("/api/metrics/").json()

    assert page.status_code == 200
    assert "naq_jobs_succeeded_total" in page.text and queue_name in page.text
    assert data["error"] is None
    [depth] = [row for row in data["queues"] if row["queue"] == queue_name]
    assert depth == {"queue": queue_name, "pending": 1, "in_flight": 0}
    succeeded = [
        s
        for s in data["samples"]
        if s["name"] == "naq_jobs_succeeded_total" and s["labels"].get("queue") == queue_name
    ]
    assert [s["value"] for s in succeeded] == [1.0]


def _finished(queue: str) -> bool:
    from prometheus_client import REGISTRY

    labels = {"queue": queue, "function": "prometheus_tasks:ok"}
    return REGISTRY.get_sample_value("naq_jobs_succeeded_total", labels) == 1


def test_the_panel_says_when_no_endpoint_answers(nats_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    import naq_dashboard.plugin
    import naq_json_serializer
    import naq_prometheus
    from naq_dashboard import create_app

    with socket.socket() as probe:  # a port nobody listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with only_plugins(naq_json_serializer, naq_prometheus, naq_dashboard.plugin):
        config = load_config(
            env={"NAQ_PROMETHEUS_PORT": str(port)}, search=False, overrides={"nats_url": nats_url}
        )
        with TestClient(create_app(config), base_url=BASE_URL) as client:
            page = client.get("/metrics/")
            data = client.get("/api/metrics/").json()
    assert page.status_code == 200 and 'id="metrics-error"' in page.text
    assert data["endpoint"] == f"http://127.0.0.1:{port}/metrics"
    assert data["error"] and data["samples"] == []
