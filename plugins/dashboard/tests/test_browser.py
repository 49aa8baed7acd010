"""The dashboard in a real headless Chromium (Debian's), served by ``naq dashboard``.

Each test waits on what the page shows (Playwright's bounded waits), never on time.
``NAQ_SCREENSHOTS=<dir>`` keeps a screenshot of every panel there (docs/images/dashboard is
made that way); otherwise they go to the test's temporary directory.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from browser_support import DashboardProcess
from dashboard_support import run

from naq_core import Queue

pytestmark = pytest.mark.timeout(180)


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
    page.wait_for_function("document.body.getAttribute('data-events') !== null")
    dashboard_process.stop()
    status.wait_for(state="visible")
    assert "reconnecting" in status.inner_text()
    dashboard_process.start()
    status.wait_for(state="hidden")


def screenshot_dir(tmp_path: Path) -> Path:
    """Where the panel screenshots go (``NAQ_SCREENSHOTS``, else the test's directory)."""
    target = Path(os.environ.get("NAQ_SCREENSHOTS") or tmp_path / "screenshots")
    target.mkdir(parents=True, exist_ok=True)
    return target
