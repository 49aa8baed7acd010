"""StreamSink passes naq's dead-letter sink contract, against a real NATS server."""

from __future__ import annotations

import pytest

from naq_core import DeadLetter, load_config
from naq_core.testing import DeadLetterSinkContract
from naq_dlq_stream import StreamSink


class TestStreamSink(DeadLetterSinkContract):
    @pytest.fixture
    def sink(self, nats_url: str) -> StreamSink:
        return StreamSink(load_config(overrides={"nats_url": nats_url}, env={}, search=False))

    async def read_back(self, sink: StreamSink) -> list[DeadLetter]:
        return await sink.read_all()
