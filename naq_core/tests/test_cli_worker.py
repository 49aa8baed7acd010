"""``naq worker``, ``naq server`` and ``naq dev`` as real processes, stopped by pid with signals."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import isolated, plugins
from click.testing import CliRunner

from naq_core import Queue
from naq_core.cli import cli
from naq_core.server import EmbeddedServer, free_port
from naq_core.testing.process import ChildProcesses, naq_argv, naq_env, pid_exists, stop_process

START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a child ``naq``: this interpreter's path, and only the json plugin."""
    return naq_env(tmp_path, {"json": "naq_json_serializer"})


@pytest.fixture
def procs(child_processes: ChildProcesses) -> Iterator[ChildProcesses]:
    """Every child started by a test, and any nats-server one of them left, killed by pid."""
    yield child_processes
    child_processes.stop_all()
    for proc in child_processes:
        for match in re.finditer(r"nats-server pid (\d+)", proc.output):
            stop_process(int(match.group(1)))


@pytest.fixture
def _in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """For CliRunner calls: the json plugin only, no config file or NAQ_* of the machine."""
    with isolated(tmp_path, monkeypatch), plugins():
        yield


async def _run_job(url: str, queue_name: str, function: str) -> tuple[str, object]:
    async with Queue(queue_name, url) as queue:
        job = await queue.enqueue(function, 6, 7)
        return job.job_id, await queue.fetch_job_result(job, timeout=START_TIMEOUT)


@pytest.mark.usefixtures("_in_process")
def test_worker_runs_a_job_shows_in_workers_and_exits_0_on_sigterm(
    nats_server: EmbeddedServer, tmp_path: Path, cli_env: dict[str, str], procs: ChildProcesses
) -> None:
    module = f"cli_tasks_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{module}.py").write_text("def mul(a, b):\n    return a * b\n")
    queue_name = f"cliw-{uuid.uuid4().hex[:8]}"
    worker = procs.start(
        naq_argv(
            "--nats-url",
            nats_server.url,
            "worker",
            queue_name,
            "-t",
            module,
            "-c",
            "2",
            "--name",
            "cliworker",
        ),
        env=cli_env,
        cwd=tmp_path,
    )
    worker.wait_for("worker_started")

    job_id, value = asyncio.run(_run_job(nats_server.url, queue_name, f"{module}:mul"))
    assert value == 42

    runner = CliRunner()
    listed = runner.invoke(cli, ["--nats-url", nats_server.url, "workers", "--json"])
    assert listed.exit_code == 0, listed.output
    mine = [w for w in json.loads(listed.stdout) if w["pid"] == worker.pid]
    assert len(mine) == 1
    assert mine[0]["queues"] == [queue_name] and mine[0]["worker_id"].startswith("cliworker-")
    assert mine[0]["status"] == "running" and mine[0]["concurrency"] == 2
    table = runner.invoke(cli, ["--nats-url", nats_server.url, "workers"])
    assert mine[0]["worker_id"] in table.stdout and "s ago" in table.stdout

    result = runner.invoke(cli, ["--nats-url", nats_server.url, "job", "result", job_id, "--json"])
    assert json.loads(result.stdout) == {"job_id": job_id, "status": "completed", "result": 42}
    status = runner.invoke(cli, ["--nats-url", nats_server.url, "job", "status", job_id])
    assert "completed" in status.stdout and f"{module}:mul" in status.stdout

    assert worker.signal(signal.SIGTERM) == 0, worker.stderr
    assert "worker_stopped" in worker.stderr
    assert "Traceback" not in worker.stderr


def test_worker_with_unreachable_nats_exits_1(
    tmp_path: Path, cli_env: dict[str, str], procs: ChildProcesses
) -> None:
    url = f"nats://127.0.0.1:{free_port()}"
    worker = procs.start(naq_argv("--nats-url", url, "worker", "q"), env=cli_env, cwd=tmp_path)
    assert worker.wait(STOP_TIMEOUT) == 1
    lines = worker.stderr.strip().splitlines()
    assert lines[-1].startswith("Error: ") and url in lines[-1] and "naq server" in lines[-1]
    assert "Traceback" not in worker.stderr


def test_server_prints_its_url_and_stops_nats_on_sigterm(
    tmp_path: Path, cli_env: dict[str, str], procs: ChildProcesses
) -> None:
    port = free_port()
    store = tmp_path / "store"
    server = procs.start(
        naq_argv("server", "--port", str(port), "--store-dir", str(store)), env=cli_env, cwd=tmp_path
    )
    server.wait_for("listening")
    nats_pid = int(server.wait_for(r"nats-server pid (\d+)").group(1))
    assert f"NATS JetStream listening on nats://127.0.0.1:{port} (store: {store})" in server.stdout
    assert pid_exists(nats_pid)
    assert server.signal(signal.SIGTERM) == 0, server.stderr
    assert not pid_exists(nats_pid)


def test_dev_exit_after_samples_prints_results_and_exits_0(
    tmp_path: Path, cli_env: dict[str, str], procs: ChildProcesses
) -> None:
    dev = procs.start(
        naq_argv("dev", "--port", str(free_port()), "--exit-after-samples"), env=cli_env, cwd=tmp_path
    )
    assert dev.wait(90) == 0, dev.output
    out = dev.stdout
    assert "NATS JetStream listening on nats://127.0.0.1:" in out
    assert "add(2, 3) -> 5" in out
    assert "slow_hello('naq') -> 'hello, naq'" in out
    assert "-> 'succeeded on attempt 2'" in out
    assert "failed, as intended: RuntimeError" in out
    assert "add(40, 2) depending on the first two -> 42" in out
    store = Path(re.search(r"\(store: (.+?), deleted on exit\)", out).group(1))  # type: ignore[union-attr]
    assert not store.exists()
    nats_pid = int(dev.wait_for(r"nats-server pid (\d+)").group(1))
    assert not pid_exists(nats_pid)


def test_dev_stops_everything_on_sigint(
    tmp_path: Path, cli_env: dict[str, str], procs: ChildProcesses
) -> None:
    store = tmp_path / "kept"
    dev = procs.start(
        naq_argv("dev", "--port", str(free_port()), "--store-dir", str(store), "--no-dashboard"),
        env=cli_env,
        cwd=tmp_path,
    )
    dev.wait_for("Press Ctrl-C to stop")
    dev.wait_for(r"add\(40, 2\) depending on the first two -> 42")
    nats_pid = int(dev.wait_for(r"nats-server pid (\d+)").group(1))
    assert dev.signal(signal.SIGINT) == 0, dev.stderr
    assert "worker_stopped" in dev.stderr
    assert not pid_exists(nats_pid)
    assert store.is_dir()  # --store-dir keeps the data
