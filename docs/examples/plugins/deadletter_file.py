"""naq-deadletter-file: keep dead letters as JSON lines in a file."""

from __future__ import annotations

import asyncio
import base64
import json
import os
from collections.abc import Callable
from pathlib import Path

from naq_core import Config, DeadLetter, DeadLetterSink, Job, Outcome, hookimpl


class FileSink:
    """Appends each dead letter to a file and syncs it to disk before returning."""

    name = "file"

    def __init__(self, path: Path) -> None:
        self.path = path

    async def store(self, letter: DeadLetter) -> None:
        record = {
            "reason": letter.reason.value,
            "queue": letter.queue_name,
            "job_id": letter.job_id,
            "function": letter.function,
            "error": f"{letter.error_type}: {letter.error}",
            "attempts": letter.attempts,
            "payload": base64.b64encode(letter.payload).decode(),
            "headers": dict(letter.headers),
        }
        await asyncio.to_thread(self._append, json.dumps(record))

    def _append(self, line: str) -> None:
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
            fh.flush()
            os.fsync(fh.fileno())


@hookimpl
def naq_register_dead_letter_sinks(register: Callable[[DeadLetterSink], None], config: Config) -> None:
    settings = config.plugin_config("deadletter-file")  # [tool.naq.deadletter-file], undeclared
    register(FileSink(Path(settings.get("path", "dead-letters.jsonl"))))


@hookimpl
async def naq_job_finished(job: Job, outcome: Outcome) -> None:
    if outcome.status == "failed":
        print(f"{job.function} failed for good: {outcome.error_type}: {outcome.error}")
