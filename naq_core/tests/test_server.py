"""The embedded nats-server launcher and its pytest fixtures, against a real server."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import urllib.request
import uuid
from pathlib import Path

import nats
import pytest

from naq_core.errors import NaqConnectionError, NaqError
from naq_core.server import EmbeddedServer, find_nats_server, free_port, server_version
from naq_core.testing import NatsServer

pytestmark = pytest.mark.timeout(60)


async def _publish_and_count(url: str, stream: str, messages: int = 1) -> int:
    async with asyncio.timeout(15):
        nc = await nats.connect(url, connect_timeout=5, allow_reconnect=False)
        try:
            js = nc.jetstream()
            await js.add_stream(name=stream, subjects=[f"{stream}.>"])
            for i in range(messages):
                await js.publish(f"{stream}.job", f"payload-{i}".encode())
            info = await js.stream_info(stream)
            return int(info.state.messages)
        finally:
            await nc.close()


def _unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def test_find_nats_server_returns_an_executable() -> None:
    path = Path(find_nats_server())
    assert path.is_file()
    assert os.access(path, os.X_OK)


def test_server_version_is_semver() -> None:
    version = server_version()
    major, minor, patch = version.split(".")[:3]
    assert (int(major), int(minor)) >= (2, 10)
    assert patch[0].isdigit()
    assert not version.startswith("v")


def test_server_version_of_a_non_server_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(NaqError, match="version"):
        server_version(str(tmp_path / "no-such-binary"))


def test_free_port_is_bindable() -> None:
    port = free_port()
    assert 0 < port < 65536


async def test_session_server_runs_jetstream(nats_url: str, nats_server: NatsServer) -> None:
    assert nats_url == f"nats://127.0.0.1:{nats_server.port}"
    assert nats_server.is_running()
    assert await _publish_and_count(nats_url, _unique("SESSION"), messages=3) == 3


def test_stop_kills_the_pid(fresh_nats_server: EmbeddedServer) -> None:
    pid = fresh_nats_server.pid
    assert pid is not None
    assert fresh_nats_server.is_running()
    fresh_nats_server.stop()
    assert not fresh_nats_server.is_running()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    fresh_nats_server.stop()  # idempotent
    assert fresh_nats_server.pid == pid


def test_busy_port_fails_clearly(nats_server: EmbeddedServer, tmp_path: Path) -> None:
    second = EmbeddedServer(port=nats_server.port, store_dir=tmp_path / "js")
    with pytest.raises(NaqConnectionError, match=str(nats_server.port)) as info:
        second.start(timeout=5)
    assert "in use" in str(info.value)
    assert not second.is_running()
    assert nats_server.is_running()


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX shell script")
@pytest.mark.parametrize("log_file", [None, "nats.log"], ids=["temporary-log", "log-file"])
def test_early_exit_quotes_the_server_output(tmp_path: Path, log_file: str | None) -> None:
    fake = tmp_path / "fake-nats-server"
    fake.write_text("#!/bin/sh\necho 'fatal: kaboom on purpose' >&2\nexit 3\n")
    fake.chmod(0o755)
    port = free_port()
    log = tmp_path / log_file if log_file else None
    server = EmbeddedServer(port=port, store_dir=tmp_path / "js", binary=str(fake), log_file=log)
    with pytest.raises(NaqConnectionError) as info:
        server.start(timeout=5)
    message = str(info.value)
    assert str(port) in message
    assert "code 3" in message
    assert "kaboom on purpose" in message
    assert not server.is_running()
    server.stop()


async def test_context_manager_and_restart_keep_jetstream_data(tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "nats-server.log"
    server = EmbeddedServer(port=0, store_dir=tmp_path / "js", log_file=log_file)
    stream = _unique("RESTART")
    with server:
        assert server.port != 0
        assert (tmp_path / "js").is_dir()
        assert await _publish_and_count(server.url, stream) == 1
    assert not server.is_running()
    assert "Server is ready" in log_file.read_text()

    with server:  # same port, same store: the stream survived
        async with asyncio.timeout(15):
            nc = await nats.connect(server.url, connect_timeout=5, allow_reconnect=False)
            try:
                info = await nc.jetstream().stream_info(stream)
            finally:
                await nc.close()
        assert info.state.messages == 1


def test_start_twice_is_refused(fresh_nats_server: EmbeddedServer) -> None:
    with pytest.raises(NaqError, match="already running"):
        fresh_nats_server.start()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM semantics")
def test_wait_returns_exit_code(fresh_nats_server: EmbeddedServer) -> None:
    pid = fresh_nats_server.pid
    assert pid is not None
    with pytest.raises(NaqError):
        fresh_nats_server.wait(timeout=0.1)
    os.kill(pid, signal.SIGTERM)
    assert fresh_nats_server.wait(timeout=10) == 0  # nats-server shuts down cleanly on SIGTERM
    assert not fresh_nats_server.is_running()


def test_monitoring_port_serves_varz(tmp_path: Path) -> None:
    with EmbeddedServer(port=0, http_port=0, store_dir=tmp_path / "js") as server:
        assert server.http_port is not None
        url = f"http://127.0.0.1:{server.http_port}/varz"
        with urllib.request.urlopen(url, timeout=5) as response:
            varz = json.load(response)
        assert varz["port"] == server.port
        assert varz["host"] == "127.0.0.1"
