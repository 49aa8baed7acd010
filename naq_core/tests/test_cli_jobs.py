"""``naq job show|status|result|cancel|requeue``: text and JSON, one job and many."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import Answer, invoke, isolated, one_error_line, plugins, three_jobs, unique

from naq_core import JobStatus
from naq_core.config import load_config
from naq_core.jetstream import connect
from naq_core.job_lookup import recent_jobs


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with isolated(tmp_path, monkeypatch):
        yield


@pytest.fixture
def answer() -> Iterator[Answer]:
    """A confirming plugin that defers (``None``) unless a test sets ``answer.answer``."""
    plugin = Answer(None)
    with plugins(plugin):
        yield plugin


@pytest.fixture
def jobs(nats_url: str) -> tuple[str, dict[str, str]]:
    queue = unique("jobs")
    return queue, asyncio.run(three_jobs(nats_url, queue, "on purpose"))


def test_show_has_everything_including_the_traceback(nats_url: str, jobs: tuple[str, dict[str, str]]) -> None:
    queue, ids = jobs
    result = invoke("--nats-url", nats_url, "job", "show", ids["failed"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"job:      {ids['failed']}" in out and "status:   failed" in out
    assert f"queue:    {queue}" in out and "worker_tasks:fail" in out
    assert "traceback:" in out and "on purpose" in out and "Traceback (most recent call last)" in out
    done = invoke("--nats-url", nats_url, "job", "show", ids["done"])
    assert "result:   5" in done.stdout and "traceback" not in done.stdout


def test_show_and_status_json(nats_url: str, jobs: tuple[str, dict[str, str]]) -> None:
    queue, ids = jobs
    shown = json.loads(invoke("--nats-url", nats_url, "job", "show", ids["failed"], "--json").stdout)
    assert shown["job_id"] == ids["failed"] and shown["status"] == "failed" and shown["queue"] == queue
    assert "on purpose" in shown["traceback"] and shown["error"] == "on purpose"
    status = json.loads(invoke("--nats-url", nats_url, "job", "status", ids["done"], "--json").stdout)
    assert status["status"] == "completed" and status["result"] == 5
    pending = json.loads(invoke("--nats-url", nats_url, "job", "status", ids["pending"], "--json").stdout)
    assert pending["status"] == "pending"


def test_result_of_a_failed_job_is_one_error_line(nats_url: str, jobs: tuple[str, dict[str, str]]) -> None:
    _, ids = jobs
    result = invoke("--nats-url", nats_url, "job", "result", ids["failed"])
    assert result.exit_code == 1
    line = one_error_line(result)
    assert ids["failed"] in line and "on purpose" in line
    ok = invoke("--nats-url", nats_url, "job", "result", ids["done"], "--json")
    assert json.loads(ok.stdout) == {"job_id": ids["done"], "status": "completed", "result": 5}


def test_cancel_then_requeue_one_job(nats_url: str, jobs: tuple[str, dict[str, str]]) -> None:
    queue, ids = jobs
    cancelled = invoke("--nats-url", nats_url, "job", "cancel", ids["pending"], "--json")
    assert cancelled.exit_code == 0, cancelled.output
    assert json.loads(cancelled.stdout) == [{"job_id": ids["pending"], "status": "cancelled", "error": None}]
    again = invoke("--nats-url", nats_url, "job", "cancel", ids["pending"])
    assert again.exit_code == 1
    assert "already ended" in one_error_line(again)
    requeued = invoke("--nats-url", nats_url, "job", "requeue", ids["pending"])
    assert requeued.exit_code == 0, requeued.output
    assert requeued.stdout.strip() == f"Requeued job {ids['pending']} (queue: {queue})"
    status = json.loads(invoke("--nats-url", nats_url, "job", "status", ids["pending"], "--json").stdout)
    assert status["status"] == "pending"


def test_requeue_refuses_a_completed_job(nats_url: str, jobs: tuple[str, dict[str, str]]) -> None:
    _, ids = jobs
    result = invoke("--nats-url", nats_url, "job", "requeue", ids["done"])
    assert result.exit_code == 1
    assert "completed" in one_error_line(result)


def test_requeue_every_failed_job_of_a_queue(nats_url: str, jobs: tuple[str, dict[str, str]]) -> None:
    queue, ids = jobs
    result = invoke("--nats-url", nats_url, "job", "requeue", "--failed", "--queue", queue, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [{"job_id": ids["failed"], "queue": queue, "error": None}]
    assert "Requeueing" not in result.stderr  # no progress bar without a terminal
    none_left = invoke("--nats-url", nats_url, "job", "requeue", "--failed", "--queue", queue)
    assert none_left.stdout.strip() == "No failed jobs to requeue."


def test_requeue_usage_errors() -> None:
    for args in (
        ["job", "requeue"],
        ["job", "requeue", "abc", "--failed"],
        ["job", "requeue", "a", "--queue", "q"],
    ):
        result = invoke(*args)
        assert result.exit_code == 2, args
        assert "naq job requeue --help" in one_error_line(result)


def test_cancelling_several_jobs_asks_and_reports_each(
    nats_url: str, answer: Answer, jobs: tuple[str, dict[str, str]]
) -> None:
    _, ids = jobs
    answer.answer = False
    refused = invoke("--nats-url", nats_url, "job", "cancel", ids["pending"], ids["done"])
    assert refused.exit_code == 2
    assert "not confirmed" in one_error_line(refused)
    target = f"{ids['pending'][:12]}, {ids['done'][:12]}"
    assert answer.asked == [{"action": "job cancel", "target": target, "count": 2, "force": False}]
    answer.answer = None  # defer: the hook's default goes ahead
    result = invoke("--nats-url", nats_url, "job", "cancel", ids["pending"], ids["done"], "-y")
    assert result.exit_code == 1
    assert result.stdout.strip() == f"Cancelled job {ids['pending']} (status: cancelled)"
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith(f"{ids['done']}: ") and "already ended" in lines[0]
    assert lines[-1] == "Error: 1 of 2 jobs failed (see above)"


def test_unknown_job_is_one_line_for_every_command(nats_url: str) -> None:
    for command in ("show", "status", "result", "cancel", "requeue"):
        result = invoke("--nats-url", nats_url, "job", command, "nosuchjob")
        assert result.exit_code == 1, command
        assert "nosuchjob" in one_error_line(result), command


async def test_recent_jobs_filters_and_orders(nats_url: str, queue_name: str) -> None:
    ids = await three_jobs(nats_url, queue_name, "on purpose")
    conn = await connect(load_config(overrides={"nats_url": nats_url}))
    try:
        everything = await recent_jobs(conn, queue=queue_name)
        assert [r.job_id for r in everything] == [ids["pending"], ids["failed"], ids["done"]] or [
            r.job_id for r in everything
        ] == [ids["pending"], ids["done"], ids["failed"]]
        pending = next(r for r in everything if r.job_id == ids["pending"])
        assert pending.status is JobStatus.PENDING and pending.function == "worker_tasks:multiply"
        failed = await recent_jobs(conn, queue=queue_name, status=JobStatus.FAILED)
        assert [r.job_id for r in failed] == [ids["failed"]]
        by_name = await recent_jobs(conn, queue=queue_name, function="MULTI")
        assert [r.job_id for r in by_name] == [ids["pending"]]
        assert len(await recent_jobs(conn, queue=queue_name, limit=1)) == 1
        assert await recent_jobs(conn, queue=unique("empty")) == []
    finally:
        await conn.close()
