"""naq-webhook: POSTs each dead letter as JSON to a URL, configured by ``[tool.naq.webhook]``."""

from __future__ import annotations

import asyncio
import base64
import json
import urllib.request
from collections.abc import Callable

from attrs import field, frozen, validators

from naq_core import Config, DeadLetter, DeadLetterSink, hookimpl
from naq_core.plugin_settings import secret_field


@frozen(kw_only=True)
class WebhookSettings:
    url: str = "http://127.0.0.1:8080/dead-letters"
    timeout: float = field(default=5.0, validator=validators.gt(0))
    retries: int = 3
    token: str | None = secret_field(default=None)  # field(repr=False, metadata={"secret": True})


@hookimpl
def naq_plugin_settings(register: Callable[[str, type], None]) -> None:
    register("webhook", WebhookSettings)


@hookimpl
def naq_register_dead_letter_sinks(register: Callable[[DeadLetterSink], None], config: Config) -> None:
    settings: WebhookSettings = config.plugin_settings("webhook")
    register(WebhookSink(settings))


class WebhookSink:
    """Returns once the server answered 2xx; raising keeps the job in its queue for later."""

    name = "webhook"

    def __init__(self, settings: WebhookSettings) -> None:
        self.settings = settings

    async def store(self, letter: DeadLetter) -> None:
        body = {
            "reason": letter.reason.value,
            "queue": letter.queue_name,
            "job_id": letter.job_id,
            "function": letter.function,
            "error": letter.error,
            "payload": base64.b64encode(letter.payload).decode(),
        }
        for attempt in range(self.settings.retries + 1):
            try:
                await asyncio.to_thread(self._post, json.dumps(body).encode())
                return
            except OSError:
                if attempt == self.settings.retries:
                    raise
                await asyncio.sleep(0.5 * 2**attempt)

    def _post(self, data: bytes) -> None:
        request = urllib.request.Request(self.settings.url, data=data, method="POST")  # noqa: S310
        request.add_header("Content-Type", "application/json")
        if self.settings.token:
            request.add_header("Authorization", f"Bearer {self.settings.token}")
        with urllib.request.urlopen(request, timeout=self.settings.timeout) as response:  # noqa: S310
            response.read()
