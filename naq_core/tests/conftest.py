"""Core tests run with entry-point autoload off: they register what they need."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # test task modules (worker_tasks, ...)


@pytest.fixture(autouse=True)
def _core_plugins() -> Iterator[None]:
    """Built-ins plus the json serializer, never whatever else is installed."""
    import naq_json_serializer
    from naq_core.testing import only_plugins

    with only_plugins(naq_json_serializer):
        yield


@pytest.fixture
def queue_name() -> str:
    """A queue of its own for each test (tests share one server)."""
    return f"t-{uuid.uuid4().hex[:10]}"
