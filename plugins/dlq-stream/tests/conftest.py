"""dlq-stream tests: the json serializer and this plugin, never whatever else is installed."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # dlq_tasks, dlq_support


@pytest.fixture(autouse=True)
def _dlq_plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Built-ins, the json serializer and naq-dlq-stream; no NAQ_* variable leaks in."""
    import naq_dlq_stream.plugin
    import naq_json_serializer
    from naq_core.testing import only_plugins

    for name in list(os.environ):
        if name.startswith("NAQ_"):
            monkeypatch.delenv(name)
    with only_plugins(naq_json_serializer, naq_dlq_stream.plugin):
        yield


@pytest.fixture
def queue_name() -> str:
    """A queue of its own for each test (tests share one server and one naq_dlq stream)."""
    return f"dlq-{uuid.uuid4().hex[:10]}"
