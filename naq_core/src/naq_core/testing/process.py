"""Child processes in tests: ``naq`` (or any command) on a pseudo-terminal or writing to files.

Every read and wait is bounded in time, and every child is stopped by its pid: a test that
fails half-way leaves nothing running. Test a plugin's CLI command as a user meets it, in a
real ``naq`` process that finds the plugin through its entry point::

    from naq_core.testing.process import ChildProcesses, naq_argv, naq_env


    def test_my_command_asks_first(nats_url, tmp_path):
        env = naq_env(tmp_path, {"json": "naq_json_serializer", "mine": "naq_mine"})
        with ChildProcesses() as children:
            term = children.pty(naq_argv("--nats-url", nats_url, "mine", "wipe"), env=env, cwd=tmp_path)
            term.expect(r"Go ahead\\? \\[y/N\\]: ")
            term.send("y")
            assert term.wait() == 0, term.output

:class:`PtySession` puts stdin, stdout and stderr on one pseudo-terminal (prompts, Ctrl-C
as ``SIGINT`` at its default even in a test run that ignores it, progress bars that only
show on a terminal); :class:`ChildProcess` sends
stdout and stderr to files (no pipe can fill up) for long-running commands such as
``naq worker``. The ``child_processes`` fixture of :mod:`naq_core.testing.fixtures` is a
:class:`ChildProcesses` stopped after each test. :class:`PtySession` is POSIX only.
"""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = [
    "TIMEOUT",
    "ChildProcess",
    "ChildProcesses",
    "PtySession",
    "naq_argv",
    "naq_env",
    "pid_exists",
    "stop_process",
    "write_distribution",
]

#: The default bound, in seconds, of every wait in this module.
TIMEOUT = 30.0
_POLL = 0.05
_KILL = getattr(signal, "SIGKILL", signal.SIGTERM)  # SIGTERM is TerminateProcess on Windows


def naq_argv(*args: str) -> list[str]:
    """``python -m naq_core.cli ARGS`` with this interpreter: ``naq`` whatever is on PATH."""
    return [sys.executable, "-m", "naq_core.cli", *args]


