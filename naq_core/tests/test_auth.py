"""Connecting with credentials: user/password and token."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import worker_tasks
from support import running_worker

from naq_core import NaqConnectionError, Queue
from naq_core.server import EmbeddedServer, free_port


@pytest.fixture
def secured_server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    server = EmbeddedServer(
        port=free_port(),
        store_dir=tmp_path / "js",
        log_file=tmp_path / "log",
        extra_args=("--user", "naq", "--pass", "s3cret"),
    )
    server.start(timeout=20)
    try:
        yield server
    finally:
        server.stop()


async def test_user_and_password(secured_server: EmbeddedServer) -> None:
    url = secured_server.url
    options = {"user": "naq", "password": "s3cret"}
    async with Queue("auth", url, **options) as q, running_worker(url, "auth", **options):
        job = await q.enqueue(worker_tasks.add, 20, 22)
        assert await q.fetch_job_result(job, timeout=10) == 42


async def test_wrong_password_is_one_clear_error(secured_server: EmbeddedServer) -> None:
    q = Queue("auth", secured_server.url, user="naq", password="wrong", connect_timeout=2)
    with pytest.raises(NaqConnectionError) as info:
        await q.enqueue(worker_tasks.add, 1, 1)
    message = str(info.value)
    assert "refused the credentials" in message
    assert "wrong" not in message  # the secret is never echoed
