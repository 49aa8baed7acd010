"""The webhook sink keeps the contract against a local HTTP server; its table is declared."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import webhook_sink
from webhook_sink import WebhookSettings, WebhookSink

import naq_json_serializer
from naq_core import ConfigurationError, DeadLetterReason, Queue, load_config
from naq_core.testing import DeadLetterSinkContract, only_plugins
from naq_core.testing.worker import running_worker, wait_until


class Receiver(ThreadingHTTPServer):
    """Keeps every POSTed body and its Authorization header."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.received: list[tuple[dict[str, Any], str | None]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/dead-letters"


class Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.received.append((body, self.headers.get("Authorization")))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


class TestWebhookSink(DeadLetterSinkContract):
    @pytest.fixture
    def sink(self, receiver: Receiver) -> WebhookSink:
        return WebhookSink(WebhookSettings(url=receiver.url))


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("NAQ_CONFIG", raising=False)
    with only_plugins(naq_json_serializer, webhook_sink):
        yield


@pytest.mark.usefixtures("plugins")
async def test_a_worker_posts_its_dead_letters(
    nats_url: str, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NAQ_WEBHOOK_URL", receiver.url)
    token = uuid.uuid4().hex
    monkeypatch.setenv("NAQ_WEBHOOK_TOKEN", token)
    queue_name = f"hook-{uuid.uuid4().hex[:8]}"
    async with running_worker(nats_url, queue_name, tasks=[]), Queue(queue_name, nats_url) as queue:
        job = await queue.enqueue("nobody:knows")
        await wait_until(lambda: receiver.received, timeout=15, interval=0.05)
    [(body, authorization)] = receiver.received
    assert (body["job_id"], body["reason"]) == (job.job_id, DeadLetterReason.UNKNOWN_TASK.value)
    assert authorization == f"Bearer {token}"


@pytest.mark.usefixtures("plugins")
def test_the_table_is_validated_and_the_token_kept_out_of_repr() -> None:
    token = uuid.uuid4().hex
    settings = load_config(search=False, env={"NAQ_WEBHOOK_TOKEN": token}).plugin_settings("webhook")
    assert settings.token == token
    assert token not in repr(settings)
    with pytest.raises(ConfigurationError, match=r"webhook\.timeout"):
        load_config(search=False, env={"NAQ_WEBHOOK_TIMEOUT": "0"}).plugin_settings("webhook")
