"""The dashboard at 100,000 waiting jobs: the NATS requests of a page do not grow with the jobs.

Each page (every panel's page and the JSON API) is rendered at 1,000 and then at 100,000
waiting jobs on a private server; the dashboard connection's published messages (each a
NATS request) are counted per render and must be the same. Page times are printed (and
written to ``$NAQ_SCALE_REPORT`` as JSON when set): docs/dashboard.md reports them; they
are never asserted.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from typing import Any

import pytest
from dashboard_support import config_for, dashboard_client, run
from starlette.testclient import TestClient

from naq_core import Queue
from naq_core.job_control import pause
from naq_core.testing import NatsServer
from naq_dashboard import host_of

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

#: Read at import: the tests' autouse fixture clears every NAQ_* variable before each test.
_REPORT = os.environ.get("NAQ_SCALE_REPORT")
_BATCH = 5_000
_SMALL, _LARGE = 1_000, 100_000


async def _enqueue(url: str, queue: str, count: int) -> None:
    async with Queue(queue, url) as q:
        for start in range(0, count, _BATCH):
            n = min(_BATCH, count - start)
            await q.enqueue_many([("browser_tasks:add", (i, 1)) for i in range(start, start + n)])


async def _consumer(url: str, queue: str) -> None:
    """The queue's consumer exists, as after any worker ran (paused: nothing is delivered)."""
    async with Queue(queue, url) as q:
        await pause(await q.connection(), queue)


def _pages(client: TestClient, queue: str) -> list[str]:
    host = host_of(client.app)  # type: ignore[arg-type]
    pages = [str(client.app.url_path_for(f"{entry.name}:page")) for entry in host.nav]  # type: ignore[attr-defined]
    pages += [f"/jobs/?queue={queue}", "/api/queues", f"/api/jobs?queue={queue}"]
    return [p for p in pages if client.get(p).status_code != 404]


def _measure(client: TestClient, paths: list[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in paths:
        client.get(path)  # warm: connection made, buckets looked up once
        before = run_conn_stats(client)
        started = time.perf_counter()
        response = client.get(path)
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
        after = run_conn_stats(client)
        found[path] = {"requests": after - before, "seconds": round(elapsed, 4)}
    return found


def run_conn_stats(client: TestClient) -> int:
    """Messages the dashboard's NATS connection has published so far."""
    host = host_of(client.app)  # type: ignore[arg-type]
    conn = client.portal.call(host.connection)  # type: ignore[union-attr]
    return int(conn.nc.stats["out_msgs"])


def test_requests_per_page_do_not_grow_with_the_jobs(fresh_nats_server: NatsServer) -> None:
    url = fresh_nats_server.url
    queue = f"scale-{uuid.uuid4().hex[:8]}"
    run(_enqueue(url, queue, _SMALL))
    run(_consumer(url, queue))
    with dashboard_client(config_for(url)) as client:
        paths = _pages(client, queue)
        small = _measure(client, paths)
        run(_enqueue(url, queue, _LARGE - _SMALL))
        large = _measure(client, paths)
    report = {"jobs": {str(_SMALL): small, str(_LARGE): large}}
    print(json.dumps(report, indent=2))
    if _REPORT:
        with open(_REPORT, "w") as out:
            json.dump(report, out, indent=2)
    assert len(paths) >= 3
    for path in paths:
        assert large[path]["requests"] == small[path]["requests"], (path, small[path], large[path])
