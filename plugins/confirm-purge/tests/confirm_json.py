"""A JSON serializer plugin for these tests, in-process and in a child ``naq`` (entry point
``json = confirm_json``), so they need nothing but naq-core and this plugin."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from naq_core import hookimpl
from naq_core.serializer import Serializer


class JsonSerializer:
    name = "json"
    content_type = "application/json"
    unsafe = False

    def dumps(self, value: Any) -> bytes:
        return json.dumps(value).encode()

    def loads(self, data: bytes) -> Any:
        return json.loads(data)


@hookimpl
def naq_register_serializers(register: Callable[[Serializer], None]) -> None:
    register(JsonSerializer())
