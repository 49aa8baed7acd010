"""naq-confirm-purge: the question on a terminal, the refusal without one, --force, and
what happens when the plugin is not there or another plugin answers first."""

from __future__ import annotations

import asyncio
import os
import tomllib
import uuid
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path

import confirm_json
import pytest
from click.testing import CliRunner, Result

import naq_confirm_purge
from naq_core import Queue, hookimpl, logconfig
from naq_core.cli import cli
from naq_core.plugins import new_plugin_manager, reset_plugin_manager
from naq_core.testing import only_plugins
from naq_core.testing.process import ChildProcesses, naq_argv, naq_env

HERE = Path(__file__).parent


class Answer:
    """Another plugin: answers ``answer`` (``None`` defers)."""

    def __init__(self, answer: bool | None) -> None:
        self.answer = answer
        self.asked = 0

    @hookimpl
    def naq_confirm_destructive(
        self, action: str, target: str, count: int | None, force: bool
    ) -> bool | None:
        self.asked += 1
        return self.answer


Use = Callable[..., None]


@pytest.fixture(autouse=True)
def use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Use]:
    """``use(*plugins)`` installs exactly those plugins (plus a JSON serializer)."""
    for name in list(os.environ):
        if name.startswith("NAQ_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)

    def install(*plugins: object) -> None:
        reset_plugin_manager(new_plugin_manager(load_entrypoints=False, plugins=[confirm_json, *plugins]))

    try:
        with only_plugins(confirm_json):
            yield install
    finally:
        logconfig.reset()


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """The plugin believes stdin is a terminal (CliRunner's input answers the question)."""
    monkeypatch.setattr(naq_confirm_purge, "_interactive", lambda: True)


@pytest.fixture
def queue(nats_url: str) -> str:
    """A queue holding two jobs."""
    name = f"cp-{uuid.uuid4().hex[:10]}"

    async def fill() -> None:
        async with Queue(name, nats_url) as q:
            await q.enqueue("tasks:add", 1, 2)
            await q.enqueue("tasks:add", 3, 4)

    asyncio.run(fill())
    return name


def count(url: str, name: str) -> int:
    async def run() -> int:
        async with Queue(name, url) as q:
            return await q.count()

    return asyncio.run(run())


def purge(url: str, *args: str, typed: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["--nats-url", url, "purge", *args], input=typed, catch_exceptions=False)


def error_line(result: Result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ") and "Traceback" not in result.output
    return lines[0]


# --- the hook on its own ------------------------------------------------------------------


def test_force_and_nothing_to_delete_go_ahead_without_asking() -> None:
    assert naq_confirm_purge.naq_confirm_destructive(action="purge", target="q", count=5, force=True)
    assert naq_confirm_purge.naq_confirm_destructive(action="purge", target="q", count=0, force=False)


def test_without_a_terminal_it_refuses_quietly() -> None:
    runner = CliRunner()
    with runner.isolation() as (out, err, _):
        answer = naq_confirm_purge.naq_confirm_destructive(action="purge", target="q", count=5, force=False)
    assert answer is False
    assert out.getvalue() == b"" and err.getvalue() == b""  # the command prints the one line


@pytest.mark.usefixtures("terminal")
@pytest.mark.parametrize(
    ("typed", "expected"), [("y\n", True), ("yes\n", True), ("\n", False), ("n\n", False), ("", False)]
)
def test_on_a_terminal_it_shows_what_goes_and_asks(typed: str, expected: bool) -> None:
    runner = CliRunner()
    with runner.isolation(input=typed) as (out, err, _):
        answer = naq_confirm_purge.naq_confirm_destructive(
            action="dlq purge", target="every queue", count=1, force=False
        )
    assert answer is expected
    shown = err.getvalue().decode()
    assert (
        "action: dlq purge" in shown and "target: every queue" in shown and "count:  1 dead letter\n" in shown
    )
    assert "Go ahead? [y/N]" in shown
    assert out.getvalue() == b""


@pytest.mark.usefixtures("terminal")
def test_unknown_count_is_said_so() -> None:
    with CliRunner().isolation(input="n\n") as (_, err, _):
        naq_confirm_purge.naq_confirm_destructive(
            action="schedule cancel", target="all", count=None, force=False
        )
    assert "count:  an unknown number" in err.getvalue().decode()


# --- through `naq purge` ------------------------------------------------------------------


def test_purge_without_a_terminal_refuses_with_exit_2(use: Use, nats_url: str, queue: str) -> None:
    use(naq_confirm_purge)
    result = purge(nats_url, queue)
    assert result.exit_code == 2
    line = error_line(result)
    assert queue in line and "2 jobs" in line and "no terminal" in line and "--force" in line
    assert count(nats_url, queue) == 2


def test_purge_with_force_deletes(use: Use, nats_url: str, queue: str) -> None:
    use(naq_confirm_purge)
    result = purge(nats_url, queue, "--force")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Purged 2 jobs from {queue}\n"
    assert count(nats_url, queue) == 0


@pytest.mark.usefixtures("terminal")
def test_purge_on_a_terminal_yes_and_no(use: Use, nats_url: str, queue: str) -> None:
    use(naq_confirm_purge)
    refused = purge(nats_url, queue, typed="n\n")
    assert refused.exit_code == 2
    assert f"target: {queue}" in refused.stderr and "count:  2 jobs" in refused.stderr
    last = refused.stderr.strip().splitlines()[-1]
    assert last.startswith(f"Error: purge of {queue} (2 jobs) not confirmed") and "nothing deleted" in last
    assert count(nats_url, queue) == 2
    accepted = purge(nats_url, queue, typed="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert accepted.stdout.strip() == f"Purged 2 jobs from {queue}"
    assert count(nats_url, queue) == 0


def test_uninstalled_the_hook_default_goes_ahead(use: Use, nats_url: str, queue: str) -> None:
    use()  # no confirming plugin: every implementation defers, the action goes ahead
    result = purge(nats_url, queue)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"Purged 2 jobs from {queue}"


def test_another_plugin_answering_first_decides(use: Use, nats_url: str, queue: str) -> None:
    yes = Answer(True)
    use(naq_confirm_purge, yes)
    assert purge(nats_url, queue).exit_code == 0  # no terminal, no --force: the other plugin said yes
    assert yes.asked == 1
    assert count(nats_url, queue) == 0


def test_another_plugin_refusing_wins_over_force(use: Use, nats_url: str, queue: str) -> None:
    use(naq_confirm_purge, Answer(False))
    result = purge(nats_url, queue, "-y")
    assert result.exit_code == 2
    assert error_line(result) == f"Error: purge of {queue} (2 jobs) not confirmed; nothing deleted"
    assert count(nats_url, queue) == 2


def test_a_deferring_plugin_leaves_the_question_to_this_one(use: Use, nats_url: str, queue: str) -> None:
    deferring = Answer(None)
    use(naq_confirm_purge, deferring)
    assert purge(nats_url, queue).exit_code == 2
    assert deferring.asked == 1


# --- packaging and a real terminal ---------------------------------------------------------


def test_entry_point_is_declared() -> None:
    project = tomllib.loads((HERE.parent / "pyproject.toml").read_text())
    assert project["project"]["entry-points"]["naq"] == {"confirm-purge": "naq_confirm_purge"}
    assert "naq-core==0.2.0" in project["project"]["dependencies"]
    assert project["project"]["version"] == naq_confirm_purge.__version__


def test_installed_entry_point_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        metadata.distribution("naq-confirm-purge")
    except metadata.PackageNotFoundError:
        pytest.skip("naq-confirm-purge is not installed (nox -s tests_confirm_purge installs it)")
    monkeypatch.setenv("NAQ_LOAD_PLUGINS", "confirm-purge")
    pm = new_plugin_manager(load_entrypoints=True)
    assert pm.get_plugin("confirm-purge") is naq_confirm_purge


@pytest.mark.parametrize(("typed", "code"), [("y", 0), ("n", 2)])
def test_real_terminal_question(
    nats_url: str, queue: str, tmp_path: Path, child_processes: ChildProcesses, typed: str, code: int
) -> None:
    env = naq_env(tmp_path, {"confirm-purge": "naq_confirm_purge", "json": "confirm_json"})
    proc = child_processes.pty(naq_argv("--nats-url", nats_url, "purge", queue), env=env, cwd=tmp_path)
    proc.expect(r"Go ahead\? \[y/N\]: ")
    assert f"action: purge\n  target: {queue}\n  count:  2 jobs" in proc.output
    proc.send(typed)
    assert proc.wait() == code, proc.output
    if code == 0:
        assert f"Purged 2 jobs from {queue}" in proc.output
        assert count(nats_url, queue) == 0
    else:
        assert "not confirmed; nothing deleted" in proc.output and "Traceback" not in proc.output
        assert count(nats_url, queue) == 2
