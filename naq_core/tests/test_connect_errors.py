"""A connect that cannot succeed ends, bounded, with one line that says why.

TLS trouble and bad credential files are named as such; "is a server running?" is said only
when nothing listens on the port.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import worker_tasks
from auth_support import make_certs

from naq_core import Queue
from naq_core.errors import NaqError
from naq_core.server import EmbeddedServer, free_port
from naq_core.testing.fixtures import start_test_server

#: Far above connect_timeout below: reaching it means the connect was not bounded.
GUARD = 60.0


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    certs = make_certs(tmp_path / "server-certs", "server-side")
    (tmp_path / "server").mkdir()
    server = start_test_server(tmp_path / "server", extra_config=certs.server_config(verify_clients=False))
    try:
        yield server
    finally:
        server.stop()


async def _connect_error(url: str, **settings: object) -> str:
    q = Queue("conn_errors", url, connect_timeout=2, **settings)
    with pytest.raises(NaqError) as info:
        async with asyncio.timeout(GUARD):
            await q.enqueue(worker_tasks.add, 1, 1)
    return str(info.value)


async def test_server_certificate_from_an_unknown_ca_is_one_line(
    tls_server: EmbeddedServer, tmp_path: Path
) -> None:
    other = make_certs(tmp_path / "client-certs", "unrelated")
    url = tls_server.url.replace("nats://", "tls://")
    message = await _connect_error(url, tls_ca=str(other.ca))
    assert "\n" not in message
    assert url in message
    assert "TLS" in message and "certificate verify failed" in message
    assert "is a server running" not in message


async def test_tls_server_without_tls_settings_is_not_hanging(tls_server: EmbeddedServer) -> None:
    # the server's certificate is from a private CA the system does not trust
    message = await _connect_error(tls_server.url.replace("nats://", "tls://"))
    assert "TLS" in message
    assert "is a server running" not in message


async def test_nothing_listening_asks_whether_a_server_runs() -> None:
    message = await _connect_error(f"nats://127.0.0.1:{free_port()}")
    assert "is a server running?" in message


@pytest.mark.parametrize("setting", ["tls_ca", "tls_cert", "tls_key", "nkey_seed", "creds_file"])
async def test_missing_file_names_setting_and_path(setting: str, tmp_path: Path) -> None:
    certs = make_certs(tmp_path / "certs")
    settings = {"tls_ca": str(certs.ca), "tls_cert": str(certs.client_cert), "tls_key": str(certs.client_key)}
    missing = str(tmp_path / "no-such-dir" / f"{setting}.pem")
    settings[setting] = missing
    # nothing listens: the file is checked before any server is tried
    message = await _connect_error(f"nats://127.0.0.1:{free_port()}", **settings)
    assert f"{setting} = {missing!r}" in message
    assert "is a server running" not in message


async def test_unreadable_tls_file_names_setting_and_path(tmp_path: Path) -> None:
    bad = tmp_path / "not-a-certificate.pem"
    bad.write_text("hello\n")
    message = await _connect_error(f"nats://127.0.0.1:{free_port()}", tls_ca=str(bad))
    assert f"tls_ca = {str(bad)!r}" in message


async def test_directory_as_nkey_seed_names_setting_and_path(tmp_path: Path) -> None:
    message = await _connect_error(f"nats://127.0.0.1:{free_port()}", nkey_seed=str(tmp_path))
    assert f"nkey_seed = {str(tmp_path)!r}" in message
    assert "is a server running" not in message
