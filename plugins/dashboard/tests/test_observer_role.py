"""The dashboard under the read-only observer role of docs/security.md.

The server runs the documented least-privilege configuration (read from the page itself);
the admin creates everything once, as documented. A dashboard connected as the observer
shows every page and API answer, and an action is refused by NATS with a plain page (the
observer cannot change anything, whatever the dashboard's own settings say).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dashboard_support import config_for, dashboard_client, post, run

from naq_core import Queue
from naq_core.server import EmbeddedServer
from naq_core.testing.fixtures import start_test_server
from naq_core.testing.permissions import PASSWORDS, documented_config
from naq_core.testing.worker import running_worker
from naq_dashboard import host_of
from naq_dashboard.live import state_versions

DOC = Path(__file__).resolve().parents[3] / "docs" / "security.md"
ADMIN: dict[str, Any] = {"user": "naq-admin", "password": "admin-pw"}
OBSERVER: dict[str, Any] = {"user": "observer", "password": "observer-pw"}
QUEUE, OTHER = "emails", "billing"


async def _provision(url: str) -> tuple[str, str]:
    """As documented: a worker of the queue and a schedule listing as the admin; one job
    completed and one dead-lettered so every page has something to read."""
    async with running_worker(url, [QUEUE, OTHER], tasks=("browser_tasks",), **ADMIN):
        pass  # creates both queues' consumers, as documented
    async with running_worker(url, QUEUE, tasks=("browser_tasks",), **ADMIN):
        async with Queue(QUEUE, url, **ADMIN) as admin:
            assert await admin.list_schedules(all_queues=True) == []
            done = await admin.enqueue("browser_tasks:add", 1, 2)
            assert await admin.fetch_job_result(done, timeout=20) == 3
            dead = await admin.enqueue("browser_tasks:fails_once", str(DOC.parent / "no-such-dir" / "x"))
            try:
                await admin.fetch_job_result(dead, timeout=20)
            except Exception:
                pass
        # the admin's schedule and waiting jobs on a queue without a worker (the documented
        # setup has two queues; "billing" gets no worker here)
        async with Queue(QUEUE, url, **ADMIN) as admin:
            await admin.schedule("browser_tasks:add", 1, 1, cron="0 3 * * *", name="nightly")
        async with Queue(OTHER, url, **ADMIN) as billing:
            await billing.enqueue_many([("browser_tasks:add", (i, i)) for i in range(3)])
    return done.job_id, dead.job_id


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    with pytest.MonkeyPatch.context() as mp:
        for name, value in PASSWORDS.items():
            mp.setenv(name, value)
        started = start_test_server(tmp_path_factory.mktemp("observer"), extra_config=documented_config(DOC))
    try:
        yield started
    finally:
        started.stop()


def test_the_observer_sees_every_page_and_changes_nothing(server: EmbeddedServer) -> None:
    done, _ = run(_provision(server.url))
    config = config_for(server.url, **OBSERVER)
    with dashboard_client(config, raise_server_exceptions=False) as client:
        pages = ["/overview/", "/queues/", "/jobs/", f"/jobs/?queue={QUEUE}", f"/jobs/{QUEUE}.{done}"]
        pages += [f"/jobs/?queue={OTHER}"]
        pages += ["/schedules/", "/workers/", "/dead-letters/", "/readyz"]
        pages += ["/api/overview/", "/api/queues/", f"/api/jobs/?queue={QUEUE}", f"/api/jobs/{QUEUE}.{done}"]
        pages += ["/api/schedules/", "/api/workers/", "/api/dead-letters/"]
        for path in pages:
            response = client.get(path)
            detail = re.findall(r"error-detail\">(.*?)<", response.text) or [response.text[:300]]
            assert response.status_code == 200, (path, response.status_code, detail)
        assert "3" in client.get(f"/jobs/{QUEUE}.{done}").text
        assert "nightly" in client.get("/schedules/").text
        assert client.get("/dead-letters/").text.count("data-letter-id=") == 1
        host = host_of(client.app)  # type: ignore[arg-type]
        versions = client.portal.call(state_versions, host)  # type: ignore[union-attr]
        assert "naq_jobs" in versions and "consumers" in versions
        refused = post(client, f"/queues/{QUEUE}/pause")
        assert refused.status_code in (400, 403), refused.text[:300]
        assert "permissions refused" in refused.text
        assert "Traceback" not in refused.text
