"""``naq stats`` counts what waits in each queue, as a user runs it."""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from pathlib import Path

import naq_json_serializer
from naq_core import Queue
from naq_core.testing import only_plugins
from naq_core.testing.process import naq_argv, naq_env

HERE = Path(__file__).resolve().parent


async def test_stats_counts_the_waiting_jobs(nats_url: str, tmp_path: Path) -> None:
    busy, idle = f"busy-{uuid.uuid4().hex[:8]}", f"idle-{uuid.uuid4().hex[:8]}"
    with only_plugins(naq_json_serializer):
        async with Queue(busy, nats_url) as queue:
            for n in range(3):
                await queue.enqueue("example_tasks:always_fails", n)  # no worker: they wait
    env = naq_env(tmp_path, {"json": "naq_json_serializer", "stats": "stats_command"})
    argv = naq_argv("--nats-url", nats_url, "stats", busy, idle, "--json")
    result = await asyncio.to_thread(
        subprocess.run, argv, env=env, cwd=HERE, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {busy: 3, idle: 0}
