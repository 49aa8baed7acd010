"""Helpers of the in-process CLI tests (CliRunner).

Children (``naq`` on a pseudo-terminal or writing to files) come from
:mod:`naq_core.testing.process` and the ``child_processes`` fixture.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from support import running_worker

from naq_core import JobFailedError, Queue, hookimpl, logconfig
from naq_core.cli import cli
from naq_core.testing import only_plugins


def invoke(*args: str, env: dict[str, str] | None = None, typed: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, input=typed, catch_exceptions=False)


def one_error_line(result: Result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    assert "Traceback" not in result.output
    return lines[0]


def unique(prefix: str = "cli") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@contextmanager
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No config file or NAQ_* variable of the machine leaks in; logging is undone after."""
    for name in list(os.environ):
        if name.startswith("NAQ_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    try:
        yield
    finally:
        logconfig.reset()


async def three_jobs(url: str, queue: str, error: str) -> dict[str, str]:
    """A completed, a failed (raising ``error``) and a pending job in ``queue``: name -> id."""
    async with Queue(queue, url) as q:
        done = await q.enqueue("worker_tasks:add", 2, 3)
        failed = await q.enqueue("worker_tasks:fail", error)
        async with running_worker(url, queue):
            await q.fetch_job_result(done, timeout=15)
            with pytest.raises(JobFailedError, match=error):
                await q.fetch_job_result(failed, timeout=15)
        pending = await q.enqueue("worker_tasks:multiply", 6, 7)
    return {"done": done.job_id, "failed": failed.job_id, "pending": pending.job_id}


class Answer:
    """A plugin answering ``naq_confirm_destructive`` with ``answer``, recording questions."""

    def __init__(self, answer: bool | None) -> None:
        self.answer = answer
        self.asked: list[dict[str, Any]] = []

    @hookimpl
    def naq_confirm_destructive(
        self, action: str, target: str, count: int | None, force: bool
    ) -> bool | None:
        self.asked.append({"action": action, "target": target, "count": count, "force": force})
        return self.answer


@contextmanager
def plugins(*extra: object) -> Iterator[None]:
    """The json serializer plus ``extra`` plugins; the previous plugin manager comes back."""
    import naq_json_serializer

    with only_plugins(naq_json_serializer, *extra):
        yield


def write_config(tmp_path: Path, text: str) -> Path:
    """``text`` as ``naq.toml`` in ``tmp_path`` (the folder ``isolated`` runs in)."""
    path = tmp_path / "naq.toml"
    path.write_text(text)
    return path
