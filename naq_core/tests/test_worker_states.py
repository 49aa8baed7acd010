"""``naq workers`` and ``list_workers``: idle, busy (with how many jobs) and stopping.

The jobs hold until a file appears (never a sleep of some length), so what the worker is
doing is known when the test looks.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_support import isolated, plugins
from click.testing import CliRunner

from naq_core import Queue, WorkerInfo, list_workers, list_workers_sync
from naq_core.cli import cli
from naq_core.jetstream import WORKERS_BUCKET
from naq_core.testing.process import ChildProcesses, naq_argv, naq_env
from naq_core.testing.worker import eventually, running_worker

HOLD = """\
import asyncio
import os


async def hold(flag, limit=60.0):
    \"\"\"Runs until the file ``flag`` exists (at most ``limit`` seconds).\"\"\"
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not os.path.exists(flag):
        if loop.time() > deadline:
            raise TimeoutError(f"{flag} never appeared")
        await asyncio.sleep(0.01)
    return "released"
"""


@pytest.fixture
def hold_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    module = f"hold_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{module}.py").write_text(HOLD)
    monkeypatch.syspath_prepend(str(tmp_path))
    return module


def _poll(fetch: Callable[[], Any], done: Callable[[Any], bool], tries: int = 400) -> Any:
    """``fetch()`` until ``done`` says yes (bounded); the last value."""
    value = None
    for _ in range(tries):
        value = fetch()
        if done(value):
            return value
        time.sleep(0.05)
    raise AssertionError(f"never reached; last seen: {value!r}")


async def test_list_workers_shows_idle_then_busy_with_the_count_then_idle(
    nats_url: str, queue_name: str, tmp_path: Path, hold_module: str
) -> None:
    flag = tmp_path / "release"
    async with (
        Queue(queue_name, nats_url) as q,
        running_worker(nats_url, queue_name, tasks=[hold_module], concurrency=3, heartbeat_interval=0.5) as w,
    ):

        async def mine() -> WorkerInfo | None:
            return next((i for i in await list_workers(nats_url) if i.worker_id == w.worker_id), None)

        async def shows(state: str, active: int) -> bool:
            info = await mine()
            return info is not None and (info.state, info.active_jobs) == (state, active)

        await eventually(lambda: shows("idle", 0))
        jobs = [await q.enqueue(f"{hold_module}:hold", str(flag)) for _ in range(2)]
        await eventually(lambda: shows("busy", 2))
        info = await mine()
        assert info is not None and info.status == "running" and len(info.current_jobs) == 2
        flag.touch()
        assert [await q.fetch_job_result(job, timeout=15) for job in jobs] == ["released", "released"]
        await eventually(lambda: shows("idle", 0))


async def test_a_heartbeat_without_state_from_an_older_worker_still_reads(nats_url: str) -> None:
    key = f"old-{uuid.uuid4().hex[:8]}"
    beat = {
        "worker_id": key,
        "hostname": "h",
        "pid": 1,
        "queues": ["q"],
        "status": "running",
        "concurrency": 2,
        "current_jobs": ["a"],
        "processed": 0,
        "failed": 0,
        "started_at": 1.0,
        "last_heartbeat": 2.0,
    }
    async with Queue("q", nats_url) as q:
        conn = await q.connection()
        kv = await conn.bucket(WORKERS_BUCKET)
        await kv.put(key, json.dumps(beat).encode())
        try:
            [info] = [i for i in await list_workers(nats_url) if i.worker_id == key]
        finally:
            await kv.purge(key)
    assert (info.state, info.active_jobs, info.status) == ("busy", 1, "running")


@pytest.fixture
def _cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with isolated(tmp_path, monkeypatch), plugins():
        yield


@pytest.mark.usefixtures("_cli")
def test_naq_workers_shows_idle_busy_and_stopping_while_draining(
    nats_url: str, queue_name: str, tmp_path: Path, hold_module: str
) -> None:
    env = naq_env(tmp_path, {"json": "naq_json_serializer"})
    env["NAQ_HEARTBEAT_INTERVAL"] = "60"  # only the changes of state are written in this test
    flag = tmp_path / "release"
    runner = CliRunner()

    def cli_row() -> dict[str, Any] | None:
        listed = runner.invoke(cli, ["--nats-url", nats_url, "workers", "--json"])
        assert listed.exit_code == 0, listed.output
        return next((row for row in json.loads(listed.stdout) if row["pid"] == worker.pid), None)

    def api_row() -> WorkerInfo | None:
        found = list_workers_sync(nats_url)
        return next((info for info in found if info.pid == worker.pid), None)

    def is_state(state: str, active: int) -> Callable[[Any], bool]:
        def check(row: Any) -> bool:
            if row is None:
                return False
            if isinstance(row, dict):
                return bool(row["state"] == state and row["active_jobs"] == active)
            return bool(row.state == state and row.active_jobs == active)

        return check

    with ChildProcesses() as children:
        worker = children.start(
            naq_argv(
                "--nats-url", nats_url, "worker", queue_name, "-t", hold_module, "--shutdown-timeout", "60"
            ),
            env=env,
            cwd=tmp_path,
        )
        worker.wait_for("worker_started")
        _poll(cli_row, is_state("idle", 0))
        _poll(api_row, is_state("idle", 0))

        async def enqueue() -> str:
            async with Queue(queue_name, nats_url) as q:
                return (await q.enqueue(f"{hold_module}:hold", str(flag))).job_id

        job_id = asyncio.run(enqueue())
        busy = _poll(cli_row, is_state("busy", 1))
        assert busy["current_jobs"] == [job_id] and busy["status"] == "running"
        _poll(api_row, is_state("busy", 1))
        table = runner.invoke(cli, ["--nats-url", nats_url, "workers"])
        assert "STATE" in table.stdout and "busy (1)" in table.stdout

        worker.popen.send_signal(signal.SIGTERM)
        worker.wait_for("worker_stopping")
        stopping = _poll(cli_row, is_state("stopping", 1))
        assert stopping["status"] == "stopping" and worker.popen.poll() is None  # still draining
        _poll(api_row, is_state("stopping", 1))
        table = runner.invoke(cli, ["--nats-url", nats_url, "workers"])
        assert "stopping (1)" in table.stdout

        flag.touch()
        assert worker.wait() == 0, worker.output
    assert _poll(cli_row, lambda row: row is None) is None  # gone once stopped

    async def result() -> object:
        async with Queue(queue_name, nats_url) as q:
            return await q.fetch_job_result(job_id, timeout=10)

    assert asyncio.run(result()) == "released"
