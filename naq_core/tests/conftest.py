"""Core tests run with entry-point autoload off: they register what they need."""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tcp_proxy import TcpProxy

    from naq_core.server import EmbeddedServer

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


@pytest.fixture
async def proxy(nats_server: EmbeddedServer) -> AsyncIterator[TcpProxy]:
    """A TCP relay to the session's server that can drop traffic and cut links (tcp_proxy)."""
    from tcp_proxy import TcpProxy

    relay = TcpProxy(int(nats_server.url.rsplit(":", 1)[1]))
    await relay.start()
    try:
        yield relay
    finally:
        await relay.close()
