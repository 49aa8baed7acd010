"""Dashboard tests: a real nats-server, the json serializer, dlq-stream and this plugin only."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # dashboard_support, browser_support, browser_tasks

from browser_support import browser, dashboard_process, page  # noqa: F401 (fixtures)


@pytest.fixture(autouse=True)
def _dashboard_plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Built-ins, the json serializer, naq-dlq-stream and naq-dashboard; no NAQ_* variable leaks in."""
    import naq_dashboard.plugin
    import naq_dlq_stream.plugin
    import naq_json_serializer
    from naq_core.testing import only_plugins

    for name in list(os.environ):
        if name.startswith("NAQ_"):
            monkeypatch.delenv(name)
    with only_plugins(naq_json_serializer, naq_dlq_stream.plugin, naq_dashboard.plugin):
        yield


@pytest.fixture
def queue_name() -> str:
    """A queue of its own for each test (tests share one server)."""
    return f"dash-{uuid.uuid4().hex[:10]}"
