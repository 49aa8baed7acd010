"""Shell completion: the scripts for bash, zsh and fish, and dynamic queue names / job ids."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import isolated, unique
from click.testing import CliRunner

from naq_core import Queue
from naq_core.cli import cli
from naq_core.server import free_port


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with isolated(tmp_path, monkeypatch):
        yield


@pytest.mark.parametrize(
    ("shell", "marker"),
    [
        ("bash", "complete -o nosort -F _naq_completion naq"),
        ("zsh", "#compdef naq"),
        ("fish", "complete --no-files --command naq"),
    ],
)
def test_completion_script_for_each_shell(shell: str, marker: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NAQ_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    env["_NAQ_COMPLETE"] = f"{shell}_source"
    done = subprocess.run(
        [sys.executable, "-m", "naq_core.cli"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    assert marker in done.stdout
    assert "_NAQ_COMPLETE" in done.stdout  # the script calls naq back for each completion


def complete(words: str) -> list[str]:
    """What bash would offer for ``words`` (the last word is the one being completed)."""
    parts = words.split(" ")
    env = {"_NAQ_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(len(parts) - 1)}
    result = CliRunner().invoke(cli, [], prog_name="naq", env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return [line.split(",", 1)[1] for line in result.stdout.splitlines() if line.startswith("plain,")]


def test_commands_and_options_complete() -> None:
    assert {"queue", "queues"} <= set(complete("naq que"))
    assert set(complete("naq job ")) >= {"show", "status", "result", "cancel", "requeue"}
    assert "--force" in complete("naq purge --f")


def test_queue_names_and_job_ids_complete_from_nats(nats_url: str) -> None:
    name = unique("compl")

    async def enqueue() -> str:
        async with Queue(name, nats_url) as q:
            return (await q.enqueue("worker_tasks:add", 1, 2)).job_id

    job_id = asyncio.run(enqueue())
    assert name in complete(f"naq --nats-url {nats_url} purge {name[:8]}")
    assert complete(f"naq --nats-url {nats_url} queue pause {name}") == [name]
    assert complete(f"naq --nats-url {nats_url} worker {name}") == [name]
    assert complete(f"naq --nats-url {nats_url} job show {job_id[:12]}") == [job_id]
    assert complete(f"naq --nats-url {nats_url} job show zzzz") == []


def test_completion_without_a_server_offers_nothing() -> None:
    assert complete(f"naq --nats-url nats://127.0.0.1:{free_port()} purge ") == []
