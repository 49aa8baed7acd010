"""A child ``naq`` on a pseudo-terminal (stdin, stdout, stderr), bounded in time, killed by pid."""

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
from pathlib import Path

TIMEOUT = 30.0

#: A JSON serializer for the child, so these tests need nothing but naq-core and this plugin.
SERIALIZER_MODULE = """
import json
from naq_core.hookspecs import hookimpl

class JsonSerializer:
    name = "json"
    content_type = "application/json"
    unsafe = False

    def dumps(self, value):
        return json.dumps(value).encode()

    def loads(self, data):
        return json.loads(data)

@hookimpl
def naq_register_serializers(register):
    register(JsonSerializer())
"""


def child_env(tmp_path: Path) -> dict[str, str]:
    """Entry points ``confirm-purge`` and a test JSON serializer, nothing else."""
    site = tmp_path / "site"
    dist = site / "naq_confirm_test-0.dist-info"
    dist.mkdir(parents=True, exist_ok=True)
    (site / "naq_confirm_test_json.py").write_text(SERIALIZER_MODULE)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: naq-confirm-test\nVersion: 0\n")
    (dist / "entry_points.txt").write_text(
        "[naq]\nconfirm-purge = naq_confirm_purge\njson = naq_confirm_test_json\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("NAQ_")}
    env["PYTHONPATH"] = os.pathsep.join([str(site), *[p for p in sys.path if p]])
    env["NAQ_LOAD_PLUGINS"] = "confirm-purge,json"
    env["NO_COLOR"] = "1"
    env["TERM"] = "dumb"
    return env


def _controlling_terminal() -> None:
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class PtyProc:
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
        return self._data.decode(errors="replace").replace("\r", "")

    def _read(self, timeout: float) -> int:
        ready, _, _ = select.select([self._master], [], [], timeout)
        if not ready:
            return 0
        try:
            chunk = os.read(self._master, 65536)
        except OSError:
            return -1
        self._data += chunk
        return len(chunk) or -1

    def expect(self, pattern: str, timeout: float = TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if re.search(pattern, self.output):
                return
            if self._read(0.05) < 0:
                break
        raise AssertionError(f"{pattern!r} not seen; exit={self.popen.poll()}\n{self.output}")

    def send(self, line: str) -> None:
        os.write(self._master, line.encode() + b"\r")

    def wait(self, timeout: float = TIMEOUT) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = self.popen.poll()
            if code is not None:
                while time.monotonic() < deadline and self._read(0.05) > 0:
                    pass
                return code
            self._read(0.05)
        raise AssertionError(f"still running after {timeout} s\n{self.output}")

    def kill(self) -> None:
        if self.popen.poll() is None:
            os.kill(self.pid, signal.SIGKILL)
            self.popen.wait(timeout=TIMEOUT)
        try:
            os.close(self._master)
        except OSError:
            pass
