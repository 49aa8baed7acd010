"""Every NATS auth method end to end: enqueue, a worker runs the job, the result comes back.

Keys, JWTs and certificates are made in the test (``auth_support``); each server is private,
on 127.0.0.1, and stopped by its pid afterwards.
"""

from __future__ import annotations

import importlib.metadata
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import nkeys
import pytest
import worker_tasks
from auth_support import make_certs, make_jwts, new_nkey
from support import running_worker

from naq_core import NaqConnectionError, Queue
from naq_core.server import EmbeddedServer
from naq_core.testing.fixtures import start_test_server

StartServer = Callable[..., EmbeddedServer]


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[StartServer]:
    """``start_server(extra_config=..., extra_args=...)``: a private server, stopped after the test."""
    servers: list[EmbeddedServer] = []

    def start(extra_config: str | None = None) -> EmbeddedServer:
        directory = tmp_path / f"server-{len(servers)}"
        directory.mkdir()
        server = start_test_server(directory, extra_config=extra_config)
        servers.append(server)
        return server

    try:
        yield start
    finally:
        for server in servers:
            server.stop()


def test_nkeys_is_a_dependency_of_naq_core() -> None:
    # nats-py needs nkeys for nkey_seed and creds_file but does not depend on it
    names = {
        re.split(r"[ ;<>=!~\[]", r, maxsplit=1)[0].lower()
        for r in importlib.metadata.requires("naq-core") or ()
    }
    assert "nkeys" in names


async def _round_trip(url: str, queue: str, **options: Any) -> None:
    async with Queue(queue, url, **options) as q, running_worker(url, queue, **options):
        job = await q.enqueue(worker_tasks.add, 20, 22)
        assert await q.fetch_job_result(job, timeout=10) == 42


async def test_user_and_password(start_server: StartServer) -> None:
    server = start_server('authorization { user: naq, password: "s3cret" }\n')
    await _round_trip(server.url, "auth_user", user="naq", password="s3cret")


async def test_token(start_server: StartServer) -> None:
    server = start_server('authorization { token: "t0ken-abc" }\n')
    await _round_trip(server.url, "auth_token", token="t0ken-abc")


async def test_nkey_seed(start_server: StartServer, tmp_path: Path) -> None:
    user = new_nkey(nkeys.PREFIX_BYTE_USER)
    seed = tmp_path / "user.nk"
    seed.write_bytes(bytes(user.seed))
    server = start_server(f"authorization {{ users: [ {{ nkey: {user.public_key.decode()} }} ] }}\n")
    await _round_trip(server.url, "auth_nkey", nkey_seed=str(seed))


async def test_creds_file_in_operator_mode(start_server: StartServer, tmp_path: Path) -> None:
    jwts = make_jwts(tmp_path)
    server = start_server(jwts.server_config())
    await _round_trip(server.url, "auth_creds", creds_file=str(jwts.creds_file))


async def test_creds_file_is_required_in_operator_mode(start_server: StartServer, tmp_path: Path) -> None:
    server = start_server(make_jwts(tmp_path).server_config())
    q = Queue("auth_creds", server.url, connect_timeout=2)
    with pytest.raises(NaqConnectionError, match="refused the credentials"):
        await q.enqueue(worker_tasks.add, 1, 1)


async def test_mutual_tls(start_server: StartServer, tmp_path: Path) -> None:
    certs = make_certs(tmp_path / "certs")
    server = start_server(certs.server_config(verify_clients=True))
    options = {
        "tls_ca": str(certs.ca),
        "tls_cert": str(certs.client_cert),
        "tls_key": str(certs.client_key),
    }
    await _round_trip(server.url.replace("nats://", "tls://"), "auth_tls", **options)


async def test_wrong_password_is_one_clear_error(start_server: StartServer) -> None:
    server = start_server('authorization { user: naq, password: "s3cret" }\n')
    q = Queue("auth", server.url, user="naq", password="wrong", connect_timeout=2)
    with pytest.raises(NaqConnectionError) as info:
        await q.enqueue(worker_tasks.add, 1, 1)
    message = str(info.value)
    assert "refused the credentials" in message
    assert "wrong" not in message  # the secret is never echoed
    assert "is a server running" not in message  # something does listen
