"""A real browser for the dashboard tests: Debian's headless Chromium driven by Playwright.

Playwright for Python is pointed at ``/usr/bin/chromium`` (``NAQ_CHROMIUM`` overrides); it
never downloads a browser. Without the binary the browser tests are skipped, unless
``NAQ_REQUIRE_BROWSER=1`` (set by ``.ci/run``), which makes them fail instead.

``dashboard_process`` runs ``naq dashboard`` as users do, in a child process on a free
loopback port, stopped by its pid when the test ends.
"""

from __future__ import annotations

import os
import shutil
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from naq_core.server import free_port
from naq_core.testing.process import ChildProcess, ChildProcesses, naq_argv, naq_env

__all__ = [
    "CHROMIUM_ARGS",
    "DashboardProcess",
    "browser",
    "chromium_path",
    "dashboard_process",
    "page",
    "watched",
]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
_START_TIMEOUT = 30.0
# Read at import: the tests' autouse fixture clears every NAQ_* variable before each test.
_REQUIRED = os.environ.get("NAQ_REQUIRE_BROWSER") == "1"
_CHROMIUM = os.environ.get("NAQ_CHROMIUM")
#: The plugins the dashboard child loads (entry-point name -> module).
PLUGINS = {
    "json": "naq_json_serializer",
    "dlq-stream": "naq_dlq_stream.plugin",
    "dashboard": "naq_dashboard.plugin",
}


def chromium_path() -> str | None:
    """The Chromium binary to drive, if there is one."""
    if _CHROMIUM:
        return _CHROMIUM
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium per test module.

    Not per session: Playwright's sync API keeps an event loop running on the test thread
    while it is open, and later tests that call ``asyncio.run`` would fail.
    """
    binary = chromium_path()
    if binary is None:
        if _REQUIRED:
            pytest.fail("NAQ_REQUIRE_BROWSER=1 but no chromium binary (apt-get install chromium)")
        pytest.skip("no chromium binary (apt-get install chromium to run the browser tests)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=binary, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page (own context: no cookies or cache shared between tests); console errors kept."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    tab = watched(context.new_page())
    try:
        yield tab
    finally:
        context.close()


def watched(tab: Any) -> Any:
    """``tab`` with a 20 s default wait and its console errors kept in ``tab.console_errors``."""
    tab.set_default_timeout(20_000)
    tab.console_errors = []
    tab.on("console", lambda msg: msg.type == "error" and tab.console_errors.append(msg.text))
    return tab


class DashboardProcess:
    """``naq dashboard`` in a child process; :meth:`restart` stops it and starts it on the same port."""

    def __init__(self, children: ChildProcesses, nats_url: str, directory: Path) -> None:
        self._children = children
        self._nats_url = nats_url
        self._directory = directory
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.child: ChildProcess | None = None

    def start(self) -> None:
        env = naq_env(self._directory, PLUGINS)
        env["NAQ_NATS_URL"] = self._nats_url
        self.child = self._children.start(
            naq_argv("dashboard", "--port", str(self.port)), env=env, cwd=self._directory
        )
        self.child.wait_for(r"naq dashboard on http://", timeout=_START_TIMEOUT)
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"the dashboard did not answer on {self.url}\n{self.child.output}")

    def stop(self) -> None:
        if self.child is not None:
            self.child.stop()
            self.child = None

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def dashboard_process(
    nats_url: str, child_processes: ChildProcesses, tmp_path: Path
) -> Iterator[DashboardProcess]:
    """``naq dashboard`` against the test server, on a free port (stopped by pid after)."""
    process = DashboardProcess(child_processes, nats_url, tmp_path)
    process.start()
    try:
        yield process
    finally:
        process.stop()
