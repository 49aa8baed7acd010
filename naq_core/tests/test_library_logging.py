"""As a library naq configures no logging: its events reach the standard ``logging`` machinery.

A script that never configures logging sees naq's warnings and errors on stderr (logging's
last-resort handler) and nothing on stdout; one that calls ``logging.basicConfig`` sees what
it asked for. ``naq worker`` configures structlog and prints its usual lines.
"""

from __future__ import annotations

import re
import signal
import sys
import uuid
from pathlib import Path

import pytest
import structlog

from naq_core import _log
from naq_core.server import EmbeddedServer
from naq_core.testing.process import ChildProcesses, naq_argv, naq_env

TIMEOUT = 60.0

TASKS = """
def add(a, b):
    return a + b


def boom():
    raise ValueError("boom")
"""

SCRIPT = """
import asyncio
import logging
import sys

from naq_core import Queue, Worker

if sys.argv[3] == "debug":
    logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(name)s %(message)s")


async def main(url, name):
    worker = Worker(name, url, tasks=["lib_tasks"], install_signal_handlers=False)
    running = asyncio.create_task(worker.run())
    async with Queue(name, url) as queue:
        first = await queue.enqueue("lib_tasks:add", 2, 3)
        second = await queue.enqueue("lib_tasks:add", 1, 1, depends_on=[first])
        print("result", await queue.fetch_job_result(first, timeout=30))
        print("result", await queue.fetch_job_result(second, timeout=30))
        bad = await queue.enqueue("lib_tasks:boom", max_retries=1, retry_delay=0.1)
        try:
            await queue.fetch_job_result(bad, timeout=30)
        except Exception as exc:
            print("raised", type(exc).__name__)
    worker.request_stop()
    await asyncio.wait_for(running, 30)


asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


@pytest.fixture
def script(tmp_path: Path) -> Path:
    (tmp_path / "lib_tasks.py").write_text(TASKS)
    path = tmp_path / "script.py"
    path.write_text(SCRIPT)
    return path


def _run(
    script: Path, url: str, mode: str, child_processes: ChildProcesses, tmp_path: Path
) -> tuple[str, str]:
    env = naq_env(tmp_path, {"json": "naq_json_serializer"})
    queue = f"lib-{uuid.uuid4().hex[:8]}"
    child = child_processes.start([sys.executable, str(script), url, queue, mode], env=env, cwd=tmp_path)
    assert child.wait(TIMEOUT) == 0, child.output
    return child.stdout, child.stderr


def test_an_unconfigured_script_gets_warnings_on_stderr_and_nothing_on_stdout(
    nats_server: EmbeddedServer, script: Path, child_processes: ChildProcesses, tmp_path: Path
) -> None:
    stdout, stderr = _run(script, nats_server.url, "bare", child_processes, tmp_path)
    assert stdout.splitlines() == ["result 5", "result 2", "raised JobFailedError"]
    lines = stderr.splitlines()
    retrying = [line for line in lines if line.startswith("job_retrying ")]
    assert len(retrying) == 1, stderr
    assert "function='lib_tasks:boom'" in retrying[0] and "error='ValueError: boom'" in retrying[0]
    assert any(line.startswith("job_failed ") for line in lines), stderr
    for quiet in ("worker_started", "job_completed", "job_released", "worker_stopped"):
        assert quiet not in stderr  # info and debug: not shown unless the application asks


def test_basic_config_at_debug_shows_debug_and_info_events(
    nats_server: EmbeddedServer, script: Path, child_processes: ChildProcesses, tmp_path: Path
) -> None:
    stdout, stderr = _run(script, nats_server.url, "debug", child_processes, tmp_path)
    assert stdout.splitlines() == ["result 5", "result 2", "raised JobFailedError"]
    assert re.search(r"^DEBUG naq_core\._deps job_released job_id='\w+' queue='lib-", stderr, re.M), stderr
    assert re.search(r"^INFO naq_core\.worker worker_started ", stderr, re.M), stderr
    assert re.search(r"^DEBUG naq_core\._execute job_completed .*function='lib_tasks:add'", stderr, re.M)
    assert re.search(
        r"^INFO naq_core\._execute jobs_processed .*completed=2 failed=1 retried=1", stderr, re.M
    )
    assert re.search(r"^WARNING naq_core\._execute job_retrying ", stderr, re.M), stderr
    assert re.search(r"^ERROR naq_core\._execute job_failed ", stderr, re.M), stderr


def test_naq_worker_prints_its_usual_lines(
    nats_server: EmbeddedServer, script: Path, child_processes: ChildProcesses, tmp_path: Path
) -> None:
    import asyncio

    from naq_core import Queue

    env = naq_env(tmp_path, {"json": "naq_json_serializer"})
    queue = f"libw-{uuid.uuid4().hex[:8]}"
    worker = child_processes.start(
        naq_argv("worker", queue, "-t", "lib_tasks", "--nats-url", nats_server.url), env=env, cwd=tmp_path
    )
    worker.wait_for("worker_started")

    async def one_job() -> object:
        async with Queue(queue, nats_server.url) as q:
            return await q.fetch_job_result(await q.enqueue("lib_tasks:add", 2, 3), timeout=30)

    assert asyncio.run(one_job()) == 5
    assert worker.signal(signal.SIGTERM) == 0, worker.stderr
    assert worker.stdout == ""
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+"
    started = rf"^{stamp} \[info     \] worker_started +\[naq_core\.worker\] concurrency=10 "
    started += rf"queues=\['{queue}'\]"
    assert re.search(started, worker.stderr, re.M), worker.stderr
    # successes are counted in the jobs_processed summary (every job: --log-level debug)
    done = rf"^{stamp} \[info     \] jobs_processed +\[naq_core\._execute\] completed=1 failed=0 "
    assert re.search(done, worker.stderr, re.M), worker.stderr
    assert re.search(rf"^{stamp} \[info     \] worker_stopped ", worker.stderr, re.M), worker.stderr


def test_events_below_the_level_cost_no_formatting() -> None:
    class Loud:
        def __repr__(self) -> str:
            raise AssertionError("formatted although the level was off")

    logger = _log.get_logger("naq_core.test_quiet")
    assert not structlog.is_configured()
    logger.debug("never_shown", value=Loud())
    logger.info("never_shown", value=Loud())


def test_structlog_configured_by_the_application_gets_the_events() -> None:
    with structlog.testing.capture_logs() as captured:
        _log.get_logger("naq_core.test_capture").info("captured_event", key=1)
    assert captured == [{"event": "captured_event", "key": 1, "log_level": "info"}]


def test_a_logger_taken_before_configuration_follows_it() -> None:
    logger = _log.get_logger("naq_core.test_late")
    with structlog.testing.capture_logs() as captured:
        logger.warning("late_event", n=2)
        logger.bind(job_id="j").error("bound_event")
    assert captured == [
        {"event": "late_event", "n": 2, "log_level": "warning"},
        {"event": "bound_event", "job_id": "j", "log_level": "error"},
    ]


def test_is_enabled_for_follows_stdlib_then_structlog_levels() -> None:
    import logging

    from naq_core import logconfig

    log = _log.get_logger("naq_core.test_enabled")
    stdlib = logging.getLogger("naq_core.test_enabled")
    old = stdlib.level
    logconfig.reset()  # as a library: no structlog configuration
    try:
        stdlib.setLevel(logging.WARNING)
        assert not log.is_enabled_for(logging.DEBUG)
        assert log.is_enabled_for(logging.ERROR)
        stdlib.setLevel(logging.DEBUG)
        assert log.is_enabled_for(logging.DEBUG)
        logconfig.configure("info")  # the CLI's structlog setup now decides
        assert not log.is_enabled_for(logging.DEBUG)
        assert log.is_enabled_for(logging.INFO)
        logconfig.reset()
        logconfig.configure("debug")
        assert log.is_enabled_for(logging.DEBUG)
    finally:
        logconfig.reset()
        stdlib.setLevel(old)
