"""``naq job`` with no id on a real pseudo-terminal, and what changes without a terminal."""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import invoke, isolated, one_error_line, three_jobs, unique

from naq_core import JobStatus, Queue
from naq_core.testing.process import ChildProcesses, PtySession, naq_argv, naq_env


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with isolated(tmp_path, monkeypatch):
        yield


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return naq_env(tmp_path, {"json": "naq_json_serializer"})


async def _status(url: str, job_id: str) -> JobStatus:
    async with Queue(nats_url=url) as q:
        return await q.job_status(job_id)


def _start(procs: ChildProcesses, url: str, env: dict[str, str], tmp_path: Path, *args: str) -> PtySession:
    return procs.pty(naq_argv("--nats-url", url, *args), env=env, cwd=tmp_path)


def test_pick_a_failed_job_and_show_it(
    nats_url: str, env: dict[str, str], tmp_path: Path, child_processes: ChildProcesses
) -> None:
    queue = unique("pick")
    ids = asyncio.run(three_jobs(nats_url, queue, "picked on purpose"))
    proc = _start(child_processes, nats_url, env, tmp_path, "job")
    proc.expect(r"Queue: ")
    proc.send(queue)
    proc.expect(r"Status \(.*\) \[any\]: ")
    proc.send("failed")
    proc.expect(r"Function name contains: ")
    proc.send("FAIL")
    proc.expect(r"Job number \[1\]: ")
    listing = proc.output
    assert ids["failed"] in listing and ids["done"] not in listing and ids["pending"] not in listing
    proc.send("7")  # out of range: asked again
    proc.expect(r"not in the range.*\n.*Job number \[1\]: ")
    proc.send("1")
    proc.expect(r"Action \(show, status, result, cancel, requeue\) \[show\]: ")
    proc.send("")
    assert proc.wait() == 0, proc.output
    assert f"job:      {ids['failed']}" in proc.output
    assert "traceback:" in proc.output and "picked on purpose" in proc.output


def test_pick_from_every_status_then_requeue(
    nats_url: str, env: dict[str, str], tmp_path: Path, child_processes: ChildProcesses
) -> None:
    queue = unique("pick")
    ids = asyncio.run(three_jobs(nats_url, queue, "picked on purpose"))
    proc = _start(child_processes, nats_url, env, tmp_path, "job")
    proc.expect(r"Queue: ")
    proc.send(queue)
    proc.expect(r"\[any\]: ")
    proc.send("")
    proc.expect(r"Function name contains: ")
    proc.send("")
    proc.expect(r"Job number \[1\]: ")
    rows = [line for line in proc.output.splitlines() if line[:1].isdigit() and queue in line]
    assert [row.split()[1] for row in rows][0] == ids["pending"]  # newest first
    assert {row.split()[1] for row in rows} == set(ids.values())
    failed_row = next(row for row in rows if ids["failed"] in row)
    proc.send(failed_row.split()[0])
    proc.expect(r"Action .*\[show\]: ")
    proc.send("requeue")
    assert proc.wait() == 0, proc.output
    assert f"Requeued job {ids['failed']} (queue: {queue})" in proc.output
    assert asyncio.run(_status(nats_url, ids["failed"])) is JobStatus.PENDING


def test_pick_with_no_match_and_a_bad_queue_name(
    nats_url: str, env: dict[str, str], tmp_path: Path, child_processes: ChildProcesses
) -> None:
    proc = _start(child_processes, nats_url, env, tmp_path, "job")
    proc.expect(r"Queue: ")
    proc.send("no.dots")
    proc.expect(r"invalid queue name.*\n.*Queue: ")
    proc.send(unique("nothing"))
    proc.expect(r"\[any\]: ")
    proc.send("bogus")
    proc.expect(r"not one of.*\n.*\[any\]: ")
    proc.send("completed")
    proc.expect(r"Function name contains: ")
    proc.send("")
    assert proc.wait() == 0, proc.output
    assert "No matching jobs." in proc.output


def test_ctrl_c_in_the_picker_exits_130(
    nats_url: str, env: dict[str, str], tmp_path: Path, child_processes: ChildProcesses
) -> None:
    proc = _start(child_processes, nats_url, env, tmp_path, "job")
    proc.expect(r"Queue: ")
    # A Ctrl-C that lands between the prompt and the read() is only noticed at the next
    # signal (CPython checks for signals when read() is interrupted): press it again, as
    # a person would.
    for _ in range(20):
        proc.send_raw(b"\x03")
        if proc.exited_within(1.0):
            break
    assert proc.wait() == 130, proc.output
    assert "Traceback" not in proc.output


def test_ctrl_c_works_whatever_signals_the_test_process_ignores(
    nats_url: str, env: dict[str, str], tmp_path: Path, child_processes: ChildProcesses
) -> None:
    # A child inherits an ignored SIGINT through exec: the terminal session starts it as a
    # shell would a foreground job, with SIGINT at its default and no signal blocked.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGQUIT])
    try:
        proc = _start(child_processes, nats_url, env, tmp_path, "job")
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        signal.signal(signal.SIGINT, previous)
    proc.expect(r"Queue: ")
    for _ in range(20):  # see test_ctrl_c_in_the_picker_exits_130
        proc.send_raw(b"\x03")
        if proc.exited_within(1.0):
            break
    assert proc.wait() == 130, proc.output


def test_without_a_terminal_the_picker_says_to_pass_an_id() -> None:
    result = invoke("job")
    assert result.exit_code == 2
    line = one_error_line(result)
    assert "no terminal" in line and "JOB_ID" in line


def test_progress_bar_on_a_terminal_only(
    nats_url: str, env: dict[str, str], tmp_path: Path, child_processes: ChildProcesses
) -> None:
    names = [unique("bar") for _ in range(3)]

    async def fill() -> None:
        for name in names:
            async with Queue(name, nats_url) as q:
                await q.enqueue("worker_tasks:add", 1, 1)

    asyncio.run(fill())
    proc = _start(child_processes, nats_url, env, tmp_path, "purge", *names, "-y")
    assert proc.wait() == 0, proc.output
    assert "Purging queues" in proc.output
    assert all(f"Purged 1 job from {name}" in proc.output for name in names)
    asyncio.run(fill())
    piped = invoke("--nats-url", nats_url, "purge", *names, "-y", "--json")
    assert "Purging" not in piped.output
    assert [row["purged"] for row in json.loads(piped.stdout)] == [1, 1, 1]
