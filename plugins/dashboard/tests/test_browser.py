"""The dashboard in a real headless Chromium (Debian's), served by ``naq dashboard``.

Each test waits on what the page shows (Playwright's bounded waits), never on time.
``NAQ_SCREENSHOTS=<dir>`` keeps a screenshot of every panel there (docs/images/dashboard is
made that way); otherwise they go to the test's temporary directory.
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from browser_support import DashboardProcess, watched
from dashboard_support import run

from naq_core import Queue
from naq_core.testing.worker import worker_thread

pytestmark = pytest.mark.timeout(180)

#: Read at import: the tests' autouse fixture clears every NAQ_* variable before each test.
_SCREENSHOTS = os.environ.get("NAQ_SCREENSHOTS")


def _enqueue(nats_url: str, queue: str, function: str, *args: Any, **options: Any) -> str:
    async def go() -> str:
        async with Queue(queue, nats_url) as q:
            job = await q.enqueue(function, *args, **options)
            return job.job_id

    return run(go())


def test_overview_updates_without_reload(
    nats_url: str, dashboard_process: DashboardProcess, page: Any
) -> None:
    queue = f"live-{uuid.uuid4().hex[:8]}"
    page.goto(f"{dashboard_process.url}/")
    page.wait_for_selector("h1:has-text('Overview')")
    page.evaluate("window.__naqLoaded = true")  # gone if the page reloads
    _enqueue(nats_url, queue, "browser_tasks:add", 1, 2)
    page.wait_for_selector(f"text={queue}")
    assert page.evaluate("window.__naqLoaded === true"), "the page reloaded instead of updating in place"
    assert page.console_errors == []


def test_reconnecting_shows_while_the_dashboard_restarts(
    dashboard_process: DashboardProcess, page: Any
) -> None:
    page.goto(f"{dashboard_process.url}/overview/")
    status = page.locator("#live-status")
    page.wait_for_selector("body[data-events]")
    dashboard_process.stop()
    status.wait_for(state="visible")
    assert "reconnecting" in status.inner_text()
    dashboard_process.start()
    status.wait_for(state="hidden")


def screenshot_dir(tmp_path: Path) -> Path:
    """Where the panel screenshots go (``NAQ_SCREENSHOTS``, else the test's directory)."""
    target = Path(_SCREENSHOTS or tmp_path / "screenshots").absolute()
    target.mkdir(parents=True, exist_ok=True)
    return target


def test_a_dead_letter_appears_live_is_requeued_and_completes(
    nats_url: str, dashboard_process: DashboardProcess, page: Any, tmp_path: Path
) -> None:
    queue = f"dead-{uuid.uuid4().hex[:8]}"
    marker = tmp_path / "failed-once"
    with worker_thread(nats_url, queue, tasks=("browser_tasks",)):
        page.goto(f"{dashboard_process.url}/dead-letters/?queue={queue}")
        page.wait_for_selector("#dlq-letters")
        page.evaluate("window.__naqLoaded = true")
        job_id = _enqueue(nats_url, queue, "browser_tasks:fails_once", str(marker), max_retries=0)
        row = page.wait_for_selector("tr[data-letter-id]")  # arrives without a reload
        assert page.evaluate("window.__naqLoaded === true"), "the page reloaded instead of updating"
        assert "fails_once" in row.inner_text()
        letter_id = row.get_attribute("data-letter-id")

        job_page = watched(page.context.new_page())
        job_page.goto(f"{dashboard_process.url}/jobs/{job_id}")
        job_page.wait_for_selector("#job-state .status-failed")
        job_page.evaluate("window.__naqLoaded = true")

        page.click(f"[data-test='requeue-{letter_id}']")
        page.wait_for_selector(".flash")
        job_page.wait_for_selector("#job-state .status-completed")  # live, in the other tab
        assert job_page.evaluate("window.__naqLoaded === true")
        assert "second attempt worked" in job_page.inner_text("main")
    assert page.console_errors == [] and job_page.console_errors == []


def test_screenshots_of_every_panel(
    nats_url: str, dashboard_process: DashboardProcess, page: Any, tmp_path: Path
) -> None:
    queue = "emails"
    target = screenshot_dir(tmp_path)
    with worker_thread(nats_url, queue, tasks=("browser_tasks",)):
        done = [_enqueue(nats_url, queue, "browser_tasks:add", i, i) for i in range(12)]
        _enqueue(nats_url, queue, "browser_tasks:fails_once", str(tmp_path / "m"), max_retries=0)
        _enqueue(nats_url, "reports", "browser_tasks:add", 1, 1)  # a queue with no worker
        run(_schedule(nats_url, queue))
        page.goto(f"{dashboard_process.url}/overview/")
        # the chart fills in when the worker's next heartbeat carries its counts (live update)
        chart = page.locator("#overview-chart").filter(has_text=re.compile(r"[1-9][0-9]* completed"))
        chart.wait_for()
        page.goto(f"{dashboard_process.url}/jobs/{done[0]}")
        page.wait_for_selector("#job-state .status-completed")
        page.screenshot(path=str(target / "job.png"), full_page=True)
        hrefs = page.eval_on_selector_all("header nav a", "links => links.map(a => a.getAttribute('href'))")
        assert len(hrefs) >= 6, hrefs
        for href in hrefs:
            page.goto(href)
            name = href.rstrip("/").rsplit("/", 1)[-1]
            page.wait_for_selector("h1")
            page.screenshot(path=str(target / f"{name}.png"), full_page=True)
            assert (target / f"{name}.png").stat().st_size > 5_000
    assert page.console_errors == []


async def _schedule(nats_url: str, queue: str) -> None:
    async with Queue(queue, nats_url) as q:
        await q.schedule(
            "browser_tasks:add",
            1,
            2,
            cron="*/5 * * * *",
            tz="Europe/Paris",
            name=f"report-{uuid.uuid4().hex[:6]}",
        )


def _set_hidden(page: Any, hidden: bool) -> None:
    """Make the tab report itself hidden or visible, as a browser does when it is switched."""
    page.evaluate(
        """hidden => {
            Object.defineProperty(document, 'hidden', {configurable: true, get: () => hidden});
            Object.defineProperty(document, 'visibilityState', {configurable: true,
                get: () => hidden ? 'hidden' : 'visible'});
            document.dispatchEvent(new Event('visibilitychange'));
        }""",
        hidden,
    )


def test_a_hidden_tab_stops_listening_and_catches_up_when_shown(
    nats_url: str, dashboard_process: DashboardProcess, page: Any
) -> None:
    queue = f"hidden-{uuid.uuid4().hex[:8]}"
    streams: list[str] = []
    refreshes: list[str] = []
    page.on("request", lambda r: streams.append(r.url) if r.url.endswith("/events") else None)
    page.on("request", lambda r: refreshes.append(r.url) if r.headers.get("x-naq-live") else None)
    page.goto(f"{dashboard_process.url}/overview/")
    page.wait_for_selector("#overview-queues")
    assert len(streams) == 1
    _set_hidden(page, True)
    refreshes.clear()
    # A second, visible tab shows when the change has been announced to every listener.
    witness = watched(page.context.new_page())
    witness.goto(f"{dashboard_process.url}/overview/")
    witness.wait_for_selector("#overview-queues")
    _enqueue(nats_url, queue, "browser_tasks:add", 1, 1)
    witness.wait_for_selector(f"#overview-queues >> text={queue}")
    witness.close()
    assert refreshes == [], "a hidden tab re-read the page"
    assert queue not in page.inner_text("#overview-queues")
    _set_hidden(page, False)
    page.wait_for_selector(f"#overview-queues >> text={queue}")  # caught up at once when shown
    assert len(streams) == 2  # a new event stream, opened when the tab came back
    assert page.console_errors == []
