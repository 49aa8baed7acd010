"""The overview page and /api/overview against a real nats-server and real workers."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from dashboard_support import config_for, dashboard_client, run
from starlette.testclient import TestClient

from naq_core import Queue
from naq_core.testing.worker import worker_thread

T = TypeVar("T")


def until(check: Callable[[], T | None], timeout: float = 20.0) -> T:
    """``check()``'s first true value, polled (bounded by ``timeout``)."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"never reached; last seen: {value!r}")


async def enqueue(url: str, queue: str, function: str, *args_list: tuple[Any, ...]) -> list[str]:
    async with Queue(queue, url) as q:
        return [(await q.enqueue(function, *args)).job_id for args in args_list]


def row(html: str, queue: str) -> str:
    """The table row of ``queue`` in the overview's (or the queues page's) table."""
    found = re.search(rf'<tr data-queue="{re.escape(queue)}">(.*?)</tr>', html, re.S)
    assert found is not None, f"no row for {queue}"
    return found.group(1)


def numbers(row_html: str) -> list[str]:
    return re.findall(r'<td class="num">([^<]*)</td>', row_html)


def api_queue(client: TestClient, queue: str) -> dict[str, Any] | None:
    answer = client.get("/api/overview").json()
    return next((q for q in answer["queues"] if q["queue"] == queue), None)


def test_pending_jobs_and_the_no_worker_badge_until_a_worker_serves_the_queue(
    nats_url: str, queue_name: str, tmp_path: Path
) -> None:
    flag = tmp_path / "release"
    run(enqueue(nats_url, queue_name, "queue_tasks:hold", *[(str(flag),)] * 3))
    with dashboard_client(config_for(nats_url)) as client:
        page = client.get("/overview/")
        assert page.status_code == 200
        mine = row(page.text, queue_name)
        assert numbers(mine)[:3] == ["3", "0", "0"]  # pending, in flight, redelivered
        assert "jobs waiting but no worker" in mine
        assert 'id="overview-queues" data-live data-topics="naq_jobs consumers KV_naq_workers"' in page.text
        state = api_queue(client, queue_name)
        assert state is not None and state["pending"] == 3 and state["waiting_without_worker"] is True
        assert state["oldest_age_seconds"] is not None and state["oldest_age_seconds"] >= 0

        with worker_thread(
            nats_url, queue_name, tasks=["queue_tasks"], concurrency=1, heartbeat_interval=0.5
        ):
            served = until(lambda: (s := api_queue(client, queue_name)) and s["workers"] == 1 and s)
            assert served["jobs"] > 0  # the jobs hold: a backlog, now with a worker
            assert served["waiting_without_worker"] is False
            mine = row(client.get("/overview/").text, queue_name)
            assert "jobs waiting but no worker" not in mine
            flag.touch()
            until(lambda: (s := api_queue(client, queue_name)) and s["jobs"] == 0)


def test_the_chart_shows_completed_and_failed_per_minute_after_a_worker_ran(
    nats_url: str, queue_name: str
) -> None:
    run(enqueue(nats_url, queue_name, "queue_tasks:add", (1, 2), (3, 4)))
    run(enqueue(nats_url, queue_name, "queue_tasks:explode", ()))
    with (
        worker_thread(nats_url, queue_name, tasks=["queue_tasks"], heartbeat_interval=0.5),
        dashboard_client(config_for(nats_url)) as client,
    ):

        def counted() -> dict[str, Any] | None:
            answer = client.get("/api/overview").json()
            done = sum(m["completed"] for m in answer["history"]), sum(m["failed"] for m in answer["history"])
            return answer if done == (2, 1) else None

        answer = until(counted)
        assert len(answer["history"]) == 60
        assert answer["workers_online"] >= 1
        html = client.get("/overview/").text
        assert '<span class="chart-completed">2</span>' in html
        assert '<span class="chart-failed">1</span>' in html
        assert re.search(
            r'<rect class="done" [^>]*><title>this minute: 2 completed, 1 failed</title>', html
        ) or (
            "1 min ago: " in html  # the jobs ran across a minute boundary
        )
        assert 'class="failed"' in html
        assert "style=" not in html and "<script>" not in html


def test_dead_letters_are_counted_from_the_dead_letter_stream(nats_url: str, queue_name: str) -> None:
    with dashboard_client(config_for(nats_url)) as client:
        before = client.get("/api/overview").json()["dead_letters"]
    run(enqueue(nats_url, queue_name, "queue_tasks:explode", ()))
    with (
        worker_thread(nats_url, queue_name, tasks=["queue_tasks"], heartbeat_interval=0.5),
        dashboard_client(config_for(nats_url)) as client,
    ):
        after = until(
            lambda: (n := client.get("/api/overview").json()["dead_letters"]) and n > (before or 0) and n
        )
        assert after == (before or 0) + 1
        assert "dead letters" in client.get("/overview/").text
