"""`naq dev` with naq-dashboard installed: it starts the dashboard, prints its URL, and the
dashboard shows the sample jobs' queue and the dead-letter panel; everything stops with it."""

from __future__ import annotations

import os
import signal
import time
import urllib.request
from pathlib import Path

from naq_core.server import free_port
from naq_core.testing.process import ChildProcesses, naq_argv, pid_exists

_TIMEOUT = 60.0


def _get(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return str(answer.read().decode())
    except OSError:
        return None


def test_naq_dev_starts_the_dashboard(child_processes: ChildProcesses, tmp_path: Path) -> None:
    nats_port, web_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NAQ_")}
    dev = child_processes.start(
        naq_argv("dev", "--port", str(nats_port), "--dashboard-port", str(web_port)), env=env, cwd=tmp_path
    )
    found = dev.wait_for(r"Dashboard: (http://127\.0\.0\.1:\d+) \(pid (\d+)\)", timeout=_TIMEOUT)
    url, dashboard_pid = found.group(1), int(found.group(2))
    assert url == f"http://127.0.0.1:{web_port}"
    page = None
    deadline = time.monotonic() + _TIMEOUT
    while time.monotonic() < deadline:  # bounded: the dashboard starts, the samples land
        page = _get(f"{url}/queues/")
        if page is not None and "default" in page:
            break
        time.sleep(0.2)
    assert page is not None and "default" in page, dev.output
    nav = _get(f"{url}/overview/") or ""
    for title in ("Overview", "Queues", "Jobs", "Schedules", "Workers", "Dead letters"):
        assert f">{title}</a>" in nav, title
    assert dev.signal(signal.SIGINT, timeout=_TIMEOUT) == 0, dev.output
    deadline = time.monotonic() + _TIMEOUT
    while pid_exists(dashboard_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pid_exists(dashboard_pid), "naq dev left its dashboard running"
