"""Fixtures of the naq-prometheus tests (the NATS ones come from the repository's root conftest)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from naq_core.testing import only_plugins


@pytest.fixture
def queue_name() -> str:
    """A queue of its own for each test: its series are the test's alone."""
    return f"prom-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def prometheus_plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The JSON serializer and naq-prometheus only, on any free port, depth read often."""
    import naq_json_serializer
    import naq_prometheus

    for name in list(os.environ):
        if name.startswith("NAQ_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("NAQ_PROMETHEUS_PORT", "0")
    monkeypatch.setenv("NAQ_PROMETHEUS_REFRESH_INTERVAL", "0.1")
    with only_plugins(naq_json_serializer, naq_prometheus):
        yield
