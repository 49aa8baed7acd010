"""Checks that the plugin is installed, makes a dead letter, and finds it in the plugin's file.

``pip install -e .`` first (once), run a worker (``naq worker plugin-demo -t tasks``), then
``python main.py``.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from naq_example_sink import PLUGIN_NAME, sink_path
from tasks import import_orders

from naq_core import JobFailedError, Queue
from naq_core.plugins import list_plugins

WAIT = 30  # seconds: every wait is bounded, so this script always ends


def letters_of(job_id: str) -> list[dict[str, Any]]:
    path = sink_path()
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [letter for letter in map(json.loads, lines) if letter["job_id"] == job_id]


async def main() -> None:
    mine = [row for row in list_plugins() if row["name"] == PLUGIN_NAME]
    if not mine:
        raise SystemExit(f"plugin {PLUGIN_NAME} is not installed: run `pip install -e .` in this folder")
    print(f"plugin {PLUGIN_NAME} from {mine[0]['distribution']}: {', '.join(mine[0]['hooks'])}")

    async with Queue("plugin-demo") as queue:
        job = await queue.enqueue(import_orders, "2026-03-02", max_retries=1, retry_delay=0.1)
        try:
            await queue.fetch_job_result(job, timeout=WAIT)
        except JobFailedError as exc:
            print(f"job failed: {exc.error_type}")

    deadline = time.monotonic() + WAIT  # the sink stores the letter just after the job's record
    found = letters_of(job.job_id)
    while not found and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        found = letters_of(job.job_id)
    if not found:
        raise SystemExit(f"no dead letter for job {job.job_id} in {sink_path()}")
    letter = found[0]
    print(f"{sink_path()}: {letter['function']} {letter['reason']} after {letter['attempts']} attempts")


if __name__ == "__main__":
    asyncio.run(main())