def write_distribution(site: Path, name: str, entry_points: Mapping[str, str], *, version: str = "0") -> Path:
    """An installed-looking distribution ``name`` in ``site`` offering ``naq`` entry points.

    ``entry_points`` maps entry-point names to modules (``{"json": "naq_json_serializer"}``).
    With ``site`` on the path, :mod:`importlib.metadata` finds them as it finds a real install.
    Returns the ``.dist-info`` directory.
    """
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines = "".join(f"{entry} = {target}\n" for entry, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[naq]\n{lines}")
    return info


def naq_env(
    directory: Path, entry_points: Mapping[str, str], *, modules: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment of a child ``naq`` that loads exactly the plugins ``entry_points`` names.

    Writes a throwaway distribution offering ``entry_points`` (and the modules ``modules``
    maps names to source for) to ``directory/site``, puts it before this interpreter's path,
    and allows only those plugins (``NAQ_LOAD_PLUGINS``). No other ``NAQ_*`` variable of the
    machine leaks in; colours are off and the terminal is ``dumb``.
    """
    site = directory / "site"
    write_distribution(site, "naq-test-plugins", entry_points)
    for module, source in (modules or {}).items():
        (site / f"{module}.py").write_text(source)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NAQ_")}
    env["PYTHONPATH"] = os.pathsep.join([str(site), *[p for p in sys.path if p]])
    env["NAQ_LOAD_PLUGINS"] = ",".join(entry_points)
    env["NO_COLOR"] = "1"
    env["TERM"] = "dumb"
    return env


def pid_exists(pid: int) -> bool:
    """Whether a process ``pid`` exists (signal 0; a zombie still counts). POSIX only."""
    if sys.platform == "win32":  # os.kill(pid, 0) would terminate it there
        raise NotImplementedError("pid_exists() is POSIX only")
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def stop_process(process: subprocess.Popen[Any] | int, timeout: float = TIMEOUT) -> None:
    """Kill a process by its pid (``SIGKILL``) if it still runs.

    A child of this process (a ``Popen``) is also reaped, waiting at most ``timeout``
    seconds; a bare pid (a grandchild, say) is only signalled.
    """
    if isinstance(process, int):
        try:
            os.kill(process, _KILL)
        except ProcessLookupError:
            pass
        return
    if process.poll() is None:
        os.kill(process.pid, _KILL)
    process.wait(timeout=timeout)


#: What a shell resets for a job it runs in the foreground of a terminal.
_TERMINAL_SIGNALS = ("SIGINT", "SIGQUIT", "SIGTSTP", "SIGTTIN", "SIGTTOU")


def _controlling_terminal() -> None:
    """In the child, after ``setsid``: make stdin (the pty) its terminal, so Ctrl-C is SIGINT.

    The child also starts as a shell's foreground job would, with the terminal's signals at
    their defaults and none blocked, whatever the test process had at that moment: an
    ignored SIGINT survives ``exec`` (Python then installs no ``KeyboardInterrupt`` handler),
    and so does a blocked one, so Ctrl-C would be ignored for good.
    """
    import fcntl
    import termios

    for name in _TERMINAL_SIGNALS:
        signal.signal(getattr(signal, name), signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def _process_state(pid: int) -> str:
    """The kernel's view of a child that did not end: run state, where it sleeps, its signal
    masks (Linux; empty elsewhere), so a hang says whether a signal was ignored or blocked."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        wchan = Path(f"/proc/{pid}/wchan").read_text()
    except OSError:
        return ""
    keep = ("State", "Threads", "SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt")
    lines = [line for line in status.splitlines() if line.split(":", 1)[0] in keep]
    return "; ".join([*(" ".join(line.split()) for line in lines), f"wchan: {wchan}"])


class PtySession:
    """``argv`` with stdin, stdout and stderr on one pseudo-terminal, in a session of its own."""

    def __init__(self, argv: Sequence[str], *, env: Mapping[str, str], cwd: Path) -> None:
        import pty  # POSIX only: imported here so that the fixtures import everywhere

        master, slave = pty.openpty()
        try:
            self.popen = subprocess.Popen(
                list(argv),
                stdin=slave,
                stdout=slave,
                stderr=slave,
                env=dict(env),
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
            if self._read(_POLL) < 0:
                break
        raise AssertionError(f"{pattern!r} not seen; exit={self.popen.poll()}\n{self.output}")

    def send(self, line: str) -> None:
        """Type ``line`` and Enter."""
        self.send_raw(line.encode() + b"\r")

    def send_raw(self, data: bytes) -> None:
        """Type ``data`` as it is (``b"\\x03"`` is Ctrl-C, ``b"\\x04"`` Ctrl-D)."""
        os.write(self._master, data)

    def wait(self, timeout: float = TIMEOUT) -> int:
        """The exit code, reading output meanwhile (the child never blocks on a full pty)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = self.popen.poll()
            if code is not None:
                while time.monotonic() < deadline and self._read(_POLL) > 0:
                    pass
                return code
            self._read(_POLL)
        raise AssertionError(f"still running after {timeout} s [{_process_state(self.pid)}]\n{self.output}")

    def exited_within(self, seconds: float) -> bool:
        """Whether the child ends within ``seconds`` (reading its output meanwhile)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                return True
            self._read(_POLL)
        return self.popen.poll() is not None

    def stop(self) -> None:
        """Kill the child by its pid if it still runs, and close the terminal."""
        stop_process(self.popen)
        if self._master >= 0:
            master, self._master = self._master, -1
            os.close(master)


class ChildProcess:
    """``argv`` with stdin closed and stdout, stderr in files of ``cwd`` (no pipe fills up)."""

    def __init__(self, argv: Sequence[str], *, env: Mapping[str, str], cwd: Path) -> None:
        self.out = cwd / f"out-{uuid.uuid4().hex[:6]}.txt"
        self.err = self.out.with_suffix(".err")
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.popen = subprocess.Popen(
                list(argv), cwd=cwd, env=dict(env), stdout=out, stderr=err, stdin=subprocess.DEVNULL
            )
        self.pid = self.popen.pid

    @property
    def stdout(self) -> str:
        return self.out.read_text()

    @property
    def stderr(self) -> str:
        return self.err.read_text()

    @property
    def output(self) -> str:
        """stdout, then stderr."""
        return f"{self.stdout}\n{self.stderr}"

    def wait_for(self, pattern: str, timeout: float = TIMEOUT) -> re.Match[str]:
        """Wait until stdout+stderr match ``pattern``; fails at ``timeout`` or if the child exits."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, self.stdout + self.stderr)
            if found:
                return found
            if self.popen.poll() is not None:
                break
            time.sleep(_POLL)
        raise AssertionError(f"{pattern!r} not seen; exit={self.popen.poll()}\n{self.output}")

    def wait(self, timeout: float = TIMEOUT) -> int:
        """The exit code, once the child ends (fails after ``timeout`` seconds)."""
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"still running after {timeout} s\n{self.output}") from None

    def signal(self, sig: int, timeout: float = TIMEOUT) -> int:
        """Send ``sig`` to the child by its pid; its exit code (bounded by ``timeout``)."""
        os.kill(self.pid, sig)
        return self.wait(timeout)

    def stop(self) -> None:
        """Kill the child by its pid if it still runs."""
        stop_process(self.popen)


class ChildProcesses:
    """The children a test starts, each stopped by its pid when the block (or test) ends."""

    def __init__(self) -> None:
        self.started: list[PtySession | ChildProcess] = []

    def pty(self, argv: Sequence[str], *, env: Mapping[str, str], cwd: Path) -> PtySession:
        """Start ``argv`` on a pseudo-terminal (see :class:`PtySession`)."""
        session = PtySession(argv, env=env, cwd=cwd)
        self.started.append(session)
        return session

    def start(self, argv: Sequence[str], *, env: Mapping[str, str], cwd: Path) -> ChildProcess:
        """Start ``argv`` writing to files in ``cwd`` (see :class:`ChildProcess`)."""
        child = ChildProcess(argv, env=env, cwd=cwd)
        self.started.append(child)
        return child

    def stop_all(self) -> None:
        """Stop every child still running (by pid); safe to call twice.

        Every child is stopped even if stopping one fails; the first failure is raised after.
        """
        failures: list[BaseException] = []
        for child in self.started:
            try:
                child.stop()
            except Exception as exc:
                failures.append(exc)
        if failures:
            raise failures[0]

    def __iter__(self) -> Iterator[PtySession | ChildProcess]:
        return iter(self.started)

    def __enter__(self) -> ChildProcesses:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop_all()
