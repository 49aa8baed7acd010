"""naq-example-sink: a dead-letter sink plugin that appends each dead letter to a JSON-lines file.

A plugin is a module with functions named after naq's hooks (``naq_core.hookspecs``), marked
with ``@hookimpl``. This one implements one hook, ``naq_register_dead_letter_sinks``; naq
finds it through the entry point ``example-sink`` of this folder's pyproject.toml once the
project is installed (``pip install -e .``).

The file is ``example-dead-letters.jsonl`` in the worker's directory, or the ``path`` of
``[tool.naq.example-sink]`` in the configuration (``[example-sink]`` in a ``naq.toml``).
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from pathlib import Path

from naq_core import DeadLetter, DeadLetterSink, hookimpl, load_config

__all__ = ["JsonLinesSink", "naq_register_dead_letter_sinks", "sink_path"]

PLUGIN_NAME = "example-sink"
DEFAULT_PATH = "example-dead-letters.jsonl"


def sink_path() -> Path:
    """Where the sink writes, from the configuration (files and ``NAQ_*`` variables)."""
    return Path(load_config().plugin_config(PLUGIN_NAME).get("path", DEFAULT_PATH))


class JsonLinesSink:
    """Implements ``naq_core.DeadLetterSink``: a ``name`` and an ``async store(letter)``."""

    name = PLUGIN_NAME

    def __init__(self, path: Path) -> None:
        self.path = path

    async def store(self, letter: DeadLetter) -> None:
        """Return only once the letter is on disk: the worker then drops the message."""
        record = {
            "reason": letter.reason.value,
            "queue": letter.queue,
            "job_id": letter.job_id,
            "function": letter.function,
            "error_type": letter.error_type,
            "error": letter.error,
            "attempts": letter.attempts,
        }
        await asyncio.to_thread(self._append, json.dumps(record))

    def _append(self, line: str) -> None:
        with self.path.open("a", encoding="utf-8") as file:
            file.write(line + "\n")
            file.flush()
            os.fsync(file.fileno())


@hookimpl
def naq_register_dead_letter_sinks(register: Callable[[DeadLetterSink], None]) -> None:
    """Called when a worker starts: offer the sink (every sink gets every dead letter)."""
    register(JsonLinesSink(sink_path()))
