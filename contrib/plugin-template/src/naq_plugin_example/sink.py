"""The dead-letter sink: one JSON file per letter, written durably before ``store`` returns."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

from naq_core import DeadLetter, DeadLetterReason

__all__ = ["DirectorySink", "from_record", "to_record"]


def to_record(letter: DeadLetter) -> dict[str, Any]:
    """Every field of ``letter`` as JSON values (the payload in base64)."""
    return {
        "reason": letter.reason.value,
        "queue_name": letter.queue_name,
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


def from_record(record: dict[str, Any]) -> DeadLetter:
    """The :class:`DeadLetter` that :func:`to_record` wrote."""
    values = dict(record)
    values["reason"] = DeadLetterReason(values["reason"])
    values["payload"] = base64.b64decode(values["payload"])
    return DeadLetter(**values)


class DirectorySink:
    """Keeps each dead letter as ``<directory>/<time>-<random>.json``.

    ``store`` writes a temporary file, syncs it, renames it into place and syncs the
    directory, so a letter is either whole on disk or absent when the worker acks the job.
    """

    name = "plugin-example"

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    async def store(self, letter: DeadLetter) -> None:
        data = json.dumps(to_record(letter), ensure_ascii=True, sort_keys=True).encode("ascii")
        await asyncio.to_thread(self._write, data)

    def _write(self, data: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        stem = f"{time.time_ns():020d}-{uuid.uuid4().hex}"  # sorts oldest first
        temporary = self.directory / f".{stem}.tmp"
        with temporary.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        temporary.rename(self.directory / f"{stem}.json")
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def read_all(self) -> list[DeadLetter]:
        """Every letter in the directory, oldest first (none if it does not exist)."""
        if not self.directory.is_dir():
            return []
        files = sorted(self.directory.glob("*.json"))
        return [from_record(json.loads(path.read_text(encoding="ascii"))) for path in files]
