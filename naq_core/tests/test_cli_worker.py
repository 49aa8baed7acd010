"""``naq worker``, ``naq server`` and ``naq dev`` as real processes, stopped by pid with signals."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from naq_core import Queue, logconfig
from naq_core.cli import cli
from naq_core.server import EmbeddedServer, free_port

START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0


class Proc:
    """A ``python -m naq_core.cli`` child; output goes to files (no pipe can fill up)."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.out = cwd / f"out-{uuid.uuid4().hex[:6]}.txt"
        self.err = self.out.with_suffix(".err")
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "naq_core.cli", *args],
                cwd=cwd,
                env=env,
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
            )
        self.pid = self.popen.pid

    @property
    def stdout(self) -> str:
        return self.out.read_text()

    @property
    def stderr(self) -> str:
        return self.err.read_text()

    def wait_for(self, pattern: str, timeout: float = START_TIMEOUT) -> re.Match[str]:
        """Wait until stdout+stderr match ``pattern`` (bounded; fails if the process exits)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, self.stdout + self.stderr)
            if found:
                return found
            if self.popen.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"{pattern!r} not seen; exit={self.popen.poll()}\n{self.stdout}\n{self.stderr}")

    def signal(self, sig: int) -> int:
        os.kill(self.pid, sig)
        return self.popen.wait(timeout=STOP_TIMEOUT)

    def kill(self) -> None:
        if self.popen.poll() is None:
            os.kill(self.pid, signal.SIGKILL)
            self.popen.wait(timeout=STOP_TIMEOUT)


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a child ``naq``: this interpreter's path, and only the json plugin.

    The json serializer is offered through a throwaway distribution's entry point, so the
    child finds it the way an installed ``naq`` would, whatever this venv has installed.
    """
    site = tmp_path / "site"
    dist = site / "naq_cli_test_plugins-0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: naq-cli-test-plugins\nVersion: 0\n")
    (dist / "entry_points.txt").write_text("[naq]\njson = naq_json_serializer\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NAQ_")}
    env["PYTHONPATH"] = os.pathsep.join([str(site), *[p for p in sys.path if p]])
    env["NAQ_LOAD_PLUGINS"] = "json"
    env["NO_COLOR"] = "1"
    return env


@pytest.fixture
def procs() -> Iterator[list[Proc]]:
    """Every child started by a test, killed by pid if the test did not stop it."""
    started: list[Proc] = []
    try:
        yield started
    finally:
        for proc in started:
            proc.kill()
            for match in re.finditer(r"nats-server pid (\d+)", proc.stderr):
                if not _gone(int(match.group(1))):
                    os.kill(int(match.group(1)), signal.SIGKILL)


@pytest.fixture
def _in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """For CliRunner calls: the json plugin only, no config file or NAQ_* of the machine."""
    import naq_json_serializer

    for name in list(os.environ):
        if name.startswith("NAQ_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)

    from naq_core.plugins import new_plugin_manager, reset_plugin_manager

    old = reset_plugin_manager(new_plugin_manager(load_entrypoints=False, plugins=[naq_json_serializer]))
    try:
        yield
    finally:
        reset_plugin_manager(old.pm if old is not None else None)
        logconfig.reset()


async def _run_job(url: str, queue_name: str, function: str) -> tuple[str, object]:
    async with Queue(queue_name, url) as queue:
        job = await queue.enqueue(function, 6, 7)
        return job.job_id, await queue.fetch_job_result(job, timeout=START_TIMEOUT)


@pytest.mark.usefixtures("_in_process")
def test_worker_runs_a_job_shows_in_workers_and_exits_0_on_sigterm(
    nats_server: EmbeddedServer, tmp_path: Path, cli_env: dict[str, str], procs: list[Proc]
) -> None:
    module = f"cli_tasks_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{module}.py").write_text("def mul(a, b):\n    return a * b\n")
    queue_name = f"cliw-{uuid.uuid4().hex[:8]}"
    worker = Proc(
        ["--nats-url", nats_server.url, "worker", queue_name, "-t", module, "-c", "2", "--name", "cliworker"],
        tmp_path,
        cli_env,
    )
    procs.append(worker)
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
    tmp_path: Path, cli_env: dict[str, str], procs: list[Proc]
) -> None:
    url = f"nats://127.0.0.1:{free_port()}"
    worker = Proc(["--nats-url", url, "worker", "q"], tmp_path, cli_env)
    procs.append(worker)
    assert worker.popen.wait(timeout=STOP_TIMEOUT) == 1
    lines = worker.stderr.strip().splitlines()
    assert lines[-1].startswith("Error: ") and url in lines[-1] and "naq server" in lines[-1]
    assert "Traceback" not in worker.stderr


def test_server_prints_its_url_and_stops_nats_on_sigterm(
    tmp_path: Path, cli_env: dict[str, str], procs: list[Proc]
) -> None:
    port = free_port()
    store = tmp_path / "store"
    server = Proc(["server", "--port", str(port), "--store-dir", str(store)], tmp_path, cli_env)
    procs.append(server)
    server.wait_for("listening")
    nats_pid = int(server.wait_for(r"nats-server pid (\d+)").group(1))
    assert f"NATS JetStream listening on nats://127.0.0.1:{port} (store: {store})" in server.stdout
    assert not _gone(nats_pid)
    assert server.signal(signal.SIGTERM) == 0, server.stderr
    assert _gone(nats_pid)


def test_dev_exit_after_samples_prints_results_and_exits_0(
    tmp_path: Path, cli_env: dict[str, str], procs: list[Proc]
) -> None:
    dev = Proc(["dev", "--port", str(free_port()), "--exit-after-samples"], tmp_path, cli_env)
    procs.append(dev)
    assert dev.popen.wait(timeout=90) == 0, dev.stdout + dev.stderr
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
    assert _gone(nats_pid)


def test_dev_stops_everything_on_sigint(tmp_path: Path, cli_env: dict[str, str], procs: list[Proc]) -> None:
    store = tmp_path / "kept"
    dev = Proc(
        ["dev", "--port", str(free_port()), "--store-dir", str(store), "--no-dashboard"], tmp_path, cli_env
    )
    procs.append(dev)
    dev.wait_for("Press Ctrl-C to stop")
    dev.wait_for(r"add\(40, 2\) depending on the first two -> 42")
    nats_pid = int(dev.wait_for(r"nats-server pid (\d+)").group(1))
    assert dev.signal(signal.SIGINT) == 0, dev.stderr
    assert "worker_stopped" in dev.stderr
    assert _gone(nats_pid)
    assert store.is_dir()  # --store-dir keeps the data
