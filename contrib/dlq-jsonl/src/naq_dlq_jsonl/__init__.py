"""naq-dlq-jsonl: every dead letter as one JSON line in a file, synced to disk.

Built only on naq's public API (``naq_core.hookimpl``, ``naq_core.DeadLetter``,
``naq_core.Config``): an example of a dead-letter sink plugin. Registered through the
``naq`` entry point ``dlq-jsonl``; this module is the plugin object.

The file is ``$NAQ_DLQ_JSONL_PATH``, else ``path`` in ``[tool.naq.dlq_jsonl]``, else
``naq-dead-letters.jsonl`` in the working directory.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from naq_core import (
    Config,
    ConfigurationError,
    DeadLetter,
    DeadLetterReason,
    DeadLetterSink,
    hookimpl,
    load_config,
)

__all__ = [
    "DEFAULT_PATH",
    "ENV_VAR",
    "JsonlSink",
    "configured_path",
    "from_json_line",
    "naq_register_dead_letter_sinks",
    "read_letters",
    "to_json_line",
]

__version__ = "0.2.0"

ENV_VAR = "NAQ_DLQ_JSONL_PATH"
DEFAULT_PATH = "naq-dead-letters.jsonl"
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock_for(path: Path) -> threading.Lock:
    key = str(path.resolve())
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def to_json_line(letter: DeadLetter) -> str:
    """One line of ASCII JSON: every field, the payload in base64."""
    record: dict[str, Any] = {
        "reason": letter.reason.value,
        "queue": letter.queue_name,  # the file keeps the key it always had
        "job_id": letter.job_id,
        "function": letter.function,
        "error_type": letter.error_type,
        "error": letter.error,
        "traceback": letter.traceback,
        "attempts": letter.attempts,
        "first_seen": letter.first_seen,
        "last_seen": letter.last_seen,
        "worker_id": letter.worker_id,
        "subject": letter.subject,
        "headers": dict(letter.headers),
        "payload": base64.b64encode(letter.payload).decode("ascii"),
    }
    return json.dumps(record, ensure_ascii=True, separators=(",", ":"))


def from_json_line(line: str) -> DeadLetter:
    """The :class:`DeadLetter` of one line written by :func:`to_json_line`."""
    record = json.loads(line)
    record["reason"] = DeadLetterReason(record["reason"])
    record["payload"] = base64.b64decode(record["payload"])
    record["queue_name"] = record.pop("queue")
    return DeadLetter(**record)


def read_letters(path: str | Path) -> list[DeadLetter]:
    """Every letter in the file, oldest first (a missing file holds none)."""
    try:
        text = Path(path).read_text(encoding="ascii")
    except FileNotFoundError:
        return []
    return [from_json_line(line) for line in text.splitlines() if line.strip()]


class JsonlSink:
    """Appends each letter as one line, and fsyncs, before ``store`` returns."""

    name = "dlq-jsonl"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    async def store(self, letter: DeadLetter) -> None:
        line = to_json_line(letter) + "\n"
        await asyncio.to_thread(self._append, line.encode("ascii"))

    def _append(self, data: bytes) -> None:
        with _lock_for(self.path):
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)

    def read_all(self) -> list[DeadLetter]:
        return read_letters(self.path)


def configured_path(config: Config | None = None) -> Path:
    """``$NAQ_DLQ_JSONL_PATH``, else ``[tool.naq.dlq_jsonl] path``, else the default.

    ``config`` is the configuration to read (the worker's, in the hook); without one,
    :func:`naq_core.load_config` (files and ``NAQ_*`` variables).
    """
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    config = config if config is not None else load_config()
    value = config.plugin_config("dlq_jsonl").get("path", DEFAULT_PATH)
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"[tool.naq.dlq_jsonl] path: expected a file path, got {value!r}")
    return Path(value)


@hookimpl
def naq_register_dead_letter_sinks(register: Callable[[DeadLetterSink], None], config: Config) -> None:
    """Offer a :class:`JsonlSink` writing to :func:`configured_path` of the worker's ``config``."""
    register(JsonlSink(configured_path(config)))
