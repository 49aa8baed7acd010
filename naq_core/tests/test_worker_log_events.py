"""What `naq worker` logs about jobs: a summary by default, every job when asked.

By default a success is counted in the periodic ``jobs_processed`` line (info) rather than
rendered per job; failures and retries stay per job. ``--log-level debug`` shows
``job_completed`` for every job. Checked on the log output of a real ``naq worker``.
"""

from __future__ import annotations

import asyncio
import re
import signal
import uuid
from pathlib import Path

import pytest
import structlog
from structlog.testing import capture_logs

from naq_core import Queue
from naq_core._jobevents import JobEvents
from naq_core.job import Job
from naq_core.server import EmbeddedServer
from naq_core.testing.process import ChildProcesses, naq_argv, naq_env

TIMEOUT = 60.0
OK_JOBS = 5

TASKS = """
def add(a, b):
    return a + b


def boom():
    raise ValueError("boom")
"""


@pytest.fixture
def tasks_dir(tmp_path: Path) -> Path:
    (tmp_path / "ev_tasks.py").write_text(TASKS)
    return tmp_path


async def _run_jobs(url: str, queue: str) -> tuple[list[str], str]:
    """``OK_JOBS`` adds and one job that fails twice (one retry); their ids."""
    async with Queue(queue, url) as q:
        ok = [await q.enqueue("ev_tasks:add", i, 1) for i in range(OK_JOBS)]
        bad = await q.enqueue("ev_tasks:boom", max_retries=1, retry_delay=0.1)
        assert [await q.fetch_job_result(j, timeout=TIMEOUT) for j in ok] == [i + 1 for i in range(OK_JOBS)]
        with pytest.raises(Exception, match="boom"):
            await q.fetch_job_result(bad, timeout=TIMEOUT)
    return [j.job_id for j in ok], bad.job_id


def _worker_log(
    url: str, tasks_dir: Path, child_processes: ChildProcesses, *options: str
) -> tuple[str, list[str], str]:
    """Run the jobs through `naq worker [options]`, stop it with SIGTERM; its stderr and the ids."""
    env = naq_env(tasks_dir, {"json": "naq_json_serializer"})
    queue = f"ev-{uuid.uuid4().hex[:8]}"
    worker = child_processes.start(
        naq_argv(*options, "worker", queue, "-t", "ev_tasks", "--nats-url", url), env=env, cwd=tasks_dir
    )
    ok, bad = asyncio.run(_run_jobs(url, queue))
    assert worker.signal(signal.SIGTERM) == 0, worker.stderr
    return worker.stderr, ok, bad


def _summed(stderr: str, field: str) -> int:
    """``field`` added up over every ``jobs_processed`` line."""
    lines = [line for line in stderr.splitlines() if "jobs_processed" in line]
    return sum(int(re.search(rf"\b{field}=(\d+)", line).group(1)) for line in lines)  # type: ignore[union-attr]


def test_default_worker_logs_a_summary_and_each_failure_but_not_each_success(
    nats_server: EmbeddedServer, tasks_dir: Path, child_processes: ChildProcesses
) -> None:
    stderr, _, bad = _worker_log(nats_server.url, tasks_dir, child_processes)
    assert "job_completed" not in stderr
    # every job is counted: the summary lines (periodic, and the last one at stop) add up
    assert re.search(r"\[info\s*\] jobs_processed ", stderr), stderr
    assert (_summed(stderr, "completed"), _summed(stderr, "failed"), _summed(stderr, "retried")) == (
        OK_JOBS,
        1,
        1,
    )
    # a retry and a failure are each a line of their own, naming the job
    retrying = [line for line in stderr.splitlines() if "job_retrying" in line]
    failed = [line for line in stderr.splitlines() if " job_failed " in line]
    assert len(retrying) == 1 and f"job_id={bad}" in retrying[0], stderr
    assert len(failed) == 1 and f"job_id={bad}" in failed[0] and "[error" in failed[0], stderr


def test_worker_at_debug_logs_every_job(
    nats_server: EmbeddedServer, tasks_dir: Path, child_processes: ChildProcesses
) -> None:
    stderr, ok, _ = _worker_log(nats_server.url, tasks_dir, child_processes, "--log-level", "debug")
    completed = [line for line in stderr.splitlines() if " job_completed " in line]
    assert len(completed) == OK_JOBS, stderr
    assert {re.search(r"job_id=(\w+)", line).group(1) for line in completed} == set(ok)  # type: ignore[union-attr]
    assert _summed(stderr, "completed") == OK_JOBS


def _job(n: int) -> Job:
    return Job(function="m:f", queue_name="q", job_id=f"j{n}")


def test_the_summary_comes_by_itself_while_jobs_finish() -> None:
    async def scenario() -> list[dict[str, object]]:
        events = JobEvents("w1", logger="naq_core.test", every=0.01)
        with capture_logs() as logs:
            events.completed(_job(1), 0.001)
            events.completed(_job(2), 0.001)
            events.retrying(_job(3), 1.0, "ValueError: x")
            for _ in range(500):  # bounded: the timer fires after `every`
                if any(e["event"] == "jobs_processed" for e in logs):
                    break
                await asyncio.sleep(0.01)
            events.flush()  # nothing new: no second line
        return logs

    was_configured = structlog.is_configured()
    try:
        logs = asyncio.run(scenario())
    finally:
        if not was_configured:  # capture_logs leaves structlog "configured"
            structlog.reset_defaults()
    summaries = [e for e in logs if e["event"] == "jobs_processed"]
    assert len(summaries) == 1, logs
    assert (summaries[0]["completed"], summaries[0]["failed"], summaries[0]["retried"]) == (2, 0, 1)
    assert summaries[0]["log_level"] == "info" and summaries[0]["worker_id"] == "w1"
    assert [e["log_level"] for e in logs if e["event"] == "job_completed"] == ["debug", "debug"]
