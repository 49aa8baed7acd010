"""pytest fixtures that run a real, private ``nats-server -js`` on a free loopback port.

Opt in from a ``conftest.py``::

    pytest_plugins = ["naq_core.testing.fixtures"]

The fixtures are synchronous, so they work with pytest-asyncio in any mode. Besides the
servers, ``child_processes`` starts commands (``naq`` itself, on a pseudo-terminal or not)
and stops them by pid after the test; see :mod:`naq_core.testing.process`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from naq_core.server import EmbeddedServer, free_port
from naq_core.testing.cluster import NatsCluster
from naq_core.testing.process import ChildProcesses

__all__ = [
    "child_processes",
    "fresh_nats_server",
    "nats_cluster",
    "nats_server",
    "nats_url",
    "start_test_server",
]

START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0


def start_test_server(
    directory: Path, *, port: int | None = None, extra_config: str | None = None
) -> EmbeddedServer:
    """Start a server keeping its JetStream data in ``directory/jetstream``.

    Its output goes to ``directory/nats-server.log``; ``port`` defaults to a free one.
    ``extra_config`` is nats-server configuration text (``authorization { ... }``, ``tls
    { ... }``, operator mode), written to ``directory/nats-server.conf`` and passed with
    ``-c``; the listen address, port and store directory stay those given here.
    """
    extra_args: tuple[str, ...] = ()
    if extra_config is not None:
        conf = directory / "nats-server.conf"
        conf.write_text(extra_config, encoding="utf-8")
        extra_args = ("-c", str(conf))
    server = EmbeddedServer(
        port=free_port() if port is None else port,
        store_dir=directory / "jetstream",
        log_file=directory / "nats-server.log",
        extra_args=extra_args,
    )
    server.start(timeout=START_TIMEOUT)
    return server


@contextmanager
def _running_server(directory: Path) -> Iterator[EmbeddedServer]:
    server = start_test_server(directory)
    try:
        yield server
    finally:
        server.stop(timeout=STOP_TIMEOUT)


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    """One JetStream-enabled server shared by the whole test session."""
    with _running_server(tmp_path_factory.mktemp("nats-server")) as server:
        yield server


@pytest.fixture
def nats_url(nats_server: EmbeddedServer) -> str:
    """``nats://127.0.0.1:PORT`` of the session server."""
    return nats_server.url


@pytest.fixture
def fresh_nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    """A private server for one test (free to stop and restart it); stopped afterwards."""
    with _running_server(tmp_path_factory.mktemp("fresh-nats-server")) as server:
        yield server


@pytest.fixture
def nats_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsCluster]:
    """A fresh 3-node JetStream cluster on loopback for one test (``.urls`` for ``nats_url``,
    ``.kill(name)`` / ``.restart(name)`` by pid); every node stopped afterwards."""
    with NatsCluster(directory=tmp_path_factory.mktemp("nats-cluster")) as cluster:
        yield cluster


@pytest.fixture
def child_processes() -> Iterator[ChildProcesses]:
    """Start children with ``.pty(argv, ...)`` or ``.start(argv, ...)``; all stopped by pid after."""
    with ChildProcesses() as children:
        yield children
