"""Helpers of the CLI tests: in-process runs (CliRunner) and children on a pseudo-terminal.

Every read and wait is bounded in time; :meth:`PtyProc.kill` stops a child by its pid.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import subprocess
import sys
import termios
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from naq_core import hookimpl, logconfig
from naq_core.cli import cli
from naq_core.plugins import new_plugin_manager, reset_plugin_manager

TIMEOUT = 30.0


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

    old = reset_plugin_manager(
        new_plugin_manager(load_entrypoints=False, plugins=[naq_json_serializer, *extra])
    )
    try:
        yield
    finally:
        reset_plugin_manager(old.pm if old is not None else None)


def child_env(tmp_path: Path, entry_points: dict[str, str]) -> dict[str, str]:
    """This interpreter's path plus a throwaway distribution offering ``entry_points``.

    The child finds its plugins the way an installed ``naq`` would (entry points, group
    ``naq``), allowed by ``NAQ_LOAD_PLUGINS``, whatever this venv has installed.
    """
    site = tmp_path / "site"
    dist = site / "naq_pty_test_plugins-0.dist-info"
    dist.mkdir(parents=True, exist_ok=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: naq-pty-test-plugins\nVersion: 0\n")
    lines = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
    (dist / "entry_points.txt").write_text(f"[naq]\n{lines}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NAQ_")}
    env["PYTHONPATH"] = os.pathsep.join([str(site), *[p for p in sys.path if p]])
    env["NAQ_LOAD_PLUGINS"] = ",".join(entry_points)
    env["NO_COLOR"] = "1"
    env["TERM"] = "dumb"
    return env


def _controlling_terminal() -> None:
    """In the child, after setsid: make stdin (the pty) its terminal, so Ctrl-C is SIGINT."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class PtyProc:
    """``python -m naq_core.cli ARGS`` with stdin, stdout and stderr on one pseudo-terminal."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        master, slave = pty.openpty()
        try:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "naq_core.cli", *args],
                stdin=slave,
                stdout=slave,
                stderr=slave,
                env=env,
                cwd=cwd,
                start_new_session=True,
                preexec_fn=_controlling_terminal,
            )
        finally:
            os.close(slave)
        self.pid = self.popen.pid
        self._master = master
        self._data = b""

    @property
    def output(self) -> str:
        """Everything the child printed so far (and the terminal echoed), ``\\r`` removed."""
        return self._data.decode(errors="replace").replace("\r", "")

    def _read(self, timeout: float) -> int:
        """Read what arrives within ``timeout``: bytes read, 0 for none, -1 once closed."""
        ready, _, _ = select.select([self._master], [], [], timeout)
        if not ready:
            return 0
        try:
            chunk = os.read(self._master, 65536)
        except OSError:  # EIO: the child closed its side
            return -1
        self._data += chunk
        return len(chunk) or -1

    def expect(self, pattern: str, timeout: float = TIMEOUT) -> re.Match[str]:
        """Wait until the output matches ``pattern`` (searched from the start)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, self.output)
            if found:
                return found
            if self._read(0.05) < 0:
                break
        raise AssertionError(f"{pattern!r} not seen; exit={self.popen.poll()}\n{self.output}")

    def send(self, line: str) -> None:
        """Type ``line`` and Enter."""
        self.send_raw(line.encode() + b"\r")

    def send_raw(self, data: bytes) -> None:
        """Type ``data`` as it is (``b"\x03"`` is Ctrl-C, ``b"\x04"`` Ctrl-D)."""
        os.write(self._master, data)

    def wait(self, timeout: float = TIMEOUT) -> int:
        """The exit code, reading output meanwhile (the child never blocks on a full pty)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = self.popen.poll()
            if code is not None:
                while time.monotonic() < deadline and self._read(0.05) > 0:
                    pass
                return code
            self._read(0.05)
        raise AssertionError(f"still running after {timeout} s\n{self.output}")

    def exited_within(self, seconds: float) -> bool:
        """Whether the child ends within ``seconds`` (reading its output meanwhile)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                return True
            self._read(0.05)
        return self.popen.poll() is not None

    def kill(self) -> None:
        if self.popen.poll() is None:
            os.kill(self.pid, signal.SIGKILL)
            self.popen.wait(timeout=TIMEOUT)
        try:
            os.close(self._master)
        except OSError:
            pass
